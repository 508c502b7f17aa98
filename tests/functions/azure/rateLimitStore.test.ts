import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { RATE_LIMIT_ROW_KEY, TableRateLimitStore } from "../../../functions/azure/rateLimitStore";
import { startAzurite, type AzuriteEmulator } from "../../../local/emulators";

describe("functions/azure/rateLimitStore against azurite", function () {
  this.timeout(60_000);
  let azurite: AzuriteEmulator;
  let table: TableClient;

  before(async () => {
    azurite = await startAzurite();
    table = TableClient.fromConnectionString(azurite.connectionString, "ratelimits", { allowInsecureConnection: true });
    await table.createTable();
  });

  after(async () => {
    await azurite?.stop();
  });

  const storeAt = (now: () => number, windowMs = 60_000) => {
    const store = new TableRateLimitStore(table, now);
    store.init({ windowMs });
    return store;
  };

  it("counts 20 parallel increments of one key exactly, each answered with its own new count", async () => {
    const store = storeAt(() => Date.parse("2026-11-29T22:00:10Z"));

    const results = await Promise.all(Array.from({ length: 20 }, () => store.increment("requests:s-alice")));

    assert.deepEqual(results.map((r) => r.totalHits).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(results[0].resetTime?.toISOString(), "2026-11-29T22:01:00.000Z");
    const entity = await table.getEntity<{ hits: number; windowStart: string }>("requests:s-alice", RATE_LIMIT_ROW_KEY);
    assert.deepEqual([entity.hits, entity.windowStart], [20, String(Date.parse("2026-11-29T22:00:00Z"))]);
  });

  it("starts again in the next window in the same entity, and keeps callers apart", async () => {
    let now = Date.parse("2026-11-29T23:00:01Z");
    const store = storeAt(() => now);
    await store.increment("requests:s-carol");
    await store.increment("requests:s-carol");

    now = Date.parse("2026-11-29T23:01:00Z");
    const next = await store.increment("requests:s-carol");
    const other = await store.increment("requests:s-dave");
    const entities = [];
    for await (const entity of table.listEntities({ queryOptions: { filter: "PartitionKey eq 'requests:s-carol'" } })) entities.push(entity);

    assert.deepEqual([next.totalHits, next.resetTime?.toISOString()], [1, "2026-11-29T23:02:00.000Z"]);
    assert.equal(other.totalHits, 1);
    assert.equal(entities.length, 1);
  });

  it("windows an hourly limit by the hour", async () => {
    const result = await storeAt(() => Date.parse("2026-11-29T23:59:59Z"), 3_600_000).increment("uploads:s-erin");

    assert.deepEqual([result.totalHits, result.resetTime?.toISOString()], [1, "2026-11-30T00:00:00.000Z"]);
  });

  it("gives a hit back without going below zero or creating an entity, and resets a key's window", async () => {
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
    await assert.rejects(table.getEntity("requests:s-nobody", RATE_LIMIT_ROW_KEY), { statusCode: 404 });
  });

  it("fails when the table is not there (the app then lets the request through)", async () => {
    const missing = TableClient.fromConnectionString(azurite.connectionString, "nosuchtable", { allowInsecureConnection: true });
    const store = new TableRateLimitStore(missing);
    store.init({ windowMs: 60_000 });

    await assert.rejects(store.increment("requests:s-alice"), { statusCode: 404 });
  });
});
