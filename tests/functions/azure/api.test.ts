import assert from "node:assert/strict";
import { HttpRequest, InvocationContext } from "@azure/functions";
import { httpHandler, toFetchRequest, toResponseInit } from "../../../functions/azure/api";

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
});
