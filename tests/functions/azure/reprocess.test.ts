import * as assert from "node:assert/strict";
import sharp from "sharp";
import { InvocationContext } from "@azure/functions";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { createActivityHandler } from "../../../functions/azure/activities";
import { ACTIVITY_NAMES, LIST_UPLOADS_ACTIVITY, ORCHESTRATOR_NAME } from "../../../functions/azure/contract";
import { pipelineOrchestrator } from "../../../functions/azure/orchestrator";
import { createListUploadsActivity, reprocessInputFrom, reprocessOrchestrator, type ReprocessInput, type UploadLister } from "../../../functions/azure/reprocess";
import { startPipeline } from "../../../functions/azure/trigger";
import { jobIdFor } from "../../../functions/steps/jobId";
import { STEP_HANDLERS } from "../../../functions/workflow";
import { runOrchestration, type SubOrchestrationExecutor } from "../../../local/azure/durableReplay";
import { memoryPorts } from "../../../local/memoryPorts";

// The real reprocess orchestrator, run by durable-functions' own replay engine
// through the local host (continue-as-new and sub-orchestrations included).

/** A listing in key order, paged by a cursor (the ObjectStore.list contract). */
function lister(keys: string[], etag = (key: string) => `0x${key.length}`): UploadLister & { calls: number } {
  const sorted = [...keys].sort();
  return {
    calls: 0,
    async list(area, prefix, page = {}) {
      this.calls += 1;
      assert.equal(area, "uploads");
      const matching = sorted.filter((key) => key.startsWith(prefix) && (page.cursor === undefined || key > page.cursor));
      const items = matching.slice(0, page.limit ?? 1000).map((key) => ({ key, etag: etag(key), bytes: 1 }));
      return { items, ...(matching.length > items.length ? { cursor: items[items.length - 1].key } : {}) };
    },
  };
}

function listActivity(store: UploadLister) {
  const activity = createListUploadsActivity(() => store);
  return async (name: string, input: unknown) => {
    if (name !== LIST_UPLOADS_ACTIVITY) throw new Error(`unexpected activity ${name}`);
    return activity(input as never);
  };
}

/** A fake pipeline: records each start, fails the keys asked to, tracks how many run at once. */
function fakePipeline(failing: Set<string> = new Set(), superseded: Set<string> = new Set()) {
  const started: { name: string; instanceId: string; input: { sourceKey: string; generation?: string; jobId?: string } }[] = [];
  let running = 0;
  let peak = 0;
  const run: SubOrchestrationExecutor = async (name, input, instanceId) => {
    const start = input as (typeof started)[number]["input"];
    started.push({ name, instanceId, input: start });
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setImmediate(resolve));
    running -= 1;
    if (superseded.has(start.sourceKey)) return { status: "Completed", output: { jobId: start.jobId, notified: { status: "superseded", published: false } } };
    return failing.has(start.sourceKey) ? { status: "Failed", output: "CORRUPT_IMAGE", error: "CORRUPT_IMAGE: not an image" } : { status: "Completed", output: { status: "succeeded" } };
  };
  return { run, started, peak: () => peak };
}

const keys = (count: number, prefix = "photos/") => Array.from({ length: count }, (_, i) => `${prefix}img-${String(i).padStart(3, "0")}.jpg`);

