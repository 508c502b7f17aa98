import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { HttpRequest, InvocationContext } from "@azure/functions";
import { Hono } from "hono";
import { buildApiFetch, clientAddressOf, frontDoorGate, httpHandler, toFetchRequest, toResponseInit } from "../../../functions/azure/api";
import { provisionAzure, startAzurite, type AzuriteEmulator } from "../../../local/emulators";

describe("functions/azure/api: the HTTP function's bridge to the app", () => {
  it("hands the app the request's URL, method, headers and body, and the host the app's status, headers and body", async () => {
    const request = new HttpRequest({ url: "https://app.azurewebsites.net/api/uploads?x=1", method: "POST", headers: { "content-type": "application/json", authorization: "Bearer t" }, body: { string: '{"a":1}' } });
    let seen: { url: string; method: string; auth: string | null; body: string } | undefined;
    const handler = httpHandler(() => async (fetchRequest) => {
      seen = { url: fetchRequest.url, method: fetchRequest.method, auth: fetchRequest.headers.get("authorization"), body: await fetchRequest.text() };
      return new Response('{"ok":true}', { status: 201, headers: { "content-type": "application/json", etag: 'W/"1"' } });
    });

    const response = await handler(request, new InvocationContext({ invocationId: "inv-1" }));

    assert.deepEqual(seen, { url: "https://app.azurewebsites.net/api/uploads?x=1", method: "POST", auth: "Bearer t", body: '{"a":1}' });
    assert.equal(response.status, 201);
    assert.equal((response.headers as Record<string, string>).etag, 'W/"1"');
    assert.equal(Buffer.from(response.body as Uint8Array).toString(), '{"ok":true}');
  });

  it("sends no body for a GET", async () => {
    const fetchRequest = await toFetchRequest(new HttpRequest({ url: "https://h/api/jobs/1", method: "GET" }));

    assert.equal(fetchRequest.body, null);
    assert.equal((await toResponseInit(new Response(null, { status: 304 }))).status, 304);
  });

  it("answers a coded 500 naming the invocation when the app cannot be built from the settings", async () => {
    const errors: unknown[] = [];
    const context = new InvocationContext({ invocationId: "inv-2", logHandler: (level, ...args) => level === "error" && errors.push(args) });
    const handler = httpHandler(() => {
      throw new Error("JOBS_TABLE missing");
    });

    const response = await handler(new HttpRequest({ url: "https://h/api/uploads", method: "POST" }), context);

    assert.equal(response.status, 500);
    assert.deepEqual(response.jsonBody, { code: "INTERNAL", message: "The service is misconfigured; quote the requestId to its operators.", requestId: "inv-2" });
    assert.equal(errors.length, 1);
    assert.match(JSON.stringify(errors[0]), /JOBS_TABLE missing/);
  });

  it("takes the client's address from the rightmost X-Forwarded-For entry, the one the front end appended", () => {
    const request = new HttpRequest({ url: "https://h/api/jobs/1", method: "GET", headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.9:51234" } });

    assert.equal(clientAddressOf(request), "203.0.113.9");
    assert.equal(clientAddressOf(new HttpRequest({ url: "https://h/api/jobs/1", method: "GET" })), undefined);
  });

  it("admits only requests carrying the profile's X-Azure-FDID (any case), and reads the caller from X-Azure-SocketIP", async () => {
    const gate = frontDoorGate("5F0C2B1A-7D3E-4C6B-9A8F-1E2D3C4B5A69");
    const seen: Array<string | undefined> = [];
    const app = new Hono()
      .onError((thrown) => new Response((thrown as Error & { code?: string }).code ?? "?", { status: 418 }))
      .get("/", (c) => {
        gate.admit(c);
        seen.push(gate.clientIp(c));
        return c.text("ok");
      });
    const call = async (headers: Record<string, string>) => {
      const response = await app.request("/", { headers });
      return `${response.status} ${await response.text()}`;
    };

    assert.equal(await call({ "x-azure-fdid": "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69", "x-azure-socketip": "203.0.113.9", "x-azure-clientip": "10.9.9.9" }), "200 ok");
    assert.equal(await call({ "x-azure-fdid": "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a70", "x-azure-socketip": "203.0.113.9" }), "418 FRONT_DOOR_REQUIRED");
    assert.equal(await call({ "x-azure-socketip": "203.0.113.9" }), "418 FRONT_DOOR_REQUIRED");
    assert.deepEqual(seen, ["203.0.113.9"]);
  });

  describe("per-caller limits over the storage account's rate-limit table (azurite)", function () {
    this.timeout(60_000);
    let azurite: AzuriteEmulator;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      azurite = await startAzurite();
      await provisionAzure({ connectionString: azurite.connectionString, tableName: "jobs" });
      await TableClient.fromConnectionString(azurite.connectionString, "apiratelimits", { allowInsecureConnection: true }).createTable();
      env = {
        STORAGE_CONNECTION_STRING: azurite.connectionString,
        JOBS_TABLE: "jobs",
        EVENTGRID_TOPIC_ENDPOINT: "https://events.test/api/events",
        API_SETTINGS: JSON.stringify({ auth: "none", rateLimit: { requestsPerMinute: 2 } }),
        RATE_LIMIT_TABLE: "apiratelimits",
      };
    });

    after(async () => {
      await azurite?.stop();
    });

    it("counts each address the front end saw, across instances, whatever the client put before it", async () => {
      // The store's windows are whole minutes of the clock: start well inside one.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
      const first = httpHandler(() => buildApiFetch(env));
      const second = httpHandler(() => buildApiFetch(env));
      const call = (handler: typeof first, forwardedFor: string) =>
        handler(new HttpRequest({ url: "https://app.azurewebsites.net/api/jobs/0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11", method: "GET", headers: { "x-forwarded-for": forwardedFor } }), new InvocationContext({ invocationId: "inv" }));

      const statuses = [(await call(first, "203.0.113.9:50001")).status, (await call(second, "6.6.6.6, 203.0.113.9:50002")).status];
      const refused = await call(first, "7.7.7.7, 203.0.113.9:50003");
      const other = await call(second, "203.0.113.9, 198.51.100.7:50004");

      assert.deepEqual(statuses, [404, 404]);
      assert.equal(refused.status, 429);
      assert.equal(JSON.parse(Buffer.from(refused.body as Uint8Array).toString()).code, "RATE_LIMITED");
      assert.match((refused.headers as Record<string, string>)["retry-after"], /^[1-9]\d*$/);
      assert.equal(other.status, 404);
    });

    describe("behind Front Door (FRONT_DOOR_ID set)", () => {
      const FDID = "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69";
      const bodyOf = (response: { body?: unknown }) => JSON.parse(Buffer.from(response.body as Uint8Array).toString()) as { code: string; message: string; requestId: string };
      const get = (handler: ReturnType<typeof httpHandler>, headers: Record<string, string>) =>
        handler(new HttpRequest({ url: "https://app.azurewebsites.net/api/jobs/0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11", method: "GET", headers }), new InvocationContext({ invocationId: "inv-fd" }));

      it("refuses a request without this profile's X-Azure-FDID with FRONT_DOOR_REQUIRED (403), before counting it", async () => {
        const handler = httpHandler(() => buildApiFetch({ ...env, FRONT_DOOR_ID: FDID }));

        const missing = await get(handler, { "x-azure-socketip": "203.0.113.50" });
        const other = await get(handler, { "x-azure-fdid": "00000000-0000-0000-0000-000000000001", "x-azure-socketip": "203.0.113.50" });
        const openapi = await handler(new HttpRequest({ url: "https://app.azurewebsites.net/api/openapi.json", method: "GET" }), new InvocationContext({ invocationId: "inv-fd" }));

        for (const refused of [missing, other, openapi]) {
          assert.equal(refused.status, 403);
          assert.equal(bodyOf(refused).code, "FRONT_DOOR_REQUIRED");
          assert.match(bodyOf(refused).message, /only through its Front Door endpoint; call the stack output apiUrl/);
          assert.equal((refused.headers as Record<string, string>)["ratelimit-limit"], undefined);
        }
      });

      it("counts each address Front Door accepted the connection from (X-Azure-SocketIP), whatever X-Azure-ClientIP and X-Forwarded-For claim", async () => {
        const intoMinute = Date.now() % 60_000;
        if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
        const handler = httpHandler(() => buildApiFetch({ ...env, FRONT_DOOR_ID: FDID.toUpperCase() }));
        const via = (socketIp: string, claimed: string) => get(handler, { "x-azure-fdid": FDID, "x-azure-socketip": socketIp, "x-azure-clientip": claimed, "x-forwarded-for": `${claimed}, 147.243.0.10:443` });

        const statuses = [(await via("198.51.100.20", "10.0.0.1")).status, (await via("198.51.100.20", "10.0.0.2")).status];
        const refused = await via("198.51.100.20", "10.0.0.3");
        const other = await via("198.51.100.21", "10.0.0.1");

        assert.deepEqual(statuses, [404, 404]);
        assert.equal(refused.status, 429);
        assert.equal(bodyOf(refused).code, "RATE_LIMITED");
        assert.equal(other.status, 404);
      });

      it("without the setting ignores Front Door's headers: the caller stays X-Forwarded-For's rightmost entry", async () => {
        const intoMinute = Date.now() % 60_000;
        if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
        const handler = httpHandler(() => buildApiFetch(env));
        const via = (socketIp: string) => get(handler, { "x-azure-socketip": socketIp, "x-forwarded-for": "192.0.2.77:50001" });

        const statuses = [(await via("198.51.100.30")).status, (await via("198.51.100.31")).status, (await via("198.51.100.32")).status];

        assert.deepEqual(statuses, [404, 404, 429]);
      });
    });

    it("refuses to start without the rate-limit table (the handler then answers its coded 500)", () => {
      assert.throws(() => buildApiFetch({ ...env, RATE_LIMIT_TABLE: "" }), { code: "CONFIG_INVALID", message: /RATE_LIMIT_TABLE/ });
    });
  });
});
