import assert from "node:assert/strict";
import sharp from "sharp";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { runStep, manifestKey, sweepStuckJobs, type Manifest, type NotifyResult, type OptimizeResult, type StepOutputs, type SupersededResult, type ValidatedJob } from "../../../functions/steps";
import { supersededBy } from "../../../functions/steps/current";
import type { ObjectVersion } from "../../../functions/ports";
import { memoryPorts } from "../../../local/memoryPorts";

const options = defaultProcessingOptions();
const withEffects = { ...options, filters: [...options.filters, "grayscale" as const] };

async function photo(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .jpeg()
    .toBuffer();
}
const landscape = () => photo(1200, 800);
const portrait = () => photo(400, 600);

/** Memory ports that count the HEADs of the upload's newest version (no version named): the supersession checks. */
async function setUp(body: Buffer) {
  const ports = memoryPorts();
  await ports.objects.put("uploads", "photos/cat.jpg", body, "image/jpeg");
  const newestHeads: string[] = [];
  const head = ports.objects.head.bind(ports.objects);
  ports.objects.head = (area, key, version?: ObjectVersion) => {
    if (area === "uploads" && !version?.versionId && !version?.etag) newestHeads.push(key);
    return head(area, key, version);
  };
  return { ports, newestHeads };
}

async function validated(ports: ReturnType<typeof memoryPorts>, pin: "version" | "etag" = "version", stepOptions = options): Promise<ValidatedJob> {
  const { etag, versionId } = await ports.objects.head("uploads", "photos/cat.jpg");
  const event = pin === "version" ? { sourceKey: "photos/cat.jpg", sourceEtag: etag, sourceVersion: versionId } : { sourceKey: "photos/cat.jpg", sourceEtag: etag };
  return (await runStep("validate", { input: event, runId: "run-1" }, ports, stepOptions)) as ValidatedJob;
}

async function finish(ports: ReturnType<typeof memoryPorts>, job: ValidatedJob, stepOptions = options) {
  const processed = [(await runStep("resize", job, ports, stepOptions)) as StepOutputs, (await runStep("applyFilters", job, ports, stepOptions)) as StepOutputs];
  const optimized = (await runStep("optimize", { ...job, processed }, ports, stepOptions)) as OptimizeResult | SupersededResult;
  const notified = (await runStep("notifySuccess", { ...job, processed, optimized }, ports, stepOptions)) as NotifyResult;
  return { processed, optimized, notified };
}

describe("supersededBy", () => {
  it("is undefined while the pinned version is the upload's newest", async () => {
    const { ports } = await setUp(await landscape());
    const { etag, versionId } = await ports.objects.head("uploads", "photos/cat.jpg");

    assert.equal(await supersededBy({ sourceKey: "photos/cat.jpg", sourceEtag: etag, sourceVersion: versionId }, ports), undefined);
    assert.equal(await supersededBy({ sourceKey: "photos/cat.jpg", sourceEtag: `"${etag}"` }, ports), undefined, "a quoted ETag is the same ETag");
  });

  it("names the newer version after an overwrite, by version id even when the bytes (and so S3's ETag) are the same", async () => {
    const body = await landscape();
    const { ports } = await setUp(body);
    const first = await ports.objects.head("uploads", "photos/cat.jpg");
    await ports.objects.put("uploads", "photos/cat.jpg", body, "image/jpeg");
    const second = await ports.objects.head("uploads", "photos/cat.jpg");

    assert.equal(second.etag, first.etag);
    assert.deepEqual(await supersededBy({ sourceKey: "photos/cat.jpg", sourceEtag: first.etag, sourceVersion: first.versionId }, ports), { etag: first.etag, versionId: second.versionId });
  });

  it("names neither when the upload is gone", async () => {
    const { ports } = await setUp(await landscape());
    const { etag, versionId } = await ports.objects.head("uploads", "photos/cat.jpg");
    await ports.objects.delete("uploads", "photos/cat.jpg");

    assert.deepEqual(await supersededBy({ sourceKey: "photos/cat.jpg", sourceEtag: etag, sourceVersion: versionId }, ports), {});
  });
});