describe("Azure reprocess orchestrator (durable-functions replay engine)", () => {
  it("counts a run that ended superseded (its blob replaced meanwhile) apart from successes and failures", async () => {
    const store = lister(keys(3));
    const pipeline = fakePipeline(new Set(), new Set(["photos/img-001.jpg"]));
    const input: ReprocessInput = { generation: "reprocess-s", prefix: "photos/", pageSize: 10, maxConcurrency: 2 };

    const result = await runOrchestration(reprocessOrchestrator, { instanceId: "reprocess-s", input, callActivity: listActivity(store), callSubOrchestrator: pipeline.run, sleep: async () => {} });

    assert.deepEqual(result.output, { pages: 1, started: 3, succeeded: 2, failed: 0, superseded: 1, skipped: 0 });
  });

  it("runs the pipeline once per blob with this reprocess's job ids, and sums the outcomes", async () => {
    const store = lister([...keys(7), "photos/folder/"]);
    const pipeline = fakePipeline(new Set(["photos/img-002.jpg"]));
    const input: ReprocessInput = { generation: "reprocess-7", prefix: "photos/", pageSize: 3, maxConcurrency: 2 };

    const result = await runOrchestration(reprocessOrchestrator, { instanceId: "reprocess-7", input, callActivity: listActivity(store), callSubOrchestrator: pipeline.run, sleep: async () => {} });

    assert.equal(result.status, "Completed");
    assert.deepEqual(result.output, { pages: 3, started: 7, succeeded: 6, failed: 1, superseded: 0, skipped: 1 });
    assert.deepEqual(pipeline.started.map((s) => s.input.sourceKey).sort(), keys(7));
    for (const { name, instanceId, input: start } of pipeline.started) {
      assert.equal(name, ORCHESTRATOR_NAME);
      assert.equal(start.generation, "reprocess-7");
      assert.equal(instanceId, jobIdFor(start.sourceKey, `0x${start.sourceKey.length}`, undefined, "reprocess-7"));
      assert.equal(start.jobId, instanceId);
    }
  });

  it("keeps at most maxConcurrency pipelines running", async () => {
    const pipeline = fakePipeline();
    await runOrchestration(reprocessOrchestrator, { instanceId: "r", input: { pageSize: 20, maxConcurrency: 3 }, callActivity: listActivity(lister(keys(20))), callSubOrchestrator: pipeline.run, sleep: async () => {} });

    assert.equal(pipeline.started.length, 20);
    assert.equal(pipeline.peak(), 3);
  });

  it("continues as new per page, so history stays as long for 60 blobs as for 12", async () => {
    const run = async (count: number) =>
      runOrchestration(reprocessOrchestrator, { instanceId: "r", input: { pageSize: 4, maxConcurrency: 4 }, callActivity: listActivity(lister(keys(count))), callSubOrchestrator: fakePipeline().run, sleep: async () => {} });

    const small = await run(12);
    const large = await run(60);

    assert.equal(small.continuedAsNew, 2);
    assert.equal(large.continuedAsNew, 14);
    assert.equal(large.maxHistoryLength, small.maxHistoryLength);
    assert.deepEqual(large.output, { pages: 15, started: 60, succeeded: 60, failed: 0, superseded: 0, skipped: 0 });
  });

  it("uses the instance id as the generation when none is given", async () => {
    const pipeline = fakePipeline();
    await runOrchestration(reprocessOrchestrator, { instanceId: "run-42", input: { pageSize: 5, maxConcurrency: 1 }, callActivity: listActivity(lister(["a.jpg"])), callSubOrchestrator: pipeline.run, sleep: async () => {} });

    assert.equal(pipeline.started[0].input.generation, "run-42");
  });

  it("records a new job per image next to the upload's own, running the real pipeline orchestrator", async () => {
    const ports = memoryPorts();
    const options = defaultProcessingOptions();
    const body = await sharp({ create: { width: 80, height: 60, channels: 3, background: "orange" } }).jpeg().toBuffer();
    await ports.objects.put("uploads", "cat.jpg", body, "image/jpeg");
    const { etag } = await ports.objects.head("uploads", "cat.jpg");
    const handlers = Object.fromEntries(STEP_HANDLERS.map((handler) => [ACTIVITY_NAMES[handler], createActivityHandler(handler, () => ({ ports, options }))]));
    const callActivity = async (name: string, input: unknown) => handlers[name](input, new InvocationContext({ functionName: name }));
    // The upload's own run, as the trigger starts it.
    const { instanceId: uploadJob } = await startPipeline(
      { getStatus: async () => Promise.reject(new Error("404")), startNew: async (_name: string, start: { instanceId: string; input: unknown }) => (await runOrchestration(pipelineOrchestrator, { instanceId: start.instanceId, input: start.input, callActivity, sleep: async () => {} })).status } as never,
      { sourceKey: "cat.jpg", sourceEtag: etag },
    );
    const store: UploadLister = { list: async () => ({ items: [{ key: "cat.jpg", etag }] }) };
    const listing = createListUploadsActivity(() => store);
    const runPipeline: SubOrchestrationExecutor = (_name, input, instanceId) => runOrchestration(pipelineOrchestrator, { instanceId, input, callActivity, sleep: async () => {} });

    const result = await runOrchestration(reprocessOrchestrator, {
      instanceId: "gen-1",
      input: { pageSize: 10, maxConcurrency: 2 },
      callActivity: async (name, input) => (name === LIST_UPLOADS_ACTIVITY ? listing(input as never) : callActivity(name, input)),
      callSubOrchestrator: runPipeline,
      sleep: async () => {},
    });

    assert.deepEqual(result.output, { pages: 1, started: 1, succeeded: 1, failed: 0, superseded: 0, skipped: 0 });
    const reprocessJob = jobIdFor("cat.jpg", etag, undefined, "gen-1");
    assert.notEqual(reprocessJob, uploadJob);
    assert.equal((await ports.jobs.get(uploadJob))?.status, "succeeded");
    assert.equal((await ports.jobs.get(reprocessJob))?.status, "succeeded");
  });

  it("starts from the request's prefix and the app's page size and concurrency settings", () => {
    const env = { REPROCESS_PAGE_SIZE: "25", REPROCESS_MAX_CONCURRENCY: "8" };
    assert.deepEqual(reprocessInputFrom({ prefix: "photos/", generation: "g-2" }, env), { prefix: "photos/", generation: "g-2", pageSize: 25, maxConcurrency: 8 });
    assert.deepEqual(reprocessInputFrom(undefined, {}), { pageSize: 50, maxConcurrency: 100 });
  });
});
