import assert from "node:assert/strict";
import sharp from "sharp";
import { PipelineError } from "../../functions/core/errors";
import { processingOptionsSchema } from "../../functions/core/options";
import { sampleAlphaPng, sampleAnimated, sampleTruncated, sampleHugeHeaderPng, samplePhoto, sampleRandomBytes } from "../../local/sampleImages";
import type { Area, JobRecord, ObjectStore, Ports } from "../../functions/ports";
import { jobIdFor, type Manifest, type ProcessedJob } from "../../functions/steps";
import { jobRow, mapWithConcurrency, startFlavour } from "../../local/runtime";
import type { Cloud } from "../../components/config";
import type { LocalFlavour, StepCall, UploadEvent } from "../../local/flavour";
import type { StepHandler } from "../../functions/workflow";
import { smallPhotos } from "../../local/samples";
import { MemoryNotifier } from "../../local/memoryPorts";

/**
 * The end-to-end contract of a local flavour, run once per cloud by
 * aws/flavour.test.ts and azure/flavour.test.ts: real emulators, the real
 * engine, the real step handlers, images made with sharp.
 */

/** Small renditions keep 200 images well under a minute; everything else is the default. */
export const TEST_PROCESSING = processingOptionsSchema.parse({
  renditions: ["thumb:48", "medium:96"],
  filters: ["grayscale", "placeholder"],
  filterWidth: 64,
});

type Operation = "put" | "head";

/** Object store calls that should fail once, by key prefix: the fault-injecting decorator's plan. */
export class FaultPlan {
  private readonly failOnce: Array<{ operation: Operation; area: Area; prefix: string; remaining: number }> = [];
  private readonly holds: Array<{ key: string; handlers: StepHandler[]; action: () => Promise<void>; runId?: string; done?: Promise<void> }> = [];
  readonly injected: string[] = [];

  /**
   * The first read (GET or HEAD) of the upload `key` by one of `handlers` runs `action` first (e.g. an
   * overwrite between Validate and Resize); that run's other reads of it wait for it too.
   */
  beforeUploadRead(key: string, handlers: StepHandler[], action: () => Promise<void>): void {
    this.holds.push({ key, handlers, action });
  }

  async holdRead(area: Area, key: string, call: StepCall): Promise<void> {
    const hold = this.holds.find((h) => area === "uploads" && h.key === key && h.handlers.includes(call.handler) && (h.runId ?? call.runId) === call.runId);
    if (!hold) return;
    hold.runId = call.runId;
    hold.done ??= hold.action();
    await hold.done;
  }

  /** The next `operation` in `area` on a key starting with `prefix` throws a transient error. */
  failNext(operation: Operation, area: Area, prefix: string): void {
    this.failOnce.push({ operation, area, prefix, remaining: 1 });
  }

  maybeFail(operation: Operation, area: Area, key: string): void {
    const fault = this.failOnce.find((f) => f.operation === operation && f.area === area && key.startsWith(f.prefix) && f.remaining > 0);
    if (!fault) return;
    fault.remaining--;
    this.injected.push(`${operation} ${area}/${key}`);
    throw new PipelineError("STORAGE_UNAVAILABLE", `Injected fault: the object store failed ${operation} of ${key}.`);
  }
}

/** An ObjectStore that consults the plan before every read and put, and counts renditions written. */
export function faultyObjects(objects: ObjectStore, plan: FaultPlan, renditionPuts: string[], call: StepCall): ObjectStore {
  return {
    get: async (area, key, version, range) => {
      await plan.holdRead(area, key, call);
      return objects.get(area, key, version, range);
    },
    head: async (area, key, version) => {
      await plan.holdRead(area, key, call);
      plan.maybeFail("head", area, key);
      return objects.head(area, key, version);
    },
    put: async (area, key, body, contentType) => {
      plan.maybeFail("put", area, key);
      await objects.put(area, key, body, contentType);
      if (area === "renditions") renditionPuts.push(key);
    },
    list: async (area, prefix, page) => objects.list(area, prefix, page),
    delete: async (area, key, options) => objects.delete(area, key, options),
  };
}

