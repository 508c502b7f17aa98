import assert from "node:assert/strict";
import sharp from "sharp";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { PipelineError } from "../../../functions/core/errors";
import { runStep, jobIdFor, failureToError, outputKey, manifestKey, type Manifest, type StepOutputs, type ValidatedJob, type OptimizeResult, type NotifyResult } from "../../../functions/steps";
import { memoryPorts } from "../../../local/memoryPorts";

const options = defaultProcessingOptions();

async function photo(width = 1200, height = 800): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .composite([{ input: Buffer.from(`<svg width="${width}" height="${height}"><circle cx="${width / 3}" cy="${height / 2}" r="${height / 4}" fill="orange"/></svg>`) }])
    .jpeg()
    .toBuffer();
}

async function upload(body: Buffer, key = "photos/cat.jpg") {
  const ports = memoryPorts();
  await ports.objects.put("uploads", key, body, "image/jpeg");
  return ports;
}

/** The start input the trigger gives for the upload now stored under `storedKey`: its key as the event spells it, ETag and version. */
async function uploadEvent(ports: ReturnType<typeof memoryPorts>, sourceKey = "photos/cat.jpg", storedKey = sourceKey) {
  const { etag, versionId } = await ports.objects.head("uploads", storedKey);
  return { sourceKey, sourceEtag: etag, sourceVersion: versionId };
}

/** Runs the workflow's happy path through the real step handlers, as an engine would. */
async function runHappyPath(ports: ReturnType<typeof memoryPorts>, sourceKey = "photos/cat.jpg", runId = "run-1", storedKey = sourceKey) {
  const validated = (await runStep("validate", { ...(await uploadEvent(ports, sourceKey, storedKey)), runId }, ports, options)) as ValidatedJob;
  const processed = [
    (await runStep("resize", validated, ports, options)) as StepOutputs,
    (await runStep("applyFilters", validated, ports, options)) as StepOutputs,
  ];
  const optimized = (await runStep("optimize", { ...validated, processed }, ports, options)) as OptimizeResult;
  const notified = (await runStep("notifySuccess", { ...validated, processed, optimized }, ports, options)) as NotifyResult;
  return { validated, processed, optimized, notified };
}

