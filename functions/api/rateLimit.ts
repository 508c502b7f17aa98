import { createHash } from "node:crypto";
import type { Context, Env, MiddlewareHandler } from "hono";
import { MemoryStore, rateLimiter, type RateLimitInfo, type Store } from "hono-rate-limiter";
import { ApiError } from "./errors";
import type { RateLimitSettings } from "./settings";

/**
 * Per-caller rate limits with hono-rate-limiter: fixed windows counted in a store that the
 * host chooses (a DynamoDB table on AWS, an Azure Table on Azure, memory locally), so every
 * instance of a deployment counts the same caller together. A caller over its limit gets
 * `RATE_LIMITED` (429) with `Retry-After`; a store that fails lets the request through and
 * logs a warning (the hosts' own throttling stays the backstop), because a counter outage
 * must not take the API down with it.
 */

/** The fixed window `now` falls in (epoch ms), as the shared counter stores (DynamoDB, Table) count it. */
export function fixedWindow(now: number, windowMs: number): { start: number; end: number } {
  const start = Math.floor(now / windowMs) * windowMs;
  return { start, end: start + windowMs };
}

/** Makes one store per limit: the middleware gives each its own window (`init({ windowMs })`). */
export type RateLimitStoreFactory = () => Store;

/** Counts in this process only: the local server, and tests. */
export const memoryRateLimitStore: RateLimitStoreFactory = () => new MemoryStore();

/** The windows of the two limits, in milliseconds. */
export const RATE_LIMIT_WINDOWS = { requests: 60_000, uploads: 3_600_000 } as const;

export type RateLimitName = keyof typeof RATE_LIMIT_WINDOWS;

/**
 * The counter key of a caller: a hash, so neither subjects nor IP addresses are stored.
 *
 * @example callerKey("subject", "alice") // "s-" + 32 hex characters
 */
export function callerKey(kind: "subject" | "ip", value: string | undefined): string {
  const digest = createHash("sha256").update(`image-pipeline:caller:${kind}:${value ?? "unknown"}`).digest("hex").slice(0, 32);
  return `${kind === "subject" ? "s" : "i"}-${digest}`;
}

/**
 * The client address in an `X-Forwarded-For` chain as the last proxy saw it: its rightmost
 * entry (the one the platform's front end appended; entries to its left are the client's own
 * claims), without a port. `undefined` when the header is missing or empty.
 *
 * @example forwardedClientAddress("203.0.113.9, 198.51.100.7:52144") // "198.51.100.7"
 */
export function forwardedClientAddress(header: string | null | undefined): string | undefined {
  const last = header?.split(",").at(-1)?.trim();
  if (!last) return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(last);
  if (bracketed) return bracketed[1];
  // One colon: IPv4 with a port; more: a bare IPv6 address, kept whole.
  return /^[^:]+:\d+$/.test(last) ? last.slice(0, last.lastIndexOf(":")) : last;
}

/**
 * `store`, letting requests through when it fails: `increment` then answers 0 hits (a real
 * count is never 0) and the failure is logged as a warning.
 */
export function failOpen(store: Store, name: RateLimitName, log: (entry: Record<string, unknown>) => void): Store {
  return {
    init: store.init?.bind(store),
    get: store.get?.bind(store),
    increment: async (key) => {
      try {
        return await store.increment(key);
      } catch (thrown) {
        log({ level: "warn", message: `rate limit store failed; the request is let through (${name} limit not applied)`, limit: name, error: thrown instanceof Error ? thrown.message : String(thrown) });
        return { totalHits: 0, resetTime: undefined };
      }
    },
    decrement: async (key) => {
      await Promise.resolve(store.decrement(key)).catch(() => undefined);
    },
    resetKey: async (key) => {
      await Promise.resolve(store.resetKey(key)).catch(() => undefined);
    },
    shutdown: store.shutdown?.bind(store),
    localKeys: store.localKeys,
  };
}

const STANDARD_HEADERS = ["RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"];

export interface PerCallerLimitOptions<E extends Env> {
  name: RateLimitName;
  limit: number;
  store: Store;
  /** The caller's counter key (callerKey), known once the caller is authenticated. */
  keyOf: (c: Context<E>) => string;
  /** Requests this limit does not count (e.g. every method but POST for uploads). */
  skip?: (c: Context<E>) => boolean;
  log: (entry: Record<string, unknown>) => void;
}

/**
 * One limit as middleware: `RateLimit-*` headers (IETF draft 6) on every counted answer, and
 * `RATE_LIMITED` with `Retry-After` (whole seconds, at least 1) over the limit.
 *
 * @throws {ApiError} RATE_LIMITED, turned into the API's JSON error by its error handler.
 */
export function perCallerLimit<E extends Env>(options: PerCallerLimitOptions<E>): MiddlewareHandler<E> {
  const { name, limit, store, keyOf, skip, log } = options;
  const windowMs = RATE_LIMIT_WINDOWS[name];
  const property = `rateLimit.${name}`;
  const infoOf = (c: Context<E>) => (c.get as (key: string) => unknown)(property) as RateLimitInfo | undefined;
  const per = name === "requests" ? "requests a minute" : "uploads an hour";
  const limiter = rateLimiter<E>({
    windowMs,
    limit,
    standardHeaders: "draft-6",
    requestPropertyName: property,
    requestStorePropertyName: `${property}.store`,
    // Stores count keys only; the environment type of the middleware does not reach them.
    store: failOpen(store, name, log) as unknown as Store<E>,
    keyGenerator: (c) => `${name}:${keyOf(c)}`,
    skip: (c) => skip?.(c) ?? false,
    handler: (c) => {
      const resetAt = infoOf(c)?.resetTime?.getTime() ?? Date.now() + windowMs;
      const retryAfter = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
      c.header("Retry-After", String(retryAfter));
      throw new ApiError("RATE_LIMITED", `Too many ${name === "requests" ? "requests" : "uploads"}: at most ${limit} ${per} per caller; retry in ${retryAfter} s.`, { limit, retryAfter });
    },
  });
  return async (c, next) => {
    await limiter(c, next);
    // The store failed: the headers would claim a full allowance nobody counted.
    if (infoOf(c)?.used === 0) for (const header of STANDARD_HEADERS) c.res.headers.delete(header);
  };
}

/** The configured limits, in the order they apply: requests, then uploads (POST /uploads) when set. */
export function perCallerLimits<E extends Env>(
  settings: RateLimitSettings,
  options: { stores: RateLimitStoreFactory; keyOf: (c: Context<E>) => string; log: (entry: Record<string, unknown>) => void },
): { requests: MiddlewareHandler<E>; uploads?: MiddlewareHandler<E> } {
  const { stores, keyOf, log } = options;
  return {
    requests: perCallerLimit<E>({ name: "requests", limit: settings.requestsPerMinute, store: stores(), keyOf, log }),
    ...(settings.uploadsPerHour !== undefined
      ? { uploads: perCallerLimit<E>({ name: "uploads", limit: settings.uploadsPerHour, store: stores(), keyOf, log, skip: (c) => c.req.method !== "POST" }) }
      : {}),
  };
}
