import assert from "node:assert/strict";
import { servedApi } from "../../helpers/servedApi";
import { loadConfig, type Cloud } from "../../../components/config";

/**
 * Per-caller rate limits against the local server, for both flavours: a caller's request over
 * its limit gets RATE_LIMITED with Retry-After while another caller (another JWT subject, from
 * an issuer whose key set is served on 127.0.0.1) is still served; uploads have their own limit.
 */

const SOME_UPLOAD = "0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11";

for (const cloud of ["aws", "azure"] as const satisfies readonly Cloud[]) {
  describe(`local/serve: per-caller rate limits (${cloud} flavour)`, function () {
    this.timeout(240_000);
    const harness = servedApi({ cloud, processing: loadConfig({}).processing, api: { rateLimit: { requestsPerMinute: 3, uploadsPerHour: 1 } } });
    const api = harness.call;

    it("answers a subject's fourth request in a minute with RATE_LIMITED and Retry-After, and still serves another subject", async () => {
      const served = [];
      for (let i = 0; i < 3; i += 1) served.push(await api("alice", "GET", `/jobs/${SOME_UPLOAD}`));
      const refused = await api("alice", "GET", `/jobs/${SOME_UPLOAD}`);
      const other = await api("bob", "GET", `/jobs/${SOME_UPLOAD}`);

      assert.deepEqual(served.map((r) => r.status), [404, 404, 404]);
      assert.deepEqual(served.map((r) => r.headers.get("ratelimit-remaining")), ["2", "1", "0"]);
      assert.equal(refused.status, 429);
      const body = (await refused.json()) as { code: string; message: string; requestId: string };
      assert.equal(body.code, "RATE_LIMITED");
      assert.match(body.message, /at most 3 requests a minute per caller/);
      assert.notEqual(body.requestId, "");
      assert.match(refused.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
      assert.ok(Number(refused.headers.get("retry-after")) <= 60);
      assert.equal(other.status, 404);
    });

    it("refuses a subject's second upload in the hour, signing nothing", async () => {
      const image = { filename: "cat.jpg", contentType: "image/jpeg", bytes: 1000 };

      const first = await api("carol", "POST", "/uploads", image);
      const second = await api("carol", "POST", "/uploads", image);
      const tickets = (await harness.server.flavour.ports.objects.list("work", "api/")).items;

      assert.equal(first.status, 201);
      assert.equal(second.status, 429);
      assert.match(((await second.json()) as { message: string }).message, /at most 1 uploads an hour per caller/);
      assert.equal(tickets.length, 1);
    });
  });
}