describe("workflow steps", () => {
  it("run end to end: every manifest entry exists in the renditions area and the job succeeds once", async () => {
    const ports = await upload(await photo());

    const { validated, processed, optimized, notified } = await runHappyPath(ports);

    assert.equal(validated.duplicate, false);
    assert.equal(optimized.manifestKey, manifestKey("photos/cat.jpg"));
    const manifest = JSON.parse((await ports.objects.get("renditions", optimized.manifestKey)).toString()) as Manifest;
    assert.equal(manifest.outputs.length, optimized.outputs);
    assert.equal(manifest.outputs.length, options.renditions.length * options.formats.length);
    for (const entry of manifest.outputs) {
      const stored = await ports.objects.get("renditions", entry.key);
      assert.equal(stored.length, entry.bytes, entry.key);
      assert.equal(entry.savedBytes, manifest.source.bytes - entry.bytes);
    }
    assert.ok(manifest.placeholder?.dataUri.startsWith("data:image/"), "the placeholder travels in the manifest");
    assert.ok(JSON.stringify(processed).length < 4096, "payloads carry keys, not image bytes");
    assert.deepEqual(notified, { jobId: validated.jobId, status: "succeeded", published: true });
    assert.equal((await ports.jobs.get(validated.jobId))?.status, "succeeded");
    assert.deepEqual(ports.notifier.events.map((e) => e.type), ["image.processed"]);
    assert.ok(ports.objects.keys("uploads").includes("photos/cat.jpg"), "the upload is kept");
  });

  it("treat a second run for the same upload as a duplicate that writes nothing", async () => {
    const ports = await upload(await photo());
    const event = await uploadEvent(ports);
    const first = (await runStep("validate", { ...event, runId: "run-1" }, ports, options)) as ValidatedJob;
    const putsBefore = ports.objects.puts.length;

    const second = (await runStep("validate", { ...event, runId: "run-2" }, ports, options)) as ValidatedJob;

    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.equal(second.jobId, first.jobId);
    assert.equal(ports.objects.puts.length, putsBefore);
    assert.equal(ports.jobs.records.size, 1);
  });

  it("let a retry of the same run through validate again", async () => {
    const ports = await upload(await photo());
    await runStep("validate", { sourceKey: "photos/cat.jpg", runId: "run-1" }, ports, options);

    const retried = (await runStep("validate", { sourceKey: "photos/cat.jpg", runId: "run-1" }, ports, options)) as ValidatedJob;

    assert.equal(retried.duplicate, false);
    assert.equal(retried.image?.width, 1200);
  });

  it("send one success event when NotifySuccess is delivered twice", async () => {
    const ports = await upload(await photo(400, 300));
    const { validated, processed, optimized } = await runHappyPath(ports);

    const again = (await runStep("notifySuccess", { ...validated, processed, optimized }, ports, options)) as NotifyResult;

    assert.equal(again.published, false);
    assert.equal(ports.notifier.events.length, 1);
  });

  it("reject an oversized upload from its size alone, with TOO_LARGE", async () => {
    const ports = await upload(await photo());
    const small = { ...options, limits: { ...options.limits, maxBytes: 100 } };

    await assert.rejects(runStep("validate", { sourceKey: "photos/cat.jpg" }, ports, small), (error: Error & { code?: string }) => {
      assert.equal(error.name, "PermanentError");
      assert.equal(error.code, "TOO_LARGE");
      assert.match(error.message, /^TOO_LARGE: .*limit of 100 bytes/);
      return true;
    });
  });

  it("fail a corrupt upload with a permanent CORRUPT_IMAGE error", async () => {
    const ports = await upload(Buffer.from("this is not an image, just text pretending to be a jpeg"));

    await assert.rejects(runStep("validate", { sourceKey: "photos/cat.jpg" }, ports, options), { name: "PermanentError", code: "CORRUPT_IMAGE" });
  });

  it("fail a missing upload with NOT_FOUND", async () => {
    const ports = memoryPorts();

    await assert.rejects(runStep("validate", { sourceKey: "nowhere.jpg" }, ports, options), { name: "PermanentError", code: "NOT_FOUND" });
  });

  it("reject a start event without a sourceKey with CONFIG_INVALID", async () => {
    await assert.rejects(runStep("validate", {}, memoryPorts(), options), { code: "CONFIG_INVALID" });
  });

  it("turn an unexpected error into a transient INTERNAL error without leaking its text", async () => {
    const ports = await upload(await photo(64, 64));
    ports.objects.head = async () => {
      throw new Error("socket hang up at internal.js:42");
    };
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      await assert.rejects(runStep("validate", { sourceKey: "photos/cat.jpg" }, ports, options), (error: Error & { code?: string }) => {
        assert.equal(error.name, "TransientError");
        assert.equal(error.code, "INTERNAL");
        assert.doesNotMatch(error.message, /socket hang up/);
        return true;
      });
    } finally {
      console.error = original;
    }
    assert.equal(logged.length, 1, "the cause goes to the log");
  });

  it("record a failure from a Lambda-style Cause with its code, once, keeping the upload", async () => {
    const ports = await upload(Buffer.from("junk"));
    const cause = JSON.stringify({ errorType: "PermanentError", errorMessage: "CORRUPT_IMAGE: The file is not a readable image." });
    const failed = { sourceKey: "photos/cat.jpg", sourceEtag: "e1", error: { Error: "PermanentError", Cause: cause } };

    const first = (await runStep("notifyError", failed, ports, options)) as NotifyResult;
    const second = (await runStep("notifyError", failed, ports, options)) as NotifyResult;

    const record = await ports.jobs.get(jobIdFor("photos/cat.jpg", "e1"));
    assert.equal(record?.status, "failed");
    assert.equal(record?.error?.code, "CORRUPT_IMAGE");
    assert.equal(first.published, true);
    assert.equal(second.published, false);
    assert.deepEqual(ports.notifier.events.map((e) => [e.type, e.error?.code]), [["image.failed", "CORRUPT_IMAGE"]]);
    assert.ok(ports.objects.keys("uploads").includes("photos/cat.jpg"));
  });
});

