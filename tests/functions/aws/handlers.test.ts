import assert from "node:assert/strict";
import sharp from "sharp";
import { ERASE_HANDLER, STEP_HANDLERS, SWEEP_HANDLER } from "../../../functions/workflow";
import { awsPortsFromEnv } from "../../../functions/aws/adapters";
import * as handlers from "../../../functions/aws/handlers";
import { jobIdFor, type ValidatedJob } from "../../../functions/steps";
import { provisionAws, startDynamo, startS3, type DynamoEmulator, type S3Emulator } from "../../../local/emulators";

const LAMBDA_ENV = ["UPLOADS_BUCKET", "RENDITIONS_BUCKET", "JOBS_TABLE", "TOPIC_ARN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SNS", "AWS_MAX_ATTEMPTS", "PIPELINE_OPTIONS", "STUCK_AFTER_SECONDS"];

describe("AWS Lambda entry file", () => {
  const saved = Object.fromEntries(LAMBDA_ENV.map((name) => [name, process.env[name]]));
  let s3: S3Emulator;
  let dynamo: DynamoEmulator;

  before(async () => {
    [s3, dynamo] = await Promise.all([startS3(), startDynamo()]);
    await provisionAws({ s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, uploadsBucket: "uploads", renditionsBucket: "renditions", tableName: "jobs" });
    for (const name of LAMBDA_ENV) delete process.env[name];
  });

  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await Promise.all([s3?.stop(), dynamo?.stop()]);
  });

  it("exports exactly one function per workflow step handler, the sweep and erasure", () => {
    const exported = Object.keys(handlers).sort();

    assert.deepEqual(exported, [...STEP_HANDLERS, SWEEP_HANDLER, ERASE_HANDLER].sort());
    for (const name of [...STEP_HANDLERS, SWEEP_HANDLER, ERASE_HANDLER] as const) assert.equal(typeof handlers[name], "function", name);
  });

  it("fails with a PermanentError whose message is CODE: text when the environment is incomplete", async () => {
    await assert.rejects(handlers.validate({ sourceKey: "a.jpg" }), (error: Error & { code?: string }) => {
      assert.equal(error.name, "PermanentError");
      assert.equal(error.code, "CONFIG_INVALID");
      assert.match(error.message, /^CONFIG_INVALID: .*UPLOADS_BUCKET/);
      return true;
    });
  });

  it("runs a step with ports built from the environment once the environment is complete", async () => {
    Object.assign(process.env, {
      UPLOADS_BUCKET: "uploads",
      RENDITIONS_BUCKET: "renditions",
      JOBS_TABLE: "jobs",
      TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:events",
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      // No SNS here: a closed loopback port, so a publish fails at once (the functions are built once, on the first call).
      AWS_ENDPOINT_URL_SNS: "http://127.0.0.1:9",
      AWS_MAX_ATTEMPTS: "1",
    });
    const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: "orange" } }).jpeg().toBuffer();
    const ports = awsPortsFromEnv();
    await ports.objects.put("uploads", "photos/cat.jpg", image, "image/jpeg");
    const { etag } = await ports.objects.head("uploads", "photos/cat.jpg");

    const validated = (await handlers.validate({ sourceKey: "photos/cat.jpg", sourceEtag: etag })) as ValidatedJob;

    assert.equal(validated.duplicate, false);
    assert.equal((await ports.jobs.get(validated.jobId))?.status, "running");
  });

  it("sweeps stuck jobs: fails them with TIMEOUT, and reports a notifier outage as a TransientError", async () => {
    const ports = awsPortsFromEnv();
    const old = "2001-01-01T00:00:00.000Z";
    await ports.jobs.create({ jobId: "stuck-job", sourceKey: "photos/stuck.jpg", status: "running", createdAt: old, updatedAt: old });

    await assert.rejects(handlers.sweepStuckJobs(), (error: Error & { code?: string }) => {
      assert.equal(error.name, "PermanentError");
      assert.match(error.message, /^CONFIG_INVALID: STUCK_AFTER_SECONDS/);
      return true;
    });
    assert.equal((await ports.jobs.get("stuck-job"))?.status, "running", "nothing changes without the setting");

    // SNS is a closed loopback port: the record is finished, the publish fails and the sweep says so.
    process.env.STUCK_AFTER_SECONDS = "1200";
    await assert.rejects(handlers.sweepStuckJobs(), (error: Error) => {
      assert.equal(error.name, "TransientError");
      assert.match(error.message, /SNS/);
      return true;
    });
    const swept = await ports.jobs.get("stuck-job");
    assert.equal(swept?.status, "failed");
    assert.equal(swept?.error?.code, "TIMEOUT");
  });

  it("erases a deleted upload's outputs, and reports a notifier outage as a TransientError so Lambda retries", async () => {
    const ports = awsPortsFromEnv();
    await ports.objects.put("renditions", "photos/gone.jpg/thumb.webp", Buffer.from("webp"), "image/webp");
    await ports.objects.put("renditions", "photos/gone.jpg/manifest.json", Buffer.from(JSON.stringify({ jobId: "job-gone" })), "application/json");
    // A plain DELETE on the versioned bucket: the event's ETag and version id are the delete marker's.
    const event = { sourceKey: "photos/gone.jpg", sourceEtag: "d41d8cd98f00b204e9800998ecf8427e", sourceVersion: "marker-1", deletionType: "Delete Marker Created" };

    await assert.rejects(handlers.eraseUpload(event), (error: Error) => {
      assert.equal(error.name, "TransientError");
      assert.match(error.message, /SNS/);
      return true;
    });
    assert.deepEqual((await ports.objects.list("renditions", "photos/gone.jpg/")).items, []);
  });

  it("names the deleted upload's job by the event's ETag and version only for a permanent deletion", async () => {
    const base = { sourceKey: "photos/never.jpg", sourceEtag: "0123456789abcdef0123456789abcdef", sourceVersion: "v-7" };

    const marker = await handlers.eraseUpload({ ...base, deletionType: "Delete Marker Created" });
    const permanent = await handlers.eraseUpload({ ...base, deletionType: "Permanently Deleted" });

    assert.deepEqual(marker.jobIds, []);
    assert.deepEqual(permanent.jobIds, [jobIdFor("photos/never.jpg", "0123456789abcdef0123456789abcdef", "v-7")]);
    assert.equal(permanent.published, false, "nothing was there to erase");
    await assert.rejects(handlers.eraseUpload({ deletionType: "Delete Marker Created" }), (error: Error) => {
      assert.equal(error.name, "PermanentError");
      assert.match(error.message, /^CONFIG_INVALID: .*sourceKey/);
      return true;
    });
  });

  it("reports a missing upload as a PermanentError with the NOT_FOUND code", async () => {
    await assert.rejects(handlers.validate({ sourceKey: "photos/missing.jpg", sourceEtag: "etag-2" }), (error: Error) => {
      assert.equal(error.name, "PermanentError");
      assert.match(error.message, /^NOT_FOUND: .*photos\/missing\.jpg/);
      return true;
    });
  });
});
