import assert from "node:assert/strict";
import { HttpRequest } from "@azure/functions";
import type { DurableClient, DurableOrchestrationStatus, StartNewOptions } from "durable-functions";
import { createReprocessStart, createReprocessStatus, publicOrigin } from "../../../functions/azure/reprocessHttp";

/** The two DurableClient calls the reprocess endpoints make, answered from a map of runs as the Durable extension would. */
class RecordingClient implements Pick<DurableClient, "startNew" | "getStatus"> {
  readonly started: Array<{ name: string; input: unknown }> = [];
  readonly runs = new Map<string, Partial<DurableOrchestrationStatus>>();

  startNew(name: string, options?: StartNewOptions): Promise<string> {
    this.started.push({ name, input: options?.input });
    return Promise.resolve(`run-${this.started.length}`);
  }

  getStatus(instanceId: string): Promise<DurableOrchestrationStatus> {
    const run = this.runs.get(instanceId);
    // durable-functions 3 throws this for an instance the extension does not know.
    if (!run) return Promise.reject(new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response. instanceId: ${instanceId}`));
    return Promise.resolve(run as DurableOrchestrationStatus);
  }
}

const post = (body: string, headers: Record<string, string> = {}) =>
  new HttpRequest({ method: "POST", url: "https://pipeline-app.azurewebsites.net/api/reprocess?code=k", body: { string: body }, headers });
const env = { REPROCESS_PAGE_SIZE: "25", REPROCESS_MAX_CONCURRENCY: "4" };

describe("the Azure reprocess endpoints", () => {
  it("start a run for a prefix and answer 202 with the run's id and its status URL under /api", async () => {
    const client = new RecordingClient();

    const response = await createReprocessStart(env)(post('{"prefix": "photos/", "generation": "g-7"}'), client);

    assert.equal(response.status, 202);
    assert.deepEqual(response.jsonBody, { id: "run-1", statusUrl: "https://pipeline-app.azurewebsites.net/api/reprocess/run-1" });
    assert.equal((response.headers as Record<string, string>).location, "https://pipeline-app.azurewebsites.net/api/reprocess/run-1");
    assert.deepEqual(client.started, [{ name: "ReprocessUploads", input: { prefix: "photos/", generation: "g-7", pageSize: 25, maxConcurrency: 4 } }]);
  });

  it("start a run over every upload for {} or an empty body, as the AWS starter's {}", async () => {
    const client = new RecordingClient();

    await createReprocessStart(env)(post("{}"), client);
    await createReprocessStart(env)(post(""), client);

    assert.deepEqual(client.started.map((run) => run.input), [
      { pageSize: 25, maxConcurrency: 4 },
      { pageSize: 25, maxConcurrency: 4 },
    ]);
  });

  for (const [what, body, names] of [
    ["a misspelt key", '{"prefx": "photos/"}', /prefx/],
    ["a prefix that is not text", '{"prefix": 7}', /prefix/],
    ["a body that is not JSON", "prefix=photos/", /not JSON/],
    ["a generation with a slash", '{"generation": "a/b"}', /generation/],
  ] as const) {
    it(`refuse ${what} with REPROCESS_REQUEST_INVALID, starting nothing`, async () => {
      const client = new RecordingClient();

      const response = await createReprocessStart(env)(post(body), client);

      assert.equal(response.status, 400);
      const answer = response.jsonBody as { code: string; message: string };
      assert.equal(answer.code, "REPROCESS_REQUEST_INVALID");
      assert.match(answer.message, names);
      assert.deepEqual(client.started, []);
    });
  }

  it("name the Front Door host in the status URL when the app is behind Front Door", () => {
    const request = post("{}", { "x-forwarded-host": "images-abc.z01.azurefd.net" });

    assert.equal(publicOrigin(request, { FRONT_DOOR_ID: "0b9a3c1e" }), "https://images-abc.z01.azurefd.net");
    assert.equal(publicOrigin(request, {}), "https://pipeline-app.azurewebsites.net", "without Front Door the header is not trusted");
  });

  it("report a reprocess run's state and totals, and 404 for an unknown id or another orchestration's", async () => {
    const client = new RecordingClient();
    const totals = { pages: 2, started: 60, succeeded: 59, failed: 1, skipped: 0 };
    client.runs.set("run-9", { name: "ReprocessUploads", runtimeStatus: "Completed" as DurableOrchestrationStatus["runtimeStatus"], output: totals });
    client.runs.set("job-1", { name: "ImagePipeline", runtimeStatus: "Running" as DurableOrchestrationStatus["runtimeStatus"] });
    const status = createReprocessStatus();
    const get = (id: string) => status(new HttpRequest({ method: "GET", url: `https://x/api/reprocess/${id}`, params: { id } }), client);

    const done = await get("run-9");
    const [unknown, other] = [await get("nope"), await get("job-1")];

    assert.equal(done.status, 200);
    assert.deepEqual(done.jsonBody, { id: "run-9", runtimeStatus: "Completed", createdTime: undefined, lastUpdatedTime: undefined, output: totals });
    assert.deepEqual([unknown.status, (unknown.jsonBody as { code: string }).code], [404, "REPROCESS_NOT_FOUND"]);
    assert.deepEqual([other.status, (other.jsonBody as { code: string }).code], [404, "REPROCESS_NOT_FOUND"]);
  });
});
