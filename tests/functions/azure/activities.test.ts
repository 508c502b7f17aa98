import * as assert from "node:assert/strict";
import type { ActivityHandler } from "durable-functions";
import { STEP_HANDLERS } from "../../../functions/workflow";
import { createActivityHandler } from "../../../functions/azure/activities";
import { FAILURE_KEY } from "../../../functions/azure/failure";
import { ACTIVITY_NAMES, ORCHESTRATOR_NAME } from "../../../functions/azure/contract";
import { pipelineOrchestrator } from "../../../functions/azure/orchestrator";
import { callActivitiesFrom, HistoryEventType, runOrchestration } from "../../../local/azure/durableReplay";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { sampleCorruptJpeg, samplePhoto } from "../../../local/sampleImages";
import { jobIdFor } from "../../../functions/steps/jobId";
import { memoryPorts } from "../../../local/memoryPorts";

// The Azure activities around the real steps, run by the real orchestrator in
// the replay host, with in-memory ports in place of Blob, Table and Event Grid.

function pipeline() {
  const ports = memoryPorts();
  const options = defaultProcessingOptions();
  const handlers: Record<string, ActivityHandler> = Object.fromEntries(
    STEP_HANDLERS.map((handler) => [ACTIVITY_NAMES[handler], createActivityHandler(handler, () => ({ ports, options }))]),
  );
  // Started as the starter starts it: the upload's key and ETag (from BlobCreated), the job id as instance id.
  const run = async (sourceKey: string) => {
    const { etag } = await ports.objects.head("uploads", sourceKey);
    const jobId = jobIdFor(sourceKey, etag);
    const input = { sourceKey, sourceEtag: etag, jobId };
    const result = await runOrchestration(pipelineOrchestrator, { instanceId: jobId, input, callActivity: callActivitiesFrom(handlers), sleep: async () => undefined, name: ORCHESTRATOR_NAME });
    return { ...result, jobId };
  };
  return { ports, run };
}

describe("Azure activities with the real steps", function () {
  this.timeout(60_000);

  it("turns an upload into renditions, a manifest, a succeeded job and one event", async () => {
    const { ports, run } = pipeline();
    await ports.objects.put("uploads", "photos/cat.jpg", await samplePhoto({ width: 1200, height: 900 }), "image/jpeg");

    const result = await run("photos/cat.jpg");

    assert.equal(result.status, "Completed", String(result.error));
    const job = await ports.jobs.get(result.jobId);
    assert.equal(job?.status, "succeeded");
    assert.ok(ports.objects.keys("renditions").includes("photos/cat.jpg/manifest.json"));
    assert.deepEqual(ports.notifier.events.map((e) => e.type), ["image.processed"]);
    assert.deepEqual(ports.objects.keys("uploads"), ["photos/cat.jpg"], "the upload stays");
  });

  it("records a corrupt upload as a failed job with its code, without retrying, and keeps the upload", async () => {
    const { ports, run } = pipeline();
    const corrupt = sampleCorruptJpeg(await samplePhoto({ width: 640, height: 480 }));
    await ports.objects.put("uploads", "bad.jpg", corrupt, "image/jpeg");

    const result = await run("bad.jpg");

    assert.equal(result.status, "Failed");
    const scheduled = result.history.filter((e) => e.EventType === HistoryEventType.TaskScheduled).map((e) => e.Name);
    assert.equal(new Set(scheduled).size, scheduled.length, `no step ran twice: ${scheduled.join(", ")}`);
    assert.equal(scheduled.at(-1), "NotifyError");
    const job = await ports.jobs.get(result.jobId);
    assert.equal(job?.status, "failed");
    assert.equal(job?.error?.permanent, true);
    assert.deepEqual(ports.notifier.events.map((e) => e.type), ["image.failed"]);
    assert.deepEqual(ports.objects.keys("uploads"), ["bad.jpg"]);
  });

  it("returns a permanent failure as an envelope from the activity", async () => {
    const { ports } = pipeline();
    const validate = createActivityHandler("validate", () => ({ ports, options: defaultProcessingOptions() }));

    const result = await validate({ sourceKey: "missing.jpg" }, undefined as never);

    assert.deepEqual(Object.keys(result as object), [FAILURE_KEY]);
    assert.match((result as { [FAILURE_KEY]: { Cause: string } })[FAILURE_KEY].Cause, /^NOT_FOUND: /);
  });

});
