import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ClientRateLimitInfo, HonoConfigType, Store } from "hono-rate-limiter";
import { fixedWindow } from "../api/rateLimit";
import { RATE_LIMIT_TABLE_KEY, RATE_LIMIT_TABLE_TTL_ATTRIBUTE } from "./contract";

/**
 * The API's per-caller counters in a DynamoDB table (components/aws/api.ts creates it): one
 * item per caller and fixed window, `counterId` = `<caller key>#<window start ms>`, counted by
 * one UpdateItem `ADD` that returns the new count. DynamoDB applies each UpdateItem atomically
 * and in order, so concurrent increments from every Lambda instance count exactly
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.AtomicCounters).
 * Items carry `expiresAt` (epoch seconds) for the table's TTL, which deletes them some time
 * after (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html); a window
 * never reads an old item, since its start is part of the key.
 */

/** Items stay this long past their window, so a late request of that window still finds its count. */
const EXPIRY_GRACE_SECONDS = 60;

export class DynamoRateLimitStore implements Store {
  private windowMs = 60_000;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  init(options: Pick<HonoConfigType, "windowMs">): void {
    this.windowMs = options.windowMs;
  }

  /** The current window's item: its key and when the window ends. */
  private windowOf(key: string): { counterId: string; end: number } {
    const { start, end } = fixedWindow(this.now(), this.windowMs);
    return { counterId: `${key}#${start}`, end };
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const { counterId, end } = this.windowOf(key);
    const output = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [RATE_LIMIT_TABLE_KEY]: { S: counterId } },
        UpdateExpression: `SET ${RATE_LIMIT_TABLE_TTL_ATTRIBUTE} = if_not_exists(${RATE_LIMIT_TABLE_TTL_ATTRIBUTE}, :expires) ADD hits :one`,
        ExpressionAttributeValues: { ":one": { N: "1" }, ":expires": { N: String(Math.ceil(end / 1000) + EXPIRY_GRACE_SECONDS) } },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    const hits = Number(output.Attributes?.hits?.N);
    if (!Number.isInteger(hits) || hits < 1) throw new Error(`DynamoDB returned no count for ${counterId} in ${this.tableName}.`);
    return { totalHits: hits, resetTime: new Date(end) };
  }

  /** Gives one hit back in the current window, never below zero and never creating an item. */
  async decrement(key: string): Promise<void> {
    await this.update(key, "ADD hits :minusOne", "hits > :zero", { ":minusOne": { N: "-1" }, ":zero": { N: "0" } });
  }

  /** Starts the caller's current window again (an update too: the API's role may only UpdateItem). */
  async resetKey(key: string): Promise<void> {
    await this.update(key, "SET hits = :zero", "attribute_exists(hits)", { ":zero": { N: "0" } });
  }

  private async update(key: string, expression: string, condition: string, values: Record<string, { N: string }>): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({ TableName: this.tableName, Key: { [RATE_LIMIT_TABLE_KEY]: { S: this.windowOf(key).counterId } }, UpdateExpression: expression, ConditionExpression: condition, ExpressionAttributeValues: values }),
      );
    } catch (thrown) {
      if (!(thrown instanceof ConditionalCheckFailedException)) throw thrown;
    }
  }
}
