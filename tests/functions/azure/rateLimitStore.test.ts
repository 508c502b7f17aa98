import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { RATE_LIMIT_ROW_KEY, TableRateLimitStore } from "../../../functions/azure/rateLimitStore";
import { startAzurite, type AzuriteEmulator } from "../../../local/emulators";
import { rateLimitStoreContract } from "../../helpers/rateLimitContract";

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

  rateLimitStoreContract({
    storeAt,
    assertNothingStoredFor: (key) => assert.rejects(table.getEntity(key, RATE_LIMIT_ROW_KEY), { statusCode: 404 }),
  });

  it("keeps one entity per caller, its count and window start updated in place across windows", async () => {
    let now = Date.parse("2026-11-29T20:00:10Z");
    const store = storeAt(() => now);
    await Promise.all(Array.from({ length: 5 }, () => store.increment("requests:s-gina")));
    const first = await table.getEntity<{ hits: number; windowStart: string }>("requests:s-gina", RATE_LIMIT_ROW_KEY);

    now = Date.parse("2026-11-29T20:01:05Z");
    await store.increment("requests:s-gina");
    const entities = [];
    for await (const entity of table.listEntities<{ hits: number; windowStart: string }>({ queryOptions: { filter: "PartitionKey eq 'requests:s-gina'" } })) entities.push(entity);

    assert.deepEqual([first.hits, first.windowStart], [5, String(Date.parse("2026-11-29T20:00:00Z"))]);
    assert.deepEqual(
      entities.map((entity) => [entity.hits, entity.windowStart]),
      [[1, String(Date.parse("2026-11-29T20:01:00Z"))]],
    );
  });

  it("fails when the table is not there (the app then lets the request through)", async () => {
    const missing = TableClient.fromConnectionString(azurite.connectionString, "nosuchtable", { allowInsecureConnection: true });
    const store = new TableRateLimitStore(missing);
    store.init({ windowMs: 60_000 });

    await assert.rejects(store.increment("requests:s-alice"), { statusCode: 404 });
  });
});
