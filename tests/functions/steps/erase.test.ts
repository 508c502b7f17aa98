import assert from "node:assert/strict";
import sharp from "sharp";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { PipelineError } from "../../../functions/core/errors";
import { deleteUnder, eraseUpload } from "../../../functions/steps/erase";
import { jobIdFor, runStep, type StepOutputs, type NotifyResult, type OptimizeResult, type ValidatedJob } from "../../../functions/steps";
import { memoryPorts } from "../../../local/memoryPorts";

const options = defaultProcessingOptions();
type MemoryPorts = ReturnType<typeof memoryPorts>;

async function photo(): Promise<Buffer> {
  return sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 80, b: 40 } } }).jpeg().toBuffer();
}

async function uploaded(key = "photos/cat.jpg"): Promise<MemoryPorts> {
  const ports = memoryPorts();
  await ports.objects.put("uploads", key, await photo(), "image/jpeg");
  return ports;
}

/** The real steps, as an engine runs them, with a hook between ApplyFilters and Optimize. */
async function runJob(ports: MemoryPorts, sourceKey = "photos/cat.jpg", beforeOptimize: () => Promise<void> = async () => {}) {
  const { etag, versionId } = await ports.objects.head("uploads", sourceKey);
  const validated = (await runStep("validate", { sourceKey, sourceEtag: etag, sourceVersion: versionId, runId: "run-1" }, ports, options)) as ValidatedJob;
  const processed = [(await runStep("resize", validated, ports, options)) as StepOutputs, (await runStep("applyFilters", validated, ports, options)) as StepOutputs];
  await beforeOptimize();
  const optimized = (await runStep("optimize", { ...validated, processed }, ports, options)) as OptimizeResult;
  const notified = (await runStep("notifySuccess", { ...validated, processed, optimized }, ports, options)) as NotifyResult;
  return { validated, notified };
}

/** Everything the pipeline keeps of an upload, besides the upload: renditions under its prefix, work objects, job records. */
function leftOf(ports: MemoryPorts, prefix = "photos/cat.jpg/") {
  return {
    renditions: ports.objects.keys("renditions").filter((key) => key.startsWith(prefix)),
    work: ports.objects.keys("work"),
    jobs: [...ports.jobs.records.keys()],
  };
}

