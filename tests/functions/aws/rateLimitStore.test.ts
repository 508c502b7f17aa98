import assert from "node:assert/strict";
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { LOCAL_AWS_CREDENTIALS } from "../../../functions/aws/adapters";
import { DynamoRateLimitStore } from "../../../functions/aws/rateLimitStore";
import { startDynamo, type DynamoEmulator } from "../../../local/emulators";
import { rateLimitStoreContract } from "../../helpers/rateLimitContract";

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

  const storeAt = (now: () => number, windowMs = 60_000) => {
    const store = new DynamoRateLimitStore(client, table, now);
    store.init({ windowMs });
    return store;
  };
  const itemOf = (key: string, windowStart: number) => client.send(new GetItemCommand({ TableName: table, Key: { counterId: { S: `${key}#${windowStart}` } } }));

  rateLimitStoreContract({
    storeAt,
    assertNothingStoredFor: async (key, windowStart) => assert.equal((await itemOf(key, windowStart)).Item, undefined),
  });

  it("keeps one item per caller and window, stamped for TTL a minute after the window ends", async () => {
    const store = storeAt(() => Date.parse("2026-11-29T22:05:30Z"));

    await store.increment("requests:s-bob");
    const item = await itemOf("requests:s-bob", Date.parse("2026-11-29T22:05:00Z"));

    assert.equal(item.Item?.hits?.N, "1");
    assert.equal(item.Item?.expiresAt?.N, String(Date.parse("2026-11-29T22:07:00Z") / 1000));
  });

  it("fails when the table is not there (the app then lets the request through)", async () => {
    const store = new DynamoRateLimitStore(client, "no-such-table");
    store.init({ windowMs: 60_000 });

    await assert.rejects(store.increment("requests:s-alice"), { name: "ResourceNotFoundException" });
  });
});
