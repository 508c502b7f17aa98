import * as assert from "node:assert/strict";
import { observeStep, sweptJobRecord, type StepLogRecord } from "../../functions/observability";
import { StepError } from "../../functions/steps";

/** A clock that advances by the given steps, one per call. */
function steppingClock(...times: number[]): () => number {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)]!;
}

describe("observeStep (the structured record of one step invocation)", () => {
  it("records a successful step with the job id its result names, the step and the duration, and returns the result unchanged", async () => {
    const records: StepLogRecord[] = [];
    const result = { jobId: "job-1", duplicate: false };

    const returned = await observeStep("validate", { sourceKey: "a.jpg" }, async () => result, (r) => records.push(r), steppingClock(100, 142.25));

    assert.equal(returned, result);
    assert.deepEqual(records, [{ source: "image-pipeline", jobId: "job-1", step: "validate", durationMs: 42.3, outcome: "succeeded" }]);
  });

  it("takes the job id from a run-scoped input when the result has none", async () => {
    const records: StepLogRecord[] = [];

    await observeStep("resize", { input: { jobId: "job-2", sourceKey: "a.jpg" }, runId: "run-1" }, async () => ({ items: [] }), (r) => records.push(r), steppingClock(0, 5));

    assert.equal(records[0]!.jobId, "job-2");
  });

  it("derives the job id from the upload the input names when nothing carries it (Validate failing before it computes one)", async () => {
    const records: StepLogRecord[] = [];
    const failure = new StepError("CORRUPT_IMAGE", "PermanentError", "CORRUPT_IMAGE: broken", true);

    await assert.rejects(observeStep("validate", { sourceKey: "photos/cat.jpg", sourceEtag: "abc" }, async () => Promise.reject(failure), (r) => records.push(r), steppingClock(0, 1)));

    // sha256("photos/cat.jpg\nabc"), first 32 hex digits.
    assert.equal(records[0]!.jobId, "13292944a4de119a4de8d0d0c5f80317");
  });

  it("records a permanent failure as failed with its code, and rethrows the very error", async () => {
    const records: StepLogRecord[] = [];
    const failure = new StepError("TOO_MANY_PIXELS", "PermanentError", "TOO_MANY_PIXELS: too big", true);

    await assert.rejects(observeStep("validate", { jobId: "job-3", sourceKey: "a.png" }, async () => Promise.reject(failure), (r) => records.push(r), steppingClock(0, 2)), (error) => error === failure);

    assert.deepEqual(records, [{ source: "image-pipeline", jobId: "job-3", step: "validate", durationMs: 2, outcome: "failed", errorCode: "TOO_MANY_PIXELS" }]);
  });

  it("records a transient failure as retrying (the engine retries it)", async () => {
    const records: StepLogRecord[] = [];
    const failure = new StepError("STORAGE_UNAVAILABLE", "TransientError", "STORAGE_UNAVAILABLE: 503", false);

    await assert.rejects(observeStep("optimize", { jobId: "job-4", sourceKey: "a.png" }, async () => Promise.reject(failure), (r) => records.push(r), steppingClock(0, 3)));

    assert.equal(records[0]!.outcome, "retrying");
    assert.equal(records[0]!.errorCode, "STORAGE_UNAVAILABLE");
  });

  it("marks the job succeeded on the NotifySuccess that published the outcome", async () => {
    const records: StepLogRecord[] = [];

    await observeStep("notifySuccess", { jobId: "job-5", sourceKey: "a.jpg" }, async () => ({ jobId: "job-5", status: "succeeded", published: true }), (r) => records.push(r), steppingClock(0, 1));

    assert.equal(records[0]!.job, "succeeded");
    assert.equal(records[0]!.errorCode, undefined);
  });

  it("marks the job failed with the error code NotifyError recorded", async () => {
    const records: StepLogRecord[] = [];
    const input = { input: { jobId: "job-6", sourceKey: "a.jpg", error: { Error: "PermanentError", Cause: "CORRUPT_IMAGE: The file is not a readable image." } }, runId: "run-6" };

    await observeStep("notifyError", input, async () => ({ jobId: "job-6", status: "failed", published: true }), (r) => records.push(r), steppingClock(0, 1));

    assert.deepEqual(records, [{ source: "image-pipeline", jobId: "job-6", step: "notifyError", durationMs: 1, outcome: "succeeded", job: "failed", errorCode: "CORRUPT_IMAGE" }]);
  });

  it("does not end the job when the notify step published nothing (a duplicate run)", async () => {
    const records: StepLogRecord[] = [];
    const input = { jobId: "job-7", sourceKey: "a.jpg", error: { Error: "PermanentError", Cause: "CORRUPT_IMAGE: broken" } };

    await observeStep("notifyError", input, async () => ({ jobId: "job-7", status: "failed", published: false }), (r) => records.push(r), steppingClock(0, 1));

    assert.equal(records[0]!.job, undefined);
    assert.equal(records[0]!.errorCode, undefined);
  });

  it("marks the job superseded on the NotifySuccess that closed it, once: a duplicate run that found it closed counts nothing", async () => {
    const records: StepLogRecord[] = [];
    const input = { jobId: "job-10", sourceKey: "a.jpg" };

    await observeStep("notifySuccess", input, async () => ({ jobId: "job-10", status: "superseded", published: false, closed: true }), (r) => records.push(r), steppingClock(0, 1));
    await observeStep("notifySuccess", input, async () => ({ jobId: "job-10", status: "superseded", published: false, closed: false }), (r) => records.push(r), steppingClock(0, 1));

    assert.deepEqual(records.map((record) => [record.job, record.errorCode]), [["superseded", undefined], [undefined, undefined]]);
  });

  it("never fails the step when the sink throws", async () => {
    const returned = await observeStep("resize", { jobId: "job-8" }, async () => "done", () => {
      throw new Error("logger down");
    });

    assert.equal(returned, "done");
  });

  it("describes a job the sweep gave up on as failed with TIMEOUT, and one it closed superseded without an error code", () => {
    assert.deepEqual(sweptJobRecord("job-9"), { source: "image-pipeline", jobId: "job-9", step: "sweepStuckJobs", durationMs: 0, outcome: "succeeded", errorCode: "TIMEOUT", job: "failed" });
    assert.deepEqual(sweptJobRecord("job-11", "superseded"), { source: "image-pipeline", jobId: "job-11", step: "sweepStuckJobs", durationMs: 0, outcome: "succeeded", job: "superseded" });
  });
});