describe("eraseUpload", () => {
  it("removes the renditions, manifest, work objects and job record of a deleted upload, and publishes image.deleted", async () => {
    const ports = await uploaded();
    const { validated } = await runJob(ports);
    await ports.objects.put("work", `${validated.jobId}/rendition-thumb.png`, Buffer.from("left by a retry"), "image/png");
    const before = leftOf(ports);
    await ports.objects.delete("uploads", "photos/cat.jpg");

    const result = await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);

    assert.ok(before.renditions.includes("photos/cat.jpg/manifest.json"), "there was a manifest");
    assert.ok(before.renditions.length > 3, "and renditions");
    assert.deepEqual(leftOf(ports), { renditions: [], work: [], jobs: [] });
    assert.equal(result.erased, true);
    assert.deepEqual(result.jobIds, [validated.jobId]);
    assert.equal(result.removed.renditions, before.renditions.length);
    assert.ok(before.work.includes(`${validated.jobId}/rendition-thumb.png`));
    assert.equal(result.removed.work, before.work.length);
    assert.equal(result.removed.jobs, 1);
    assert.equal(result.published, true);
    const deleted = ports.notifier.events.filter((event) => event.type === "image.deleted");
    assert.deepEqual(deleted.map((event) => [event.sourceKey, event.jobId]), [["photos/cat.jpg", validated.jobId]]);
  });

  it("deletes the manifest before any object it names", async () => {
    const ports = await uploaded();
    await runJob(ports);
    await ports.objects.delete("uploads", "photos/cat.jpg");
    const deletesBefore = ports.objects.deletes.length;

    await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);

    assert.equal(ports.objects.deletes[deletesBefore], "renditions/photos/cat.jpg/manifest.json");
    assert.ok(ports.objects.deletes.length - deletesBefore > 2);
  });

  it("is idempotent: a second erasure finds nothing, removes nothing and publishes nothing", async () => {
    const ports = await uploaded();
    await runJob(ports);
    await ports.objects.delete("uploads", "photos/cat.jpg");
    await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);
    const events = ports.notifier.events.length;

    const again = await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);

    assert.deepEqual(again, { sourceKey: "photos/cat.jpg", erased: true, jobIds: [], removed: { renditions: 0, work: 0, jobs: 0 }, published: false });
    assert.equal(ports.notifier.events.length, events);
  });

  it("leaves everything alone while the upload exists (uploaded again before the delete event came)", async () => {
    const ports = await uploaded();
    await runJob(ports);
    const before = leftOf(ports);

    const result = await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);

    assert.equal(result.erased, false);
    assert.deepEqual(leftOf(ports), before);
    assert.deepEqual(ports.notifier.events.map((event) => event.type), ["image.processed"]);
  });

  it("keeps the outputs of other uploads whose keys start the same way", async () => {
    const ports = await uploaded();
    await ports.objects.put("uploads", "photos/cat.jpg.bak", await photo(), "image/jpeg");
    await runJob(ports);
    await runJob(ports, "photos/cat.jpg.bak");
    const other = leftOf(ports, "photos/cat.jpg.bak/").renditions;
    await ports.objects.delete("uploads", "photos/cat.jpg");

    await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);

    assert.ok(other.length > 3);
    assert.deepEqual(leftOf(ports, "photos/cat.jpg.bak/").renditions, other);
    assert.deepEqual(leftOf(ports).renditions, []);
    assert.equal(ports.jobs.records.size, 1, "the other upload's job stays");
  });

  it("removes the record of a failed job (no manifest) named by the deleted upload's ETag and version", async () => {
    const ports = memoryPorts();
    await ports.objects.put("uploads", "photos/broken.jpg", Buffer.from("not an image"), "image/jpeg");
    const { etag, versionId } = await ports.objects.head("uploads", "photos/broken.jpg");
    await assert.rejects(runStep("validate", { sourceKey: "photos/broken.jpg", sourceEtag: etag, sourceVersion: versionId, runId: "run-1" }, ports, options));
    await runStep("notifyError", { input: { sourceKey: "photos/broken.jpg", sourceEtag: etag, sourceVersion: versionId, error: { Error: "PermanentError", Cause: "CORRUPT_IMAGE: bad" } }, runId: "run-1" }, ports, options);
    const jobId = jobIdFor("photos/broken.jpg", etag, versionId);
    assert.equal((await ports.jobs.get(jobId))?.status, "failed");
    await ports.objects.delete("uploads", "photos/broken.jpg");

    const result = await eraseUpload({ sourceKey: "photos/broken.jpg", sourceEtag: etag, sourceVersion: versionId }, ports, options);

    assert.equal(await ports.jobs.get(jobId), undefined);
    assert.equal(result.removed.jobs, 1);
    assert.deepEqual(ports.notifier.events.map((event) => event.type), ["image.failed", "image.deleted"]);
  });

  it("fails as the store fails, touching nothing, when it cannot tell whether the upload is gone", async () => {
    const ports = await uploaded();
    await runJob(ports);
    await ports.objects.delete("uploads", "photos/cat.jpg");
    const before = leftOf(ports);
    ports.objects.head = async () => Promise.reject(new PipelineError("STORAGE_UNAVAILABLE", "The object store is down."));

    await assert.rejects(eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options), (error: PipelineError) => error.code === "STORAGE_UNAVAILABLE");
    assert.deepEqual(leftOf(ports), before);
  });
});

