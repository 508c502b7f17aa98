import assert from "node:assert/strict";
import { handler } from "../../../functions/aws/api";

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
});