describe("NotifyError for a duplicate delivery's run", () => {
  it("leaves the job of the run that owns it alone: no failed record, no event", async () => {
    const ports = memoryPorts();
    // The upload is still there: nothing is erased.
    await ports.objects.put("uploads", "photos/cat.jpg", Buffer.from("jpeg"), "image/jpeg");
    const jobId = jobIdFor("photos/cat.jpg", "e1");
    const now = new Date().toISOString();
    await ports.jobs.create({ jobId, sourceKey: "photos/cat.jpg", sourceEtag: "e1", runId: "run-owner", status: "running", createdAt: now, updatedAt: now });
    const failed = { sourceKey: "photos/cat.jpg", sourceEtag: "e1", error: { Error: "TransientError", Cause: "THROTTLED: DynamoDB throttled the request." } };

    const other = (await runStep("notifyError", { input: failed, runId: "run-duplicate" }, ports, options)) as NotifyResult;
    const afterOther = await ports.jobs.get(jobId);
    const owner = (await runStep("notifyError", { input: failed, runId: "run-owner" }, ports, options)) as NotifyResult;

    assert.equal(other.published, false);
    assert.equal(afterOther?.status, "running");
    assert.equal(afterOther?.error, undefined);
    assert.equal(owner.published, true);
    assert.deepEqual(ports.notifier.events.map((e) => [e.type, e.jobId]), [["image.failed", jobId]]);
  });
});

describe("a re-upload of the same file", () => {
  it("runs again as a new job when the event carries a new version id, and is a duplicate for the same one", async () => {
    const body = await sharp({ create: { width: 32, height: 24, channels: 3, background: "olive" } }).jpeg().toBuffer();
    const ports = await upload(body);
    const first = await uploadEvent(ports);

    const original = (await runStep("validate", { input: first, runId: "run-1" }, ports, options)) as ValidatedJob;
    const redelivered = (await runStep("validate", { input: first, runId: "run-2" }, ports, options)) as ValidatedJob;
    await ports.objects.put("uploads", "photos/cat.jpg", body, "image/jpeg");
    const second = await uploadEvent(ports);
    const reuploaded = (await runStep("validate", { input: second, runId: "run-3" }, ports, options)) as ValidatedJob;

    assert.equal(second.sourceEtag, first.sourceEtag, "the same bytes have the same ETag");
    assert.notEqual(second.sourceVersion, first.sourceVersion);
    assert.equal(redelivered.duplicate, true);
    assert.equal(reuploaded.duplicate, false);
    assert.notEqual(reuploaded.jobId, original.jobId);
  });
});