describe("a delete racing a running job", () => {
  it("leaves nothing once both end when the erasure runs first: the job erases what it made after", async () => {
    const ports = await uploaded();
    let erasedWhileRunning: Awaited<ReturnType<typeof eraseUpload>> | undefined;

    const { validated, notified } = await runJob(ports, "photos/cat.jpg", async () => {
      await ports.objects.delete("uploads", "photos/cat.jpg");
      erasedWhileRunning = await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);
    });

    assert.equal(erasedWhileRunning?.erased, true);
    assert.equal(notified.erased, true);
    assert.deepEqual(leftOf(ports), { renditions: [], work: [], jobs: [] });
    // The erasure running first finds Resize's outputs but no manifest and no finished record: it removes them and stays
    // silent; the job, superseded by the delete at Optimize (no manifest, no image.processed), erases after itself and
    // announces. One delete, one image.deleted, under the job's id.
    assert.equal(erasedWhileRunning?.published, false);
    assert.deepEqual(ports.notifier.events.map((event) => [event.type, event.jobId === validated.jobId ? "job" : "other"]), [["image.deleted", "job"]]);
    assert.equal(notified.status, "superseded");
  });

  it("leaves the running job's record to the job when the delete names its version, and still makes one event", async () => {
    const ports = await uploaded();
    const { etag, versionId } = await ports.objects.head("uploads", "photos/cat.jpg");
    let erasedWhileRunning: Awaited<ReturnType<typeof eraseUpload>> | undefined;
    let recordDuring: string | undefined;

    const { validated, notified } = await runJob(ports, "photos/cat.jpg", async () => {
      await ports.objects.delete("uploads", "photos/cat.jpg");
      erasedWhileRunning = await eraseUpload({ sourceKey: "photos/cat.jpg", sourceEtag: etag, sourceVersion: versionId }, ports, options);
      recordDuring = (await ports.jobs.get(jobIdFor("photos/cat.jpg", etag, versionId)))?.status;
    });

    assert.deepEqual([erasedWhileRunning?.published, erasedWhileRunning?.removed.jobs, recordDuring], [false, 0, "running"]);
    assert.equal(notified.erased, true);
    assert.deepEqual(leftOf(ports), { renditions: [], work: [], jobs: [] });
    assert.deepEqual(ports.notifier.events.map((event) => [event.type, event.jobId === validated.jobId ? "job" : "other"]), [["image.deleted", "job"]]);
  });

  it("leaves nothing once both end when the job ends first: the erasure finds it all", async () => {
    const ports = await uploaded();
    const { notified } = await runJob(ports);
    await ports.objects.delete("uploads", "photos/cat.jpg");

    await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);

    assert.equal(notified.erased, undefined);
    assert.deepEqual(leftOf(ports), { renditions: [], work: [], jobs: [] });
  });

  it("leaves nothing when the job fails after its upload went", async () => {
    const ports = await uploaded();
    const { etag, versionId } = await ports.objects.head("uploads", "photos/cat.jpg");
    const validated = (await runStep("validate", { sourceKey: "photos/cat.jpg", sourceEtag: etag, sourceVersion: versionId, runId: "run-1" }, ports, options)) as ValidatedJob;
    await runStep("resize", validated, ports, options);
    await ports.objects.delete("uploads", "photos/cat.jpg");
    await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);

    const notified = (await runStep("notifyError", { input: { ...validated, error: { Error: "TransientError", Cause: "THROTTLED: gave up" } }, runId: "run-1" }, ports, options)) as NotifyResult;

    assert.equal(notified.erased, true);
    assert.deepEqual(leftOf(ports), { renditions: [], work: [], jobs: [] });
  });
});

describe("deleteUnder", () => {
  it("deletes every object under a prefix across listing pages, and only those the filter keeps", async () => {
    const ports = memoryPorts();
    for (let i = 0; i < 2_100; i += 1) await ports.objects.put("renditions", `big.png/${String(i).padStart(4, "0")}.webp`, Buffer.from("x"), "image/webp");
    await ports.objects.put("renditions", "big.png/keep.json", Buffer.from("{}"), "application/json");

    const deleted = await deleteUnder(ports, "renditions", "big.png/", (key) => !key.endsWith("keep.json"));

    assert.equal(deleted, 2_100);
    assert.deepEqual(ports.objects.keys("renditions"), ["big.png/keep.json"]);
  });
});
