import type { TableClient } from "@azure/data-tables";
import type { ClientRateLimitInfo, HonoConfigType, Store } from "hono-rate-limiter";
import { fixedWindow } from "../api/rateLimit";

/**
 * The API's per-caller counters in an Azure Table of the pipeline's storage account
 * (components/azure/api.ts creates it). Table storage has no atomic increment, so each count
 * is a read and a conditional write: an update sends the ETag it read in `If-Match` and fails
 * with 412 when another instance wrote in between; an insert fails with 409 when another
 * instance created the entity first (https://learn.microsoft.com/rest/api/storageservices/update-entity2,
 * https://learn.microsoft.com/rest/api/storageservices/insert-entity); either way the count is
 * read again and retried, so concurrent increments count exactly.
 * Table storage has no TTL: one entity per caller and limit holds its current window's start
 * and hits, and a new window overwrites it, so the table grows with callers, not with time.
 */

/** Every counter entity's row key (the partition key is the caller's counter key). */
export const RATE_LIMIT_ROW_KEY = "window";
/** Rounds of read and conditional write before giving up (the app then lets the request through). */
const MAX_ATTEMPTS = 30;

interface CounterEntity {
  partitionKey: string;
  rowKey: string;
  /** Epoch milliseconds, as text: beyond Int32, and an exact match is all that is needed. */
  windowStart: string;
  hits: number;
}

function statusOf(thrown: unknown): number | undefined {
  return (thrown as { statusCode?: number } | undefined)?.statusCode;
}

export class TableRateLimitStore implements Store {
  private windowMs = 60_000;

  constructor(
    private readonly table: TableClient,
    private readonly now: () => number = Date.now,
    private readonly pause: (attempt: number) => Promise<void> = (attempt) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 5 * attempt))),
  ) {}

  init(options: Pick<HonoConfigType, "windowMs">): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    return this.change(key, (hits) => hits + 1, true);
  }

  /** Gives one hit back in the current window, never below zero. */
  async decrement(key: string): Promise<void> {
    await this.change(key, (hits) => Math.max(0, hits - 1), false);
  }

  /** Starts the caller's current window again. */
  async resetKey(key: string): Promise<void> {
    await this.change(key, () => 0, false);
  }

  /** Applies `next` to the current window's hits (0 in a new window) with optimistic concurrency. */
  private async change(key: string, next: (hits: number) => number, create: boolean): Promise<ClientRateLimitInfo> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const { start, end } = fixedWindow(this.now(), this.windowMs);
      const resetTime = new Date(end);
      const current = await this.table.getEntity<CounterEntity>(key, RATE_LIMIT_ROW_KEY).catch((thrown: unknown) => {
        if (statusOf(thrown) === 404) return undefined;
        throw thrown;
      });
      const sameWindow = current?.windowStart === String(start);
      const hits = next(sameWindow ? Number(current?.hits ?? 0) : 0);
      const entity: CounterEntity = { partitionKey: key, rowKey: RATE_LIMIT_ROW_KEY, windowStart: String(start), hits };
      try {
        if (!current) {
          if (!create) return { totalHits: 0, resetTime };
          await this.table.createEntity(entity);
        } else {
          await this.table.updateEntity(entity, "Replace", { etag: current.etag });
        }
        return { totalHits: hits, resetTime };
      } catch (thrown) {
        // Another instance wrote first: read its count and try again.
        if (statusOf(thrown) !== 409 && statusOf(thrown) !== 412) throw thrown;
        await this.pause(attempt);
      }
    }
    throw new Error(`The counter ${key} changed under every one of ${MAX_ATTEMPTS} attempts.`);
  }
}
