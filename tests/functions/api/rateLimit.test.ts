import assert from "node:assert/strict";
import { MemoryStore, type Store } from "hono-rate-limiter";
import { localTestIssuer, type LocalTestIssuer } from "../../helpers/testIssuer";
import { createApiApp, type ApiDependencies } from "../../../functions/api/app";
import { createAuthenticator } from "../../../functions/api/auth";
import { callerKey, forwardedClientAddress } from "../../../functions/api/rateLimit";
import { apiSettingsSchema, type ApiSettingsInput } from "../../../functions/api/settings";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { memoryPorts } from "../../../local/memoryPorts";

const ISSUER = "https://issuer.test/";
const AUDIENCE = "image-pipeline-api";
const JWT = { jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: "https://issuer.test/jwks" } };
const SOME_UPLOAD = "0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11";

interface ErrorBody {
  code: string;
  message: string;
  requestId: string;
}

describe("functions/api/rateLimit", () => {
  describe("callerKey", () => {
    it("hashes the subject or address, so neither is stored, and keeps subjects and addresses apart", () => {
      const alice = callerKey("subject", "alice");

      assert.match(alice, /^s-[0-9a-f]{32}$/);
      assert.equal(alice.includes("alice"), false);
      assert.notEqual(alice, callerKey("subject", "bob"));
      assert.match(callerKey("ip", "203.0.113.9"), /^i-[0-9a-f]{32}$/);
      assert.notEqual(callerKey("ip", "alice").slice(2), alice.slice(2));
    });
  });

  describe("forwardedClientAddress", () => {
    it("takes the rightmost entry, the one the platform's front end appended, without its port", () => {
      assert.equal(forwardedClientAddress("198.51.100.7:52144"), "198.51.100.7");
      assert.equal(forwardedClientAddress("6.6.6.6, 198.51.100.7:52144"), "198.51.100.7");
      assert.equal(forwardedClientAddress("[2001:db8::1]:443"), "2001:db8::1");
      assert.equal(forwardedClientAddress("2001:db8::1"), "2001:db8::1");
      assert.equal(forwardedClientAddress(" 203.0.113.9 "), "203.0.113.9");
    });

    it("gives nothing for a missing or empty header", () => {
      assert.equal(forwardedClientAddress(undefined), undefined);
      assert.equal(forwardedClientAddress(null), undefined);
      assert.equal(forwardedClientAddress(""), undefined);
      assert.equal(forwardedClientAddress("1.2.3.4, "), undefined);
    });
  });

  describe("the API's per-caller limits", () => {
    let issuer: LocalTestIssuer;
    let authenticate: ReturnType<typeof createAuthenticator>;

    before(async () => {
      issuer = await localTestIssuer(ISSUER, AUDIENCE);
      authenticate = createAuthenticator(JWT, issuer.keySet);
    });

    const token = (sub: string) => issuer.token(sub);

    function setup(api: ApiSettingsInput, overrides: Partial<ApiDependencies> = {}) {
      const logs: Record<string, unknown>[] = [];
      const app = createApiApp({
        ports: memoryPorts(),
        signer: { signUpload: async () => ({ method: "POST", url: "https://uploads.test/", fields: {} }), signDownload: async (key) => `https://signed.test/${key}` },
        options: defaultProcessingOptions(),
        settings: apiSettingsSchema.parse(api),
        authenticate,
        erase: async () => undefined,
        streaming: false,
        log: (entry) => logs.push(entry),
        // Tests name the client's address in a header; the hosts read it from the platform (functions/*/api.ts).
        clientIp: (c) => c.req.header("x-test-client-ip"),
        ...overrides,
      });
      const call = async (method: string, path: string, caller: { sub?: string; ip?: string } = {}, body?: unknown) => {
        const headers: Record<string, string> = {};
        if (caller.sub) headers.authorization = `Bearer ${await token(caller.sub)}`;
        if (caller.ip) headers["x-test-client-ip"] = caller.ip;
        if (body !== undefined) headers["content-type"] = "application/json";
        return app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      };
      return { app, call, logs };
    }

    it("answers a JWT subject's request over the limit with RATE_LIMITED, Retry-After and the RateLimit headers, and still serves another subject", async () => {
      const { call } = setup({ auth: JWT, rateLimit: { requestsPerMinute: 3 } });

      const served = [];
      for (let i = 0; i < 3; i += 1) served.push(await call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "alice" }));
      const refused = await call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "alice" });
      const other = await call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "bob" });

      assert.deepEqual(served.map((r) => r.status), [404, 404, 404]);
      assert.deepEqual(served.map((r) => r.headers.get("ratelimit-remaining")), ["2", "1", "0"]);
      assert.equal(served[0].headers.get("ratelimit-limit"), "3");
      assert.equal(served[0].headers.get("ratelimit-policy"), "3;w=60");
      assert.equal(refused.status, 429);
      const body = (await refused.json()) as ErrorBody;
      assert.equal(body.code, "RATE_LIMITED");
      assert.match(body.message, /at most 3 requests a minute per caller; retry in \d+ s\./);
      assert.notEqual(body.requestId, "");
      const retryAfter = Number(refused.headers.get("retry-after"));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers.get("retry-after")}`);
      assert.equal(refused.headers.get("ratelimit-remaining"), "0");
      assert.equal(other.status, 404);
    });

    it("counts uploads on their own hourly limit, and only POST /uploads", async () => {
      const { call } = setup({ auth: JWT, rateLimit: { requestsPerMinute: 100, uploadsPerHour: 2 } });
      const image = { filename: "cat.jpg", contentType: "image/jpeg", bytes: 1000 };

      const first = await call("POST", "/uploads", { sub: "alice" }, image);
      const second = await call("POST", "/uploads", { sub: "alice" }, image);
      const third = await call("POST", "/uploads", { sub: "alice" }, image);
      const status = await call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "alice" });
      const bobs = await call("POST", "/uploads", { sub: "bob" }, image);

      assert.deepEqual([first.status, second.status, third.status], [201, 201, 429]);
      assert.match(((await third.json()) as ErrorBody).message, /^Too many uploads: at most 2 uploads an hour per caller/);
      assert.ok(Number(third.headers.get("retry-after")) > 60, "the upload window is an hour");
      assert.equal(status.status, 404);
      assert.equal(bobs.status, 201);
    });

    it("counts a POST /uploads once", async () => {
      const { call } = setup({ auth: JWT, rateLimit: { requestsPerMinute: 2 } });
      const image = { filename: "cat.jpg", contentType: "image/jpeg", bytes: 1000 };

      const first = await call("POST", "/uploads", { sub: "alice" }, image);
      const second = await call("POST", "/uploads", { sub: "alice" }, image);

      assert.deepEqual([first.status, second.status], [201, 201]);
      assert.deepEqual([first.headers.get("ratelimit-remaining"), second.headers.get("ratelimit-remaining")], ["1", "0"]);
    });

    it("with auth none, tells callers apart by the address the host reports", async () => {
      const { call } = setup({ auth: "none", rateLimit: { requestsPerMinute: 2 } }, { authenticate: undefined });

      const statuses = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await call("GET", `/jobs/${SOME_UPLOAD}`, { ip: "203.0.113.9" })).status);
      const other = await call("GET", `/jobs/${SOME_UPLOAD}`, { ip: "198.51.100.7" });

      assert.deepEqual(statuses, [404, 404, 429]);
      assert.equal(other.status, 404);
    });

    it("counts a caller across app instances that share a store", async () => {
      const shared = new MemoryStore();
      const one = setup({ auth: JWT, rateLimit: { requestsPerMinute: 2 } }, { rateLimitStore: () => shared });
      const two = setup({ auth: JWT, rateLimit: { requestsPerMinute: 2 } }, { rateLimitStore: () => shared });

      await one.call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "alice" });
      await two.call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "alice" });
      const third = await one.call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "alice" });

      assert.equal(third.status, 429);
    });

    it("lets requests through with a logged warning, and no RateLimit headers, when the store fails", async () => {
      const broken: Store = {
        increment: async () => {
          throw new Error("ProvisionedThroughputExceededException: slow down");
        },
        decrement: async () => undefined,
        resetKey: async () => undefined,
      };
      const { call, logs } = setup({ auth: JWT, rateLimit: { requestsPerMinute: 1 } }, { rateLimitStore: () => broken });

      const first = await call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "alice" });
      const second = await call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "alice" });

      assert.deepEqual([first.status, second.status], [404, 404]);
      assert.equal(first.headers.get("ratelimit-limit"), null);
      assert.equal(first.headers.get("ratelimit-remaining"), null);
      assert.equal(logs.length, 2);
      assert.equal(logs[0].level, "warn");
      assert.match(String(logs[0].error), /ProvisionedThroughputExceededException/);
    });

    it("counts no request refused before the caller is known (401), and not the OpenAPI document", async () => {
      const { call } = setup({ auth: JWT, rateLimit: { requestsPerMinute: 1 } });

      const unauthenticated = await call("GET", `/jobs/${SOME_UPLOAD}`);
      const documents = [await call("GET", "/openapi.json"), await call("GET", "/openapi.json")];
      const first = await call("GET", `/jobs/${SOME_UPLOAD}`, { sub: "alice" });

      assert.equal(unauthenticated.status, 401);
      assert.deepEqual(documents.map((r) => r.status), [200, 200]);
      assert.equal(first.status, 404);
    });

    it("documents RATE_LIMITED (429) with Retry-After on every route of the OpenAPI document", async () => {
      const { call } = setup({ auth: JWT });

      const document = (await (await call("GET", "/openapi.json")).json()) as { paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown>; description: string }> }>> };

      for (const [path, operations] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const tooMany = operation.responses["429"];
          assert.ok(tooMany, `${method} ${path} documents 429`);
          assert.match(tooMany.description, /RATE_LIMITED/);
          assert.ok(tooMany.headers?.["Retry-After"], `${method} ${path} documents Retry-After`);
        }
      }
    });
  });
});