describe("a newer upload racing a running job", () => {
  it("leaves the current version's job as before, with one HEAD of the newest version per writing step", async () => {
    const { ports, newestHeads } = await setUp(await landscape());
    const job = await validated(ports, "version", withEffects);
    const before = newestHeads.length;

    const { optimized, notified } = await finish(ports, job, withEffects);

    assert.equal((optimized as OptimizeResult).manifestKey, manifestKey("photos/cat.jpg"));
    assert.deepEqual(notified, { jobId: job.jobId, status: "succeeded", published: true });
    // Resize, ApplyFilters and Optimize before their writes, NotifySuccess's existing erasure check after them.
    assert.equal(newestHeads.length - before, 4);
    assert.deepEqual(ports.notifier.events.map((event) => event.type), ["image.processed"]);
  });

  it("makes Resize and ApplyFilters write nothing when a newer version was put after Validate (S3: pinned by version id)", async () => {
    const { ports, newestHeads } = await setUp(await landscape());
    const job = await validated(ports, "version", withEffects);
    await ports.objects.put("uploads", "photos/cat.jpg", await portrait(), "image/jpeg");
    const newer = await ports.objects.head("uploads", "photos/cat.jpg");
    const before = newestHeads.length;

    const resized = (await runStep("resize", job, ports, withEffects)) as StepOutputs;
    const filtered = (await runStep("applyFilters", job, ports, withEffects)) as StepOutputs;

    assert.deepEqual(resized, { outputs: [], superseded: { etag: newer.etag, versionId: newer.versionId } });
    assert.deepEqual(filtered, { outputs: [], superseded: { etag: newer.etag, versionId: newer.versionId } });
    assert.equal(newestHeads.length - before, 2, "one HEAD per step");
    assert.deepEqual(ports.objects.keys("renditions"), []);
  });

  it("makes Resize write nothing when only the ETag pins the job (Azure): the replaced read ends it superseded, not failed", async () => {
    const { ports, newestHeads } = await setUp(await landscape());
    const job = await validated(ports, "etag");
    await ports.objects.put("uploads", "photos/cat.jpg", await portrait(), "image/jpeg");
    const newer = await ports.objects.head("uploads", "photos/cat.jpg");
    const before = newestHeads.length;

    const resized = (await runStep("resize", job, ports, options)) as StepOutputs;

    assert.deepEqual(resized.superseded, { etag: newer.etag, versionId: newer.versionId });
    assert.equal(newestHeads.length - before, 1);
    assert.deepEqual(ports.objects.keys("renditions"), []);
  });

  it("ends the job superseded, with the newer version named, and announces nothing", async () => {
    const { ports } = await setUp(await landscape());
    const job = await validated(ports);
    await ports.objects.put("uploads", "photos/cat.jpg", await portrait(), "image/jpeg");
    const newer = await ports.objects.head("uploads", "photos/cat.jpg");

    const { processed, optimized, notified } = await finish(ports, job);
    const again = (await runStep("notifySuccess", { ...job, processed, optimized }, ports, options)) as NotifyResult;

    assert.deepEqual(optimized, { superseded: { etag: newer.etag, versionId: newer.versionId } });
    assert.deepEqual(notified, { jobId: job.jobId, status: "superseded", published: false, closed: true });
    assert.equal(again.closed, false, "a duplicate NotifySuccess finds the job closed, so it is counted once");
    const record = await ports.jobs.get(job.jobId);
    assert.equal(record?.status, "superseded");
    assert.equal(record?.supersededByEtag, newer.etag);
    assert.equal(record?.supersededByVersion, newer.versionId);
    assert.equal(record?.error, undefined);
    assert.ok(record?.announcedAt, "the job is closed: the stuck-job sweep leaves it alone");
    assert.deepEqual(ports.notifier.events, []);
    assert.deepEqual(ports.objects.keys("renditions"), []);
  });

  it("writes no manifest when the newer version came after Resize, and the newer job's outputs and manifest are what stays", async () => {
    const { ports } = await setUp(await landscape());
    const older = await validated(ports);
    const processed = [(await runStep("resize", older, ports, options)) as StepOutputs, (await runStep("applyFilters", older, ports, options)) as StepOutputs];
    await ports.objects.put("uploads", "photos/cat.jpg", await portrait(), "image/jpeg");
    const newer = await validated(ports);
    await finish(ports, newer);
    const manifestBefore = await ports.objects.get("renditions", manifestKey("photos/cat.jpg"));

    const optimized = (await runStep("optimize", { ...older, processed }, ports, options)) as SupersededResult;
    await runStep("notifySuccess", { ...older, processed, optimized }, ports, options);

    assert.ok(optimized.superseded, JSON.stringify(optimized));
    assert.deepEqual(await ports.objects.get("renditions", manifestKey("photos/cat.jpg")), manifestBefore, "the manifest was not rewritten");
    const manifest = JSON.parse(manifestBefore.toString()) as Manifest;
    assert.equal(manifest.jobId, newer.jobId);
    assert.equal(manifest.source.width, 400);
    for (const entry of manifest.outputs) {
      const { width = 0, height = 0 } = await sharp(await ports.objects.get("renditions", entry.key)).metadata();
      assert.ok(height > width, `${entry.key} is ${width}×${height}, not the newer upload's portrait`);
    }
    assert.equal((await ports.jobs.get(older.jobId))?.status, "superseded");
    assert.deepEqual(ports.notifier.events.map((event) => `${event.type} ${event.jobId}`), [`image.processed ${newer.jobId}`]);
  });

  it("ends a job superseded in Validate when its version was already replaced there (Azure), and the later steps read nothing", async () => {
    const { ports } = await setUp(await landscape());
    const { etag } = await ports.objects.head("uploads", "photos/cat.jpg");
    await ports.objects.put("uploads", "photos/cat.jpg", await portrait(), "image/jpeg");
    const newer = await ports.objects.head("uploads", "photos/cat.jpg");

    const job = (await runStep("validate", { input: { sourceKey: "photos/cat.jpg", sourceEtag: etag }, runId: "run-1" }, ports, options)) as ValidatedJob;
    const { notified } = await finish(ports, job);

    assert.deepEqual(job.superseded, { etag: newer.etag, versionId: newer.versionId });
    assert.equal(job.duplicate, false);
    assert.equal(notified.status, "superseded");
    assert.equal((await ports.jobs.get(job.jobId))?.status, "superseded");
    assert.deepEqual(ports.objects.keys("renditions"), []);
    assert.deepEqual(ports.notifier.events, []);
  });

  it("fails Validate with NOT_FOUND, as before, when the upload is gone altogether rather than replaced", async () => {
    const { ports } = await setUp(await landscape());
    await ports.objects.delete("uploads", "photos/cat.jpg");

    // A version the store cannot read, of a key whose newest version is a delete (S3 answers both with one 404).
    await assert.rejects(runStep("validate", { input: { sourceKey: "photos/cat.jpg", sourceEtag: "0", sourceVersion: "v-gone" }, runId: "run-1" }, ports, options), (error: Error & { code?: string }) => {
      assert.equal(error.code, "NOT_FOUND");
      return true;
    });
  });

  it("still erases after itself when the upload was deleted instead (the delete path): one image.deleted, no record left", async () => {
    const { ports } = await setUp(await landscape());
    const job = await validated(ports);
    const processed = [(await runStep("resize", job, ports, options)) as StepOutputs, (await runStep("applyFilters", job, ports, options)) as StepOutputs];
    await ports.objects.delete("uploads", "photos/cat.jpg");

    const optimized = (await runStep("optimize", { ...job, processed }, ports, options)) as SupersededResult;
    const notified = (await runStep("notifySuccess", { ...job, processed, optimized }, ports, options)) as NotifyResult;

    assert.deepEqual(optimized, { superseded: {} });
    assert.deepEqual(notified, { jobId: job.jobId, status: "superseded", published: false, closed: true, erased: true });
    assert.deepEqual(ports.objects.keys("renditions"), [], "Resize's outputs went with the upload");
    assert.equal(await ports.jobs.get(job.jobId), undefined);
    assert.deepEqual(ports.notifier.events.map((event) => event.type), ["image.deleted"]);
  });
});

describe("the stuck-job sweep and a superseded job", () => {
  it("closes a superseded job whose closing failed without publishing any event", async () => {
    const { ports } = await setUp(await landscape());
    const createdAt = "2026-01-01T00:00:00.000Z";
    await ports.jobs.create({ jobId: "job-1", sourceKey: "photos/cat.jpg", status: "running", createdAt, updatedAt: createdAt });
    await ports.jobs.finish("job-1", { status: "superseded", supersededByEtag: "abc", updatedAt: createdAt });

    const result = await sweepStuckJobs(ports, { stuckAfterSeconds: 1200, now: new Date("2026-01-01T01:00:00.000Z") });

    assert.deepEqual(result.announced, ["job-1"]);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(ports.notifier.events, []);
    assert.ok((await ports.jobs.get("job-1"))?.announcedAt);
    assert.equal((await ports.jobs.get("job-1"))?.status, "superseded");
  });
});
