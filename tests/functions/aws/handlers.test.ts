import assert from "node:assert/strict";
import sharp from "sharp";
import { STEP_HANDLERS } from "../../../components/workflow";
import { awsPortsFromEnv } from "../../../functions/aws/adapters";
import * as handlers from "../../../functions/aws/handlers";
import type { ValidatedJob } from "../../../functions/steps";
import { provisionAws, startDynamo, startS3, type DynamoEmulator, type S3Emulator } from "../../../local/emulators";

const LAMBDA_ENV = ["UPLOADS_BUCKET", "RENDITIONS_BUCKET", "JOBS_TABLE", "TOPIC_ARN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB", "PIPELINE_OPTIONS"];

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

  it("exports exactly one function per workflow step handler", () => {
    const exported = Object.keys(handlers).sort();

    assert.deepEqual(exported, [...STEP_HANDLERS].sort());
    for (const name of STEP_HANDLERS) assert.equal(typeof handlers[name], "function", name);
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
    });
    const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: "orange" } }).jpeg().toBuffer();
    const ports = awsPortsFromEnv();
    await ports.objects.put("uploads", "photos/cat.jpg", image, "image/jpeg");

    const validated = (await handlers.validate({ sourceKey: "photos/cat.jpg", sourceEtag: "etag-1" })) as ValidatedJob;

    assert.equal(validated.duplicate, false);
    assert.equal((await ports.jobs.get(validated.jobId))?.status, "running");
  });

  it("reports a missing upload as a PermanentError with the NOT_FOUND code", async () => {
    await assert.rejects(handlers.validate({ sourceKey: "photos/missing.jpg", sourceEtag: "etag-2" }), (error: Error) => {
      assert.equal(error.name, "PermanentError");
      assert.match(error.message, /^NOT_FOUND: .*photos\/missing\.jpg/);
      return true;
    });
  });
});
