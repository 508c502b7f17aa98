import assert from "node:assert/strict";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LOCAL_AWS_CREDENTIALS } from "../../../functions/aws/adapters";
import { buildApiHandler, handler } from "../../../functions/aws/api";
import { provisionAws, startDynamo, startS3, type DynamoEmulator, type S3Emulator } from "../../../local/emulators";

describe("functions/aws/api: the Lambda entry", () => {
  it("answers a coded 500 without details when its environment is incomplete", async () => {
    const saved = { ...process.env };
    for (const name of ["UPLOADS_BUCKET", "RENDITIONS_BUCKET", "JOBS_TABLE", "TOPIC_ARN", "API_SETTINGS"]) delete process.env[name];
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => logged.push(line);
    try {
      const event = { version: "2.0", routeKey: "$default", rawPath: "/uploads", rawQueryString: "", headers: {}, requestContext: { http: { method: "POST", path: "/uploads" } }, isBase64Encoded: false };

      const response = (await handler(event as never, {} as never)) as { statusCode: number; body: string };
      const body = JSON.parse(response.body) as { code: string; message: string; requestId: string };

      assert.equal(response.statusCode, 500);
      assert.equal(body.code, "INTERNAL");
      assert.doesNotMatch(body.message, /UPLOADS_BUCKET/);
      assert.equal(logged.length, 1);
      assert.match(logged[0], /UPLOADS_BUCKET/);
      assert.match(logged[0], new RegExp(body.requestId));
    } finally {
      console.error = original;
      process.env = saved;
    }
  });

  describe("per-caller limits over the stack's DynamoDB table (s3rver and dynalite)", () => {
    let s3: S3Emulator;
    let dynamo: DynamoEmulator;
    let env: NodeJS.ProcessEnv;
    const names = { uploadsBucket: "uploads", renditionsBucket: "renditions", tableName: "jobs" };

    before(async () => {
      [s3, dynamo] = await Promise.all([startS3(), startDynamo()]);
      await provisionAws({ s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, ...names });
      const client = new DynamoDBClient({ region: "us-east-1", endpoint: dynamo.endpoint, credentials: LOCAL_AWS_CREDENTIALS });
      await client.send(new CreateTableCommand({ TableName: "rate-limits", AttributeDefinitions: [{ AttributeName: "counterId", AttributeType: "S" }], KeySchema: [{ AttributeName: "counterId", KeyType: "HASH" }], BillingMode: "PAY_PER_REQUEST" }));
      client.destroy();
      env = {
        UPLOADS_BUCKET: names.uploadsBucket,
        RENDITIONS_BUCKET: names.renditionsBucket,
        JOBS_TABLE: names.tableName,
        TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:events",
        API_SETTINGS: JSON.stringify({ auth: "none", rateLimit: { requestsPerMinute: 2 } }),
        RATE_LIMIT_TABLE: "rate-limits",
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_MAX_ATTEMPTS: "1",
      };
    });

    after(async () => {
      await Promise.all([s3?.stop(), dynamo?.stop()]);
    });

    /** A payload v2 event as API Gateway sends it, with the connection's address and a header claiming another. */
    const event = (sourceIp: string) => ({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/jobs/0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11",
      rawQueryString: "",
      headers: { "x-forwarded-for": "192.0.2.1" },
      requestContext: { http: { method: "GET", path: "/jobs/0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11", sourceIp }, requestId: "r1" },
      isBase64Encoded: false,
    });

    it("counts each client address API Gateway saw, across handler instances, whatever X-Forwarded-For claims", async () => {
      // The store's windows are whole minutes of the clock: start well inside one.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
      const first = buildApiHandler(env);
      const second = buildApiHandler(env);
      const call = async (h: ReturnType<typeof buildApiHandler>, ip: string) => (await h(event(ip) as never, {} as never)) as { statusCode: number; headers: Record<string, string>; body: string };

      const statuses = [(await call(first, "203.0.113.9")).statusCode, (await call(second, "203.0.113.9")).statusCode];
      const refused = await call(first, "203.0.113.9");
      const other = await call(second, "198.51.100.7");

      assert.deepEqual(statuses, [404, 404]);
      assert.equal(refused.statusCode, 429);
      assert.equal((JSON.parse(refused.body) as { code: string }).code, "RATE_LIMITED");
      assert.match(refused.headers["retry-after"], /^[1-9]\d*$/);
      assert.equal(other.statusCode, 404);
    });

    it("refuses to start without the rate-limit table (the handler then answers its coded 500)", () => {
      assert.throws(() => buildApiHandler({ ...env, RATE_LIMIT_TABLE: "" }), { code: "CONFIG_INVALID", message: /RATE_LIMIT_TABLE/ });
    });
  });
});