export interface Harness {
  flavour: LocalFlavour;
  notifier: MemoryNotifier;
  calls: StepCall[];
  plan: FaultPlan;
  renditionPuts: string[];
}

export async function startHarness(cloud: Cloud): Promise<Harness> {
  const notifier = new MemoryNotifier();
  const calls: StepCall[] = [];
  const plan = new FaultPlan();
  const renditionPuts: string[] = [];
  const flavour = await startFlavour(cloud, {
    processing: TEST_PROCESSING,
    notifier,
    retryDelayMs: 10,
    onStepCall: (call) => calls.push(call),
    decoratePorts: (ports: Ports, call: StepCall): Ports => ({ ...ports, objects: faultyObjects(ports.objects, plan, renditionPuts, call) }),
  });
  return { flavour, notifier, calls, plan, renditionPuts };
}

/** The job record of an upload; fails the test when there is none. */
export async function jobOf(flavour: LocalFlavour, event: UploadEvent): Promise<JobRecord> {
  const record = await flavour.ports.jobs.get(jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion));
  assert.ok(record, `no job record for ${event.sourceKey}`);
  return record;
}

export async function manifestOf(flavour: LocalFlavour, record: JobRecord): Promise<Manifest> {
  assert.ok(record.manifestKey, `job of ${record.sourceKey} has no manifest key`);
  return JSON.parse((await flavour.ports.objects.get("renditions", record.manifestKey)).toString("utf8")) as Manifest;
}

/** The outcome of one input in a form both clouds must agree on. */
export interface Outcome {
  status: string;
  errorCode?: string;
  outputs?: Array<{ key: string; format: string; width: number; height: number }>;
}

export async function outcomeOf(flavour: LocalFlavour, event: UploadEvent): Promise<Outcome> {
  const record = await jobOf(flavour, event);
  if (record.status !== "succeeded") return { status: record.status, errorCode: record.error?.code };
  const manifest = await manifestOf(flavour, record);
  const outputs = manifest.outputs.map(({ key, format, width, height }) => ({ key, format, width, height })).sort((a, b) => a.key.localeCompare(b.key));
  return { status: record.status, outputs };
}

/** A mix of good and bad uploads, generated with sharp. */
export async function mixedInputs(): Promise<Array<{ key: string; body: Buffer; expect: "succeeded" | "failed" }>> {
  const photo = await samplePhoto({ width: 160, height: 120, seed: 21 });
  return [
    { key: "mix/photo.jpg", body: photo, expect: "succeeded" },
    { key: "mix/alpha.png", body: await sampleAlphaPng(120, 90), expect: "succeeded" },
    { key: "mix/animated.gif", body: await sampleAnimated("gif", 3, 60, 40), expect: "succeeded" },
    { key: "mix/corrupt.jpg", body: sampleTruncated(await samplePhoto({ width: 400, height: 300, seed: 22 })), expect: "failed" },
    { key: "mix/huge-header.png", body: sampleHugeHeaderPng(), expect: "failed" },
    { key: "mix/not-an-image.jpg", body: sampleRandomBytes(1024), expect: "failed" },
  ];
}

