import assert from "node:assert/strict";
import type { Store } from "hono-rate-limiter";

/**
 * What every per-caller counter store promises the rate limiter (functions/api/rateLimit.ts):
 * the DynamoDB store against dynalite and the Table store against azurite. Call inside a
 * describe whose `before` has made the backend; each backend's own file adds what it stores.
 */
export interface RateLimitContract {
  /** A store whose clock reads `now()`, counting in windows of `windowMs`. */
  storeAt(now: () => number, windowMs?: number): Store;
  /** Nothing is stored for this key (a give-back on an unknown key must not create one). */
  assertNothingStoredFor(key: string, windowStart: number): Promise<void>;
}

export function rateLimitStoreContract(contract: RateLimitContract): void {
  const { storeAt } = contract;

  it("counts 20 parallel increments of one key exactly, each answered with its own new count", async () => {
    const store = storeAt(() => Date.parse("2026-11-29T22:00:10Z"));

    const results = await Promise.all(Array.from({ length: 20 }, () => store.increment("requests:s-alice")));

    assert.deepEqual(results.map((r) => r.totalHits).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(results[0].resetTime?.toISOString(), "2026-11-29T22:01:00.000Z");
  });

  it("starts again in the next window and keeps callers apart", async () => {
    let now = Date.parse("2026-11-29T23:00:01Z");
    const store = storeAt(() => now);
    await store.increment("requests:s-carol");
    now = Date.parse("2026-11-29T23:00:59Z");
    const sameWindow = await store.increment("requests:s-carol");

    now = Date.parse("2026-11-29T23:01:00Z");
    const next = await store.increment("requests:s-carol");
    const other = await store.increment("requests:s-dave");

    assert.equal(sameWindow.totalHits, 2);
    assert.deepEqual([next.totalHits, next.resetTime?.toISOString()], [1, "2026-11-29T23:02:00.000Z"]);
    assert.equal(other.totalHits, 1);
  });

  it("windows an hourly limit by the hour", async () => {
    const result = await storeAt(() => Date.parse("2026-11-29T23:59:59Z"), 3_600_000).increment("uploads:s-erin");

    assert.deepEqual([result.totalHits, result.resetTime?.toISOString()], [1, "2026-11-30T00:00:00.000Z"]);
  });

  it("gives a hit back without going below zero or storing anything for an unknown key, and resets a key's window", async () => {
    const store = storeAt(() => Date.parse("2026-11-29T21:00:00Z"));
    await store.increment("requests:s-frank");
    await store.increment("requests:s-frank");

    await store.decrement("requests:s-frank");
    const afterDecrement = await store.increment("requests:s-frank");
    await store.resetKey("requests:s-frank");
    const afterReset = await store.increment("requests:s-frank");
    await store.decrement("requests:s-nobody");

    assert.equal(afterDecrement.totalHits, 2);
    assert.equal(afterReset.totalHits, 1);
    await contract.assertNothingStoredFor("requests:s-nobody", Date.parse("2026-11-29T21:00:00Z"));
  });
}
