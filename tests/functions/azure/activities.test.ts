import * as assert from "node:assert/strict";
import type { InvocationContext } from "@azure/functions";
import type { ActivityHandler } from "durable-functions";
import { STEP_HANDLERS } from "../../../functions/workflow";
import { createActivityHandler } from "../../../functions/azure/activities";
import { FAILURE_KEY } from "../../../functions/azure/failure";
import { ACTIVITY_NAMES, ORCHESTRATOR_NAME } from "../../../functions/azure/contract";
import { pipelineOrchestrator } from "../../../functions/azure/orchestrator";
import { callActivitiesFrom, HistoryEventType, runOrchestration } from "../../../local/azure/durableReplay";
import { PipelineError } from "../../../functions/core/errors";
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

  describe("the structured step records in the invocation log", () => {
    /** An invocation logger that keeps each line with its level, as the host would send it to Application Insights. */
    function capturingContext() {
      const lines: Array<{ level: string; record: Record<string, unknown> }> = [];
      const at = (level: string) => (...args: unknown[]) => lines.push({ level, record: JSON.parse(String(args[0])) as Record<string, unknown> });
      return { lines, context: { log: at("information"), warn: at("warning"), error: at("error") } as unknown as InvocationContext };
    }

    it("logs a permanent failure at error level with the job id, step, duration and error code", async () => {
      const { ports } = pipeline();
      const validate = createActivityHandler("validate", () => ({ ports, options: defaultProcessingOptions() }));
      const { lines, context } = capturingContext();

      await validate({ sourceKey: "missing.jpg", sourceEtag: "e1", jobId: "job-az-1" }, context);

      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.level, "error");
      const { durationMs, ...rest } = lines[0]!.record;
      assert.deepEqual(rest, { source: "image-pipeline", jobId: "job-az-1", step: "validate", outcome: "failed", errorCode: "NOT_FOUND" });
      assert.equal(typeof durationMs, "number");
    });

    it("logs the NotifyError that ended a job with the job's error code, the record the failure-rate alert counts", async () => {
      const { ports } = pipeline();
      const notifyError = createActivityHandler("notifyError", () => ({ ports, options: defaultProcessingOptions() }));
      const { lines, context } = capturingContext();

      await notifyError({ input: { jobId: "job-az-2", sourceKey: "bad.jpg", error: { Error: "PermanentError", Cause: "CORRUPT_IMAGE: unreadable" } }, runId: "job-az-2" }, context);

      assert.equal(lines[0]!.level, "information");
      assert.equal(lines[0]!.record.job, "failed");
      assert.equal(lines[0]!.record.errorCode, "CORRUPT_IMAGE");
      assert.equal(lines[0]!.record.jobId, "job-az-2");
    });

    it("logs a transient failure at warning level and still throws it for the host to retry", async () => {
      const { ports } = pipeline();
      const failingPorts = { ...ports, jobs: { ...ports.jobs, create: async () => Promise.reject(new PipelineError("STORAGE_UNAVAILABLE", "The table answered 503.")) } };
      await ports.objects.put("uploads", "ok.jpg", await samplePhoto({ width: 64, height: 48 }), "image/jpeg");
      const validate = createActivityHandler("validate", () => ({ ports: failingPorts, options: defaultProcessingOptions() }));
      const { lines, context } = capturingContext();

      await assert.rejects(validate({ sourceKey: "ok.jpg" }, context), /STORAGE_UNAVAILABLE/);

      assert.equal(lines[0]!.level, "warning");
      assert.equal(lines[0]!.record.outcome, "retrying");
      assert.equal(lines[0]!.record.errorCode, "STORAGE_UNAVAILABLE");
    });
  });
});