describe("an outcome whose publish failed", () => {
  it("goes out when the step is retried, once, and the job is closed", async () => {
    const ports = await upload(await sharp({ create: { width: 64, height: 48, channels: 3, background: "teal" } }).jpeg().toBuffer());
    const job = (await runStep("validate", await uploadEvent(ports), ports, options)) as ValidatedJob;
    const optimized = { manifestKey: "photos/cat/manifest.json", outputs: 6, bytesIn: 100, bytesOut: 60 };
    const publish = ports.notifier.publish.bind(ports.notifier);
    let outage = true;
    ports.notifier.publish = async (event) => {
      if (outage) throw new PipelineError("STORAGE_UNAVAILABLE", "SNS did not answer.");
      return publish(event);
    };

    await assert.rejects(runStep("notifySuccess", { ...job, optimized }, ports, options), { name: "TransientError" });
    const afterFailure = await ports.jobs.get(job.jobId);
    outage = false;
    const retried = (await runStep("notifySuccess", { ...job, optimized }, ports, options)) as NotifyResult;
    const again = (await runStep("notifySuccess", { ...job, optimized }, ports, options)) as NotifyResult;

    assert.equal(afterFailure?.status, "succeeded");
    assert.equal(afterFailure?.announcedAt, undefined, "not announced while the publish failed");
    assert.equal(retried.published, true);
    assert.equal(again.published, false);
    assert.deepEqual(ports.notifier.events.map((e) => [e.type, e.manifestKey]), [["image.processed", "photos/cat/manifest.json"]]);
    assert.ok((await ports.jobs.get(job.jobId))?.announcedAt);
  });

  it("is not announced by another run's NotifyError", async () => {
    const ports = memoryPorts();
    // The upload is still there: nothing is erased.
    await ports.objects.put("uploads", "photos/cat.jpg", Buffer.from("jpeg"), "image/jpeg");
    const jobId = jobIdFor("photos/cat.jpg", "e1");
    const now = new Date().toISOString();
    await ports.jobs.create({ jobId, sourceKey: "photos/cat.jpg", sourceEtag: "e1", runId: "run-owner", status: "running", createdAt: now, updatedAt: now });
    await ports.jobs.finish(jobId, { status: "failed", error: { code: "CORRUPT_IMAGE", message: "bad", permanent: true } }, "run-owner");
    const failed = { sourceKey: "photos/cat.jpg", sourceEtag: "e1", error: { Error: "PermanentError", Cause: "CORRUPT_IMAGE: bad" } };

    const other = (await runStep("notifyError", { input: failed, runId: "run-duplicate" }, ports, options)) as NotifyResult;
    const owner = (await runStep("notifyError", { input: failed, runId: "run-owner" }, ports, options)) as NotifyResult;

    assert.equal(other.published, false);
    assert.equal(owner.published, true, "the owner's retry announces its recorded failure");
    assert.equal(ports.notifier.events.length, 1);
  });
});

describe("failureToError", () => {
  it("reads a plain CODE: message cause", () => {
    assert.equal(failureToError({ Error: "PermanentError", Cause: "TOO_MANY_PIXELS: too big" }).code, "TOO_MANY_PIXELS");
  });

  it("maps a Step Functions timeout to TIMEOUT", () => {
    assert.equal(failureToError({ Error: "States.Timeout" }).code, "TIMEOUT");
  });

  it("maps anything else to INTERNAL without repeating the raw cause", () => {
    const error = failureToError({ Error: "Lambda.Unknown", Cause: "Segmentation fault at 0xdeadbeef" });
    assert.equal(error.code, "INTERNAL");
    assert.doesNotMatch(error.message, /deadbeef/);
  });
});

describe("jobIdFor", () => {
  it("gives the same id for the same key and etag, quoted or not", () => {
    assert.equal(jobIdFor("a/b.jpg", '"abc"'), jobIdFor("a/b.jpg", "abc"));
  });

  it("gives a new id for a new version of the same key", () => {
    assert.notEqual(jobIdFor("a/b.jpg", "v1"), jobIdFor("a/b.jpg", "v2"));
  });

  it("gives a new id for a re-upload of the same bytes to S3 (same ETag, new version id), the same for the same version", () => {
    const md5 = "9e107d9d372bb6826bd81d3542a419d6";
    assert.notEqual(jobIdFor("a/b.jpg", md5, "version-1"), jobIdFor("a/b.jpg", md5, "version-2"));
    assert.equal(jobIdFor("a/b.jpg", md5, "version-1"), jobIdFor("a/b.jpg", md5, "version-1"));
    assert.equal(jobIdFor("a/b.jpg", md5, undefined), jobIdFor("a/b.jpg", md5), "events without a version keep their ids");
  });
});

