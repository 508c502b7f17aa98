import assert from "node:assert/strict";
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { LOCAL_AWS_CREDENTIALS } from "../../../functions/aws/adapters";
import { DynamoRateLimitStore } from "../../../functions/aws/rateLimitStore";
import { startDynamo, type DynamoEmulator } from "../../../local/emulators";

describe("functions/aws/rateLimitStore against dynalite", () => {
  let dynamo: DynamoEmulator;
  let client: DynamoDBClient;
  const table = "rate-limits";

  before(async () => {
    dynamo = await startDynamo();
    client = new DynamoDBClient({ region: "us-east-1", endpoint: dynamo.endpoint, credentials: LOCAL_AWS_CREDENTIALS, maxAttempts: 1 });
    await client.send(
      new CreateTableCommand({ TableName: table, AttributeDefinitions: [{ AttributeName: "counterId", AttributeType: "S" }], KeySchema: [{ AttributeName: "counterId", KeyType: "HASH" }], BillingMode: "PAY_PER_REQUEST" }),
    );
  });

  after(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  const storeAt = (now: number, windowMs = 60_000) => {
    const store = new DynamoRateLimitStore(client, table, () => now);
    store.init({ windowMs });
    return store;
  };

  it("counts 20 parallel increments of one key exactly, each answered with its own new count", async () => {
    const store = storeAt(Date.parse("2026-11-29T22:00:10Z"));

    const results = await Promise.all(Array.from({ length: 20 }, () => store.increment("requests:s-alice")));

    assert.deepEqual(results.map((r) => r.totalHits).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(results[0].resetTime?.toISOString(), "2026-11-29T22:01:00.000Z");
  });

  it("keeps one item per caller and window, stamped for TTL a minute after the window ends", async () => {
    const store = storeAt(Date.parse("2026-11-29T22:05:30Z"));

    await store.increment("requests:s-bob");
    const item = await client.send(new GetItemCommand({ TableName: table, Key: { counterId: { S: `requests:s-bob#${Date.parse("2026-11-29T22:05:00Z")}` } } }));

    assert.equal(item.Item?.hits?.N, "1");
    assert.equal(item.Item?.expiresAt?.N, String(Date.parse("2026-11-29T22:07:00Z") / 1000));
  });

  it("starts again in the next window and keeps callers apart", async () => {
    await storeAt(Date.parse("2026-11-29T23:00:01Z")).increment("requests:s-carol");
    await storeAt(Date.parse("2026-11-29T23:00:59Z")).increment("requests:s-carol");

    const next = await storeAt(Date.parse("2026-11-29T23:01:00Z")).increment("requests:s-carol");
    const other = await storeAt(Date.parse("2026-11-29T23:00:30Z")).increment("requests:s-dave");

    assert.equal(next.totalHits, 1);
    assert.equal(next.resetTime?.toISOString(), "2026-11-29T23:02:00.000Z");
    assert.equal(other.totalHits, 1);
  });

  it("windows an hourly limit by the hour", async () => {
    const result = await storeAt(Date.parse("2026-11-29T23:59:59Z"), 3_600_000).increment("uploads:s-erin");

    assert.deepEqual([result.totalHits, result.resetTime?.toISOString()], [1, "2026-11-30T00:00:00.000Z"]);
  });

  it("gives a hit back without going below zero or creating an item, and resets a key's window", async () => {
    const store = storeAt(Date.parse("2026-11-29T21:00:00Z"));
    await store.increment("requests:s-frank");
    await store.increment("requests:s-frank");

    await store.decrement("requests:s-frank");
    const afterDecrement = await store.increment("requests:s-frank");
    await store.resetKey("requests:s-frank");
    const afterReset = await store.increment("requests:s-frank");
    await store.decrement("requests:s-nobody");
    const nobody = await client.send(new GetItemCommand({ TableName: table, Key: { counterId: { S: `requests:s-nobody#${Date.parse("2026-11-29T21:00:00Z")}` } } }));

    assert.equal(afterDecrement.totalHits, 2);
    assert.equal(afterReset.totalHits, 1);
    assert.equal(nobody.Item, undefined);
  });

  it("fails when the table is not there (the app then lets the request through)", async () => {
    const store = new DynamoRateLimitStore(client, "no-such-table");
    store.init({ windowMs: 60_000 });

    await assert.rejects(store.increment("requests:s-alice"), { name: "ResourceNotFoundException" });
  });
});
