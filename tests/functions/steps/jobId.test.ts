import assert from "node:assert/strict";
import sharp from "sharp";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { jobIdFor, runStep, type ValidatedJob } from "../../../functions/steps";
import { memoryPorts } from "../../../local/memoryPorts";

const options = defaultProcessingOptions();

describe("jobIdFor with a reprocess generation", () => {
  it("keeps the id records already carry when no generation is given", () => {
    // sha256("a/b.jpg\nabc"), first 32 hex digits: the id before generations existed.
    assert.equal(jobIdFor("a/b.jpg", "abc"), "1861b51324f4aa19641d58b40bda7b08");
    assert.equal(jobIdFor("a/b.jpg", "abc", undefined, ""), "1861b51324f4aa19641d58b40bda7b08");
  });

  it("gives each generation its own id, the same one for the same generation", () => {
    const plain = jobIdFor("a/b.jpg", "abc", "v1");
    const first = jobIdFor("a/b.jpg", "abc", "v1", "reprocess-1");
    assert.notEqual(first, plain);
    assert.notEqual(first, jobIdFor("a/b.jpg", "abc", "v1", "reprocess-2"));
    assert.equal(first, jobIdFor("a/b.jpg", "abc", "v1", "reprocess-1"));
    assert.match(first, /^[0-9a-f]{32}$/);
  });
});

describe("Validate with a reprocess generation", () => {
  async function uploaded() {
    const ports = memoryPorts();
    const body = await sharp({ create: { width: 64, height: 48, channels: 3, background: "teal" } }).jpeg().toBuffer();
    await ports.objects.put("uploads", "photos/cat.jpg", body, "image/jpeg");
    const { etag, versionId } = await ports.objects.head("uploads", "photos/cat.jpg");
    return { ports, event: { sourceKey: "photos/cat.jpg", sourceEtag: etag, sourceVersion: versionId } };
  }

  it("records a new job for an upload that already has one", async () => {
    const { ports, event } = await uploaded();
    const original = (await runStep("validate", { ...event, runId: "upload-run" }, ports, options)) as ValidatedJob;
    const reprocessed = (await runStep("validate", { ...event, generation: "reprocess-1", runId: "reprocess-run" }, ports, options)) as ValidatedJob;
    assert.equal(original.duplicate, false);
    assert.equal(reprocessed.duplicate, false);
    assert.notEqual(reprocessed.jobId, original.jobId);
    assert.equal((await ports.jobs.get(reprocessed.jobId))?.status, "running");
  });

  it("still ends a duplicate delivery within one reprocess at Validate", async () => {
    const { ports, event } = await uploaded();
    await runStep("validate", { ...event, generation: "reprocess-1", runId: "run-a" }, ports, options);
    const again = (await runStep("validate", { ...event, generation: "reprocess-1", runId: "run-b" }, ports, options)) as ValidatedJob;
    assert.equal(again.duplicate, true);
  });

  it("fails the reprocess's own job when the upload is gone", async () => {
    const { ports, event } = await uploaded();
    const failed = await runStep("notifyError", { ...event, generation: "reprocess-1", error: { Error: "PipelineError", Cause: "NOT_FOUND: gone" } }, ports, options);
    assert.deepEqual(failed, { jobId: jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion, "reprocess-1"), status: "failed", published: true });
  });
});