describe("output keys", () => {
  it("put outputs beside each other under the upload's whole name", () => {
    assert.equal(outputKey("photos/cat.jpg", "rendition", "thumb", "webp"), "photos/cat.jpg/thumb.webp");
    assert.equal(outputKey("photos/cat.jpg", "effect", "grayscale", "jpg"), "photos/cat.jpg/effect-grayscale.jpg");
    assert.equal(manifestKey("cat"), "cat/manifest.json");
  });

  it("keep two uploads that differ only by extension apart: neither overwrites the other's outputs", async () => {
    const ports = await upload(await photo(600, 400), "photos/cat.jpg");
    await ports.objects.put("uploads", "photos/cat.png", await sharp(await photo(300, 200)).png().toBuffer(), "image/png");

    const jpeg = await runHappyPath(ports, "photos/cat.jpg", "run-jpeg");
    const png = await runHappyPath(ports, "photos/cat.png", "run-png");

    assert.deepEqual([jpeg.optimized.manifestKey, png.optimized.manifestKey], ["photos/cat.jpg/manifest.json", "photos/cat.png/manifest.json"]);
    const manifests = await Promise.all([jpeg, png].map(async (run) => JSON.parse((await ports.objects.get("renditions", run.optimized.manifestKey)).toString()) as Manifest));
    assert.deepEqual(manifests.map((m) => [m.sourceKey, m.source.width]), [["photos/cat.jpg", 600], ["photos/cat.png", 300]]);
    const jpegKeys = manifests[0].outputs.map((o) => o.key);
    assert.ok(manifests[1].outputs.every((o) => !jpegKeys.includes(o.key)), "no output key is shared");
  });
});

describe("validate's input", () => {
  it("accepts the run id beside the start input, as Step Functions passes it", async () => {
    const ports = await upload(await photo(200, 100));
    await runStep("validate", { input: { sourceKey: "photos/cat.jpg" }, runId: "exec-1" }, ports, options);

    const again = (await runStep("validate", { input: { sourceKey: "photos/cat.jpg" }, runId: "exec-2" }, ports, options)) as ValidatedJob;

    assert.equal(again.duplicate, true);
    assert.equal([...ports.jobs.records.values()][0].runId, "exec-1");
  });
});

describe("validate's upload key", () => {
  it("finds an upload whose event carried the key URL-encoded, and names outputs by the real key", async () => {
    const ports = await upload(await photo(300, 200), "photos/red flower café.jpg");

    const { validated, optimized } = await runHappyPath(ports, "photos/red+flower+caf%C3%A9.jpg", "run-1", "photos/red flower café.jpg");

    assert.equal(validated.sourceKey, "photos/red flower café.jpg");
    assert.equal(optimized.manifestKey, "photos/red flower café.jpg/manifest.json");
    assert.equal((await ports.jobs.get(validated.jobId))?.status, "succeeded");
  });

  it("prefers the key as given when it exists, even if it looks encoded", async () => {
    const ports = await upload(await photo(300, 200), "photos/a+b.jpg");
    await ports.objects.put("uploads", "photos/a b.jpg", await photo(100, 100), "image/jpeg");

    const validated = (await runStep("validate", { sourceKey: "photos/a+b.jpg" }, ports, options)) as ValidatedJob;

    assert.equal(validated.sourceKey, "photos/a+b.jpg");
    assert.equal(validated.image?.width, 300);
  });

  it("still reports NOT_FOUND when neither the key nor its decoded form exists", async () => {
    await assert.rejects(runStep("validate", { sourceKey: "photos/no+such%20file.jpg" }, memoryPorts(), options), { code: "NOT_FOUND" });
  });
});