/** The scenarios every flavour must pass. */
export function describeFlavourContract(cloud: Cloud): void {
  describe(`the local ${cloud} flavour, end to end`, function () {
    this.timeout(180_000);
    let harness: Harness;

    before(async function () {
      harness = await startHarness(cloud);
    });

    after(async function () {
      await harness?.flavour.stop();
    });

    it("ends every input in exactly one job record: succeeded with a manifest whose objects exist, or failed with a code; the upload stays", async function () {
      const { flavour } = harness;
      const inputs = await mixedInputs();

      const events = await Promise.all(inputs.map(async (input) => ({ input, event: await flavour.upload(input.key, input.body) })));
      await mapWithConcurrency(events, 4, ({ event }) => flavour.execute(event));

      for (const { input, event } of events) {
        const record = await jobOf(flavour, event);
        assert.equal(record.status, input.expect, `${input.key}: ${JSON.stringify(record.error)}`);
        if (record.status === "succeeded") {
          const manifest = await manifestOf(flavour, record);
          assert.ok(manifest.outputs.length > 0, `${input.key} has no outputs`);
          for (const output of manifest.outputs) assert.equal((await flavour.ports.objects.head("renditions", output.key)).bytes, output.bytes);
        } else {
          assert.match(record.error?.code ?? "", /^[A-Z_]+$/, `${input.key} failed without a code`);
          assert.equal(record.error?.permanent, true, `${input.key} failed with ${record.error?.code}, which is not an image error`);
        }
        assert.equal((await flavour.ports.objects.head("uploads", input.key)).bytes, input.body.length, `${input.key} upload is gone`);
      }
    });

    it("retries a transient fault injected into a step, and the job succeeds", async function () {
      const { flavour, calls, plan } = harness;
      const event = await flavour.upload("faults/transient.jpg", await samplePhoto({ width: 96, height: 64, seed: 31 }));
      // Resize writes the renditions to their final keys: fail the first of those writes once.
      plan.failNext("put", "renditions", "faults/transient.jpg/");

      const result = await flavour.execute(event);

      assert.equal(plan.injected.filter((entry) => entry.startsWith("put renditions/faults/transient.jpg/")).length, 1, "the fault was not injected");
      const record = await jobOf(flavour, event);
      assert.equal(record.status, "succeeded", JSON.stringify(record.error));
      const runCalls = calls.filter((call) => call.runId === result.runId);
      // Resize's and ApplyFilters' outputs (they run in parallel: either writes first) and Optimize's manifest go under the prefix:
      // the step whose write failed ran twice, no other.
      const retried = runCalls.filter((call) => call.attempt === 2).map((call) => call.handler);
      assert.equal(retried.length, 1, `not exactly one retry: ${JSON.stringify(runCalls)}`);
      assert.ok(["resize", "applyFilters", "optimize"].includes(retried[0]), `${retried[0]} was retried`);
      assert.equal(Math.max(...runCalls.map((call) => call.attempt)), 2);
      // The retry wrote the same keys again: the manifest names each stored object at its size.
      const manifest = await manifestOf(flavour, record);
      for (const output of manifest.outputs) assert.equal((await flavour.ports.objects.head("renditions", output.key)).bytes, output.bytes, output.key);
      assert.equal(runCalls.filter((call) => call.handler === "notifyError").length, 0);
    });

    it("retries a transient fault in Validate after the job was recorded, without taking its own retry for a duplicate", async function () {
      const { flavour, calls, plan } = harness;
      const event = await flavour.upload("faults/validate.jpg", await samplePhoto({ width: 96, height: 64, seed: 34 }));
      // Validate records the job first, then reads the upload's size: fail that read once.
      plan.failNext("head", "uploads", event.sourceKey);

      const result = await flavour.execute(event);

      assert.equal(plan.injected.filter((entry) => entry === `head uploads/${event.sourceKey}`).length, 1, "the fault was not injected");
      assert.deepEqual(calls.filter((call) => call.runId === result.runId && call.handler === "validate").map((call) => call.attempt), [1, 2]);
      assert.equal(result.duplicate ?? false, false, "the retry of Validate took the run's own job record for a duplicate delivery");
      assert.equal((await jobOf(flavour, event)).status, "succeeded");
    });

    it("does not retry a permanent failure (a corrupt image): NotifyError runs once and one failure event goes out", async function () {
      const { flavour, calls, notifier } = harness;
      const event = await flavour.upload("faults/corrupt.jpg", sampleTruncated(await samplePhoto({ width: 400, height: 300, seed: 32 })));

      const result = await flavour.execute(event);

      assert.equal(result.status, "failed");
      const record = await jobOf(flavour, event);
      assert.equal(record.status, "failed");
      assert.equal(record.error?.code, "CORRUPT_IMAGE");
      const runCalls = calls.filter((call) => call.runId === result.runId);
      assert.ok(runCalls.every((call) => call.attempt === 1), `a step was retried: ${JSON.stringify(runCalls)}`);
      assert.equal(runCalls.filter((call) => call.handler === "notifyError").length, 1);
      const failures = notifier.events.filter((e) => e.sourceKey === event.sourceKey);
      assert.deepEqual(failures.map((e) => e.type), ["image.failed"]);
      assert.equal(failures[0].error?.code, "CORRUPT_IMAGE");
      assert.ok((await flavour.ports.objects.head("uploads", event.sourceKey)).bytes > 0, "the upload is gone");
    });

    it("turns the same upload event delivered twice into one job, one set of outputs and one event", async function () {
      const { flavour, notifier, renditionPuts } = harness;
      const event = await flavour.upload("dupes/twice.jpg", await samplePhoto({ width: 96, height: 64, seed: 33 }));
      const putsBefore = renditionPuts.length;

      const results = await Promise.all([flavour.execute(event), flavour.execute({ ...event })]);

      assert.deepEqual(results.map((r) => r.duplicate ?? false).sort(), [false, true]);
      const record = await jobOf(flavour, event);
      assert.equal(record.status, "succeeded");
      const manifest = await manifestOf(flavour, record);
      assert.equal(renditionPuts.length - putsBefore, manifest.outputs.length + 1, "outputs were written more than once");
      assert.equal(notifier.events.filter((e) => e.sourceKey === event.sourceKey).length, 1);
    });

    it("runs an upload of the same file again as a new job (to retry a failed one, upload it again)", async function () {
      const { flavour, notifier } = harness;
      const photo = await samplePhoto({ width: 96, height: 64, seed: 34 });
      const first = await flavour.upload("again/photo.jpg", photo);
      await flavour.execute(first);
      const second = await flavour.upload("again/photo.jpg", photo);
      const result = await flavour.execute(second);

      assert.equal(result.duplicate ?? false, false);
      assert.notEqual(jobIdFor(second.sourceKey, second.sourceEtag, second.sourceVersion), jobIdFor(first.sourceKey, first.sourceEtag, first.sourceVersion));
      assert.equal((await jobOf(flavour, second)).status, "succeeded");
      assert.equal(notifier.events.filter((e) => e.sourceKey === "again/photo.jpg" && e.type === "image.processed").length, 2);
    });

    // Neither emulator keeps versions (s3rver has no versioning, azurite no blob versions), so here, as on Azure, the
    // older job's pinned read finds its version replaced; on S3 the read succeeds and the HEAD before the writes tells.
    it("ends an older upload's job superseded when a newer upload of the key ran to its end while it ran: the newer upload's outputs stay", async function () {
      const { flavour, plan, notifier } = harness;
      const key = "overwritten/photo.jpg";
      const landscape = await sharp({ create: { width: 160, height: 96, channels: 3, background: "navy" } }).jpeg().toBuffer();
      const portrait = await sharp({ create: { width: 72, height: 120, channels: 3, background: "gold" } }).png().toBuffer();
      const first = await flavour.upload(key, landscape);
      let second: UploadEvent | undefined;
      let secondRun: Awaited<ReturnType<LocalFlavour["execute"]>> | undefined;
      // The newer upload lands, and its whole job runs, between the older job's Validate and Resize.
      plan.beforeUploadRead(key, ["resize", "applyFilters"], async () => {
        second = await flavour.upload(key, portrait);
        secondRun = await flavour.execute(second);
      });

      const firstRun = await flavour.execute(first);
      assert.ok(second && secondRun, "the upload was not overwritten between Validate and Resize");

      await expectSuperseded(first, second, firstRun.status);
      assert.equal(secondRun.status, "succeeded");
      await expectNewerOutputs(key, second);
      const firstJob = await jobOf(flavour, first);
      const secondJob = await jobOf(flavour, second);
      assert.deepEqual(notifier.events.filter((e) => e.sourceKey === key).map((e) => [e.type, e.jobId]), [["image.processed", secondJob.jobId]]);
      assert.notEqual(firstJob.jobId, secondJob.jobId);
    });

    it("writes no manifest for an older upload's job whose Optimize comes after a newer upload's whole job: the newer renditions and manifest stay", async function () {
      const { flavour, plan, notifier } = harness;
      const key = "overwritten/late.jpg";
      const landscape = await sharp({ create: { width: 160, height: 96, channels: 3, background: "teal" } }).jpeg().toBuffer();
      const portrait = await sharp({ create: { width: 72, height: 120, channels: 3, background: "crimson" } }).png().toBuffer();
      const first = await flavour.upload(key, landscape);
      let second: UploadEvent | undefined;
      // Held at Optimize's HEAD of the upload: the older job's Resize has written its renditions by then.
      plan.beforeUploadRead(key, ["optimize"], async () => {
        second = await flavour.upload(key, portrait);
        await flavour.execute(second);
      });

      const firstRun = await flavour.execute(first);
      assert.ok(second, "the upload was not overwritten before Optimize");

      await expectSuperseded(first, second, firstRun.status);
      await expectNewerOutputs(key, second);
      const secondJob = await jobOf(flavour, second);
      assert.deepEqual(notifier.events.filter((e) => e.sourceKey === key).map((e) => [e.type, e.jobId]), [["image.processed", secondJob.jobId]]);
    });

    /** The older job ended superseded by the newer upload: recorded, not failed, no manifest of its own. */
    async function expectSuperseded(older: UploadEvent, newer: UploadEvent, engineStatus: string): Promise<void> {
      const job = await jobOf(harness.flavour, older);
      assert.equal(engineStatus, "succeeded", "a superseded job is not a failed run");
      assert.equal(job.status, "superseded", JSON.stringify(job));
      assert.equal(job.supersededByEtag, newer.sourceEtag);
      assert.equal(job.error, undefined);
      assert.equal(job.manifestKey, undefined);
      assert.ok(job.announcedAt, "the job is closed");
      const row = await jobRow(harness.flavour, { key: older.sourceKey }, older);
      assert.deepEqual([row.status, row.errorCode], ["superseded", undefined], "the local run's table shows it superseded, not lost");
    }

    /** The key's manifest is the newer job's, and every rendition it names shows the newer (portrait) picture. */
    async function expectNewerOutputs(key: string, newer: UploadEvent): Promise<void> {
      const { flavour } = harness;
      const newerJob = await jobOf(flavour, newer);
      assert.equal(newerJob.status, "succeeded", JSON.stringify(newerJob.error));
      const manifest = JSON.parse((await flavour.ports.objects.get("renditions", `${key}/manifest.json`)).toString("utf8")) as Manifest;
      assert.equal(manifest.jobId, newerJob.jobId);
      assert.deepEqual([manifest.source.width, manifest.source.height, manifest.source.format], [72, 120, "png"]);
      assert.ok(manifest.outputs.length > 0);
      for (const output of manifest.outputs) {
        const { width = 0, height = 0 } = await sharp(await flavour.ports.objects.get("renditions", output.key)).metadata();
        assert.ok(height > width, `${output.key} is ${width}×${height}: not the newer upload's portrait`);
      }
    }

    it("erases a deleted upload: nothing left under its prefix, no work objects, no job record, image.deleted out; a redelivered event changes nothing", async function () {
      const { flavour, notifier } = harness;
      const key = "erase/photo.jpg";
      const event = await flavour.upload(key, await samplePhoto({ width: 120, height: 80, seed: 41 }));
      await flavour.execute(event);
      const record = await jobOf(flavour, event);
      const before = (await flavour.ports.objects.list("renditions", "erase/photo.jpg/")).items.map((item) => item.key);
      const work = (await flavour.ports.objects.list("work", `${record.jobId}/`)).items.length;

      const deleted = await flavour.deleteUpload(key);
      const result = await flavour.erase(deleted);
      const again = await flavour.erase(deleted);

      assert.equal(record.status, "succeeded", JSON.stringify(record.error));
      assert.ok(before.includes("erase/photo.jpg/manifest.json") && before.length > 2, `outputs before: ${before.join(", ")}`);
      assert.equal(work, 0, "the job writes no intermediates (#13)");
      assert.deepEqual((await flavour.ports.objects.list("renditions", "erase/photo.jpg/")).items, []);
      assert.deepEqual((await flavour.ports.objects.list("work", `${record.jobId}/`)).items, []);
      assert.equal(await flavour.ports.jobs.get(record.jobId), undefined);
      assert.deepEqual([result.erased, result.removed], [true, { renditions: before.length, work, jobs: 1 }]);
      assert.deepEqual([again.published, again.removed], [false, { renditions: 0, work: 0, jobs: 0 }]);
      assert.deepEqual(notifier.events.filter((e) => e.sourceKey === key).map((e) => [e.type, e.jobId]), [["image.processed", record.jobId], ["image.deleted", record.jobId]]);
    });

    it("leaves nothing behind when the upload is deleted while its job runs, and its delete event is handled first", async function () {
      const { flavour, plan, notifier } = harness;
      const key = "erase/racing.jpg";
      const event = await flavour.upload(key, await samplePhoto({ width: 120, height: 80, seed: 42 }));
      const jobId = jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion);
      let erasedFirst: Awaited<ReturnType<LocalFlavour["erase"]>> | undefined;
      plan.beforeUploadRead(key, ["resize", "applyFilters"], async () => {
        erasedFirst = await flavour.erase(await flavour.deleteUpload(key));
      });

      await flavour.execute(event);

      assert.equal(erasedFirst?.erased, true, "the upload was not deleted between Validate and Resize");
      assert.deepEqual((await flavour.ports.objects.list("renditions", "erase/racing.jpg/")).items, []);
      assert.deepEqual((await flavour.ports.objects.list("work", `${jobId}/`)).items, []);
      assert.equal(await flavour.ports.jobs.get(jobId), undefined, "the job's record went with its upload");
      const events = notifier.events.filter((e) => e.sourceKey === key).map((e) => e.type);
      assert.equal(events[events.length - 1], "image.deleted");
    });

    it("writes no intermediates: a finished job leaves nothing in the work area, and expiring it removes no output", async function () {
      const { flavour } = harness;
      const event = await flavour.upload("expiry/photo.jpg", await samplePhoto({ width: 96, height: 64, seed: 35 }));
      const result = await flavour.execute(event);
      const refs = (result.output as ProcessedJob).processed.flatMap((processed) => processed.outputs.map((ref) => ref.key));
      assert.ok(refs.length > 0);
      assert.ok(refs.every((key) => key.startsWith("expiry/photo.jpg/")), JSON.stringify(refs));

      await flavour.expireWork(jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion));

      const record = await jobOf(flavour, event);
      const manifest = await manifestOf(flavour, record);
      assert.deepEqual(manifest.outputs.map((output) => output.key).sort(), [...refs].sort());
      for (const output of manifest.outputs) await flavour.ports.objects.head("renditions", output.key);
      await flavour.ports.objects.head("uploads", event.sourceKey);
    });

    it("loses nothing with 200 images at concurrency 8", async function () {
      const { flavour } = harness;
      const photos = await smallPhotos(200, 64, 48, `load-${cloud}`);

      const started = Date.now();
      const outcomes = await mapWithConcurrency(photos, 8, async (photo) => {
        const event = await flavour.upload(photo.key, photo.body);
        const result = await flavour.execute(event);
        return { event, result };
      });

      // Read back at the same concurrency: 200 reads at once overran the emulators' sockets on a busy machine (ECONNRESET).
      const records = await mapWithConcurrency(outcomes, 8, ({ event }) => flavour.ports.jobs.get(jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion)));
      assert.equal(records.filter((record) => record !== undefined).length, photos.length, "job records are missing");
      const notSucceeded = records.filter((record) => record?.status !== "succeeded");
      assert.deepEqual(notSucceeded.map((record) => `${record?.sourceKey}: ${record?.status} ${record?.error?.code ?? ""}`), []);
      assert.ok(outcomes.every(({ result }) => result.status === "succeeded"));
      console.log(`      ${cloud}: 200 images at concurrency 8 in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
  });
}