describe("an upload overwritten while its job runs", () => {
  const landscape = () => photo(1200, 800);
  const portrait = () => photo(400, 600);

  it("is rendered in the version its event named when the overwrite comes after Resize's check (the window the check leaves)", async () => {
    const ports = await upload(await landscape());
    const event = await uploadEvent(ports);
    const validated = (await runStep("validate", { ...event, runId: "run-1" }, ports, options)) as ValidatedJob;
    // The overwrite lands right after Resize's HEAD of the newest version (functions/steps/current.ts), before its writes.
    const head = ports.objects.head.bind(ports.objects);
    let overwritten = false;
    ports.objects.head = async (area, key, version) => {
      const info = await head(area, key, version);
      if (area === "uploads" && !version && !overwritten) {
        overwritten = true;
        await ports.objects.put("uploads", "photos/cat.jpg", await portrait(), "image/jpeg");
      }
      return info;
    };

    const resized = (await runStep("resize", validated, ports, options)) as StepOutputs;

    assert.equal(resized.superseded, undefined);
    assert.ok(resized.outputs.length > 0);
    for (const entry of resized.outputs) {
      const { width = 0, height = 0 } = await sharp(await ports.objects.get("renditions", entry.key)).metadata();
      assert.ok(width > height, `${entry.key} is ${width}×${height}, not the first upload's landscape`);
    }
  });

  it("ends superseded, not failed, when only its ETag pins it (Azure) and the read finds it replaced: nothing is rendered", async () => {
    const ports = await upload(await landscape());
    const { sourceKey, sourceEtag } = await uploadEvent(ports);
    const validated = (await runStep("validate", { sourceKey, sourceEtag, runId: "run-1" }, ports, options)) as ValidatedJob;
    await ports.objects.put("uploads", "photos/cat.jpg", await portrait(), "image/jpeg");

    const resized = (await runStep("resize", { ...validated, sourceVersion: undefined }, ports, options)) as StepOutputs;

    assert.equal(resized.superseded?.etag, (await ports.objects.head("uploads", "photos/cat.jpg")).etag);
    assert.deepEqual(resized.outputs, []);
    assert.deepEqual(ports.objects.keys("renditions"), [], "nothing was rendered from either upload");
  });

  it("is pinned by Validate to the version it read when the start input names none", async () => {
    const ports = await upload(await landscape());
    const stored = await ports.objects.head("uploads", "photos/cat.jpg");

    const validated = (await runStep("validate", { sourceKey: "photos/cat.jpg", runId: "run-1" }, ports, options)) as ValidatedJob;
    await ports.objects.put("uploads", "photos/cat.jpg", await portrait(), "image/jpeg");
    const resized = (await runStep("resize", validated, ports, options)) as StepOutputs;

    assert.equal(validated.sourceEtag, stored.etag);
    assert.equal(validated.sourceVersion, stored.versionId);
    // The pin is what tells the newer upload apart: this job writes nothing of it.
    assert.equal(resized.superseded?.versionId, (await ports.objects.head("uploads", "photos/cat.jpg")).versionId);
    assert.deepEqual(resized.outputs, []);
  });

  it("ends superseded in Validate itself when its version was replaced, without trying the key's decoded form", async () => {
    const ports = await upload(await landscape(), "photos/a+b.jpg");
    await ports.objects.put("uploads", "photos/a b.jpg", await portrait(), "image/jpeg");
    const { sourceKey, sourceEtag } = await uploadEvent(ports, "photos/a+b.jpg");
    await ports.objects.put("uploads", "photos/a+b.jpg", await portrait(), "image/jpeg");

    const validated = (await runStep("validate", { sourceKey, sourceEtag }, ports, options)) as ValidatedJob;

    assert.equal(validated.sourceKey, "photos/a+b.jpg");
    assert.equal(validated.superseded?.etag, (await ports.objects.head("uploads", "photos/a+b.jpg")).etag);
    assert.equal(validated.image, undefined);
  });
});
