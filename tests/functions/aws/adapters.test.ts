import assert from "node:assert/strict";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { SNSClient } from "@aws-sdk/client-sns";
import {
  awsPortsFromEnv,
  createAwsPorts,
  LOCAL_AWS_CREDENTIALS,
  S3ObjectStore,
  SnsNotifier,
  toAwsError,
} from "../../../functions/aws/adapters";
import { PipelineError } from "../../../functions/core/errors";
import type { PipelineEvent, Ports } from "../../../functions/ports";
import { provisionAws, startDynamo, startS3, type DynamoEmulator, type S3Emulator } from "../../../local/emulators";
import { MemoryNotifier } from "../../../local/memoryPorts";
import { assertStoresUnavailable, describePortContract, pipelineError, versionGone } from "../../helpers/portContract";

const names = { uploadsBucket: "uploads", renditionsBucket: "renditions", tableName: "jobs" };

describe("AWS adapters against s3rver and dynalite", () => {
  let s3: S3Emulator;
  let dynamo: DynamoEmulator;
  let ports: Ports;
  let rawS3: S3Client;
  let rawDynamo: DynamoDBClient;

  before(async () => {
    [s3, dynamo] = await Promise.all([startS3(), startDynamo()]);
    await provisionAws({ s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, ...names });
    ports = createAwsPorts({
      ...names,
      endpoint: s3.endpoint,
      dynamoEndpoint: dynamo.endpoint,
      notifier: new MemoryNotifier(),
      retentionDays: 30,
      maxAttempts: 1,
    });
    const common = { region: "us-east-1", credentials: LOCAL_AWS_CREDENTIALS };
    rawS3 = new S3Client({ ...common, endpoint: s3.endpoint, forcePathStyle: true });
    rawDynamo = new DynamoDBClient({ ...common, endpoint: dynamo.endpoint });
  });

  after(async () => {
    rawS3?.destroy();
    rawDynamo?.destroy();
    await Promise.all([s3?.stop(), dynamo?.stop()]);
  });

  // s3rver keeps no versions (it answers `?versioning` with NotImplemented); S3 itself does, checked on the wire below.
  describePortContract(() => ports, { keepsVersions: false });

  describe("S3ObjectStore", () => {
    it("reports the ETag without quotes, as upload events carry it", async () => {
      await ports.objects.put("uploads", "photos/cat.jpg", Buffer.from("not really a jpeg"), "image/jpeg");

      const info = await ports.objects.head("uploads", "photos/cat.jpg");

      assert.match(info.etag ?? "", /^[0-9a-f]{32}$/);
    });

    it("keeps intermediates under the work prefix of the renditions bucket", async () => {
      await ports.objects.put("work", "job-1/thumb.png", Buffer.from("png"), "image/png");

      const raw = await rawS3.send(new GetObjectCommand({ Bucket: "renditions", Key: "work/job-1/thumb.png" }));

      assert.equal(await raw.Body?.transformToString(), "png");
    });

    it("maps each area to its bucket and key in one place", () => {
      const store = new S3ObjectStore(rawS3, { uploadsBucket: "up", renditionsBucket: "out", workPrefix: "tmp/" });

      assert.deepEqual(store.keyFor("uploads", "a.jpg"), { Bucket: "up", Key: "a.jpg" });
      assert.deepEqual(store.keyFor("work", "a.jpg"), { Bucket: "out", Key: "tmp/a.jpg" });
      assert.deepEqual(store.keyFor("renditions", "a.jpg"), { Bucket: "out", Key: "a.jpg" });
    });

    it("asks S3 for the version an upload event named, on GET and HEAD", async () => {
      const queries: Array<Record<string, unknown>> = [];
      const client = new S3Client({ region: "us-east-1", credentials: LOCAL_AWS_CREDENTIALS, endpoint: s3.endpoint, forcePathStyle: true, maxAttempts: 1 });
      client.middlewareStack.add((next) => async (args) => (queries.push({ ...(args.request as { query: Record<string, unknown> }).query }), next(args)), { step: "finalizeRequest" });
      const store = new S3ObjectStore(client, { uploadsBucket: "uploads", renditionsBucket: "renditions" });
      const body = Buffer.from("version one");
      await ports.objects.put("uploads", "photos/versioned.jpg", body, "image/jpeg");
      const { etag } = await ports.objects.head("uploads", "photos/versioned.jpg");

      const read = await store.get("uploads", "photos/versioned.jpg", { versionId: "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", etag });
      await store.head("uploads", "photos/versioned.jpg", { versionId: "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", etag });
      await store.get("uploads", "photos/versioned.jpg");
      client.destroy();

      assert.deepEqual(read, body);
      assert.deepEqual(queries.map((query) => query.versionId), ["3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", undefined]);
    });

    it("reports a named version S3 no longer has (NoSuchVersion, or a bare 404 on HEAD) as NOT_FOUND saying it was replaced", async () => {
      const failures = [
        { name: "NoSuchVersion", message: "The specified version does not exist.", $metadata: { httpStatusCode: 404 } },
        { name: "NotFound", message: "", $metadata: { httpStatusCode: 404 } },
      ];
      for (const failure of failures) {
        const client = { send: async () => Promise.reject(Object.assign(new Error(failure.message), failure)) } as unknown as S3Client;
        const store = new S3ObjectStore(client, { uploadsBucket: "uploads", renditionsBucket: "renditions" });

        await assert.rejects(store.get("uploads", "photos/gone.jpg", { versionId: "v1", etag: "abc" }), versionGone("photos/gone.jpg"));
        await assert.rejects(store.head("uploads", "photos/gone.jpg", { versionId: "v1" }), versionGone("photos/gone.jpg"));
        // Without a version, a 404 is a plain missing object.
        await assert.rejects(store.get("uploads", "photos/gone.jpg"), (error: PipelineError) => {
          assert.equal(error.code, "NOT_FOUND");
          assert.doesNotMatch(error.message, /replaced/);
          return true;
        });
      }
    });

    it("deletes every version and delete marker of exactly the key named, page after page, when asked for every version", async () => {
      const sent: Array<{ command: string; input: Record<string, unknown> }> = [];
      const pages = [
        {
          IsTruncated: true,
          NextKeyMarker: "photos/cat.jpg",
          NextVersionIdMarker: "v2",
          Versions: [{ Key: "photos/cat.jpg", VersionId: "v3" }, { Key: "photos/cat.jpg", VersionId: "v2" }],
          DeleteMarkers: [{ Key: "photos/cat.jpg", VersionId: "m1" }],
        },
        { IsTruncated: true, NextKeyMarker: "photos/cat.jpg.bak", NextVersionIdMarker: "b1", Versions: [{ Key: "photos/cat.jpg", VersionId: "v1" }, { Key: "photos/cat.jpg.bak", VersionId: "b1" }] },
      ];
      const client = {
        send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
          sent.push({ command: command.constructor.name, input: command.input });
          return command.constructor.name === "ListObjectVersionsCommand" ? pages.shift() : {};
        },
      } as unknown as S3Client;
      const store = new S3ObjectStore(client, { uploadsBucket: "uploads", renditionsBucket: "renditions" });

      await store.delete("uploads", "photos/cat.jpg", { allVersions: true });

      assert.deepEqual(sent, [
        { command: "ListObjectVersionsCommand", input: { Bucket: "uploads", Prefix: "photos/cat.jpg" } },
        { command: "ListObjectVersionsCommand", input: { Bucket: "uploads", Prefix: "photos/cat.jpg", KeyMarker: "photos/cat.jpg", VersionIdMarker: "v2" } },
        { command: "DeleteObjectCommand", input: { Bucket: "uploads", Key: "photos/cat.jpg", VersionId: "v3" } },
        { command: "DeleteObjectCommand", input: { Bucket: "uploads", Key: "photos/cat.jpg", VersionId: "v2" } },
        { command: "DeleteObjectCommand", input: { Bucket: "uploads", Key: "photos/cat.jpg", VersionId: "m1" } },
        { command: "DeleteObjectCommand", input: { Bucket: "uploads", Key: "photos/cat.jpg", VersionId: "v1" } },
      ]);
    });

    it("reports a refused version listing as a typed error, deleting nothing", async () => {
      const sent: string[] = [];
      const denied = Object.assign(new Error("Access Denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
      const client = { send: async (command: object) => (sent.push(command.constructor.name), Promise.reject(denied)) } as unknown as S3Client;
      const store = new S3ObjectStore(client, { uploadsBucket: "uploads", renditionsBucket: "renditions" });

      await assert.rejects(store.delete("uploads", "photos/cat.jpg", { allVersions: true }), pipelineError("CONFIG_INVALID", /photos\/cat\.jpg/));
      assert.deepEqual(sent, ["ListObjectVersionsCommand"]);
    });
  });

  describe("DynamoJobStore", () => {
    it("stores the error as a map and an expiry from the retention days", async () => {
      const error = { code: "CORRUPT_IMAGE" as const, message: "The image is corrupt.", permanent: true, details: { key: "x.jpg" } };

      await ports.jobs.finish("job-error", { status: "failed", sourceKey: "x.jpg", error });
      const raw = await rawDynamo.send(new GetItemCommand({ TableName: "jobs", Key: { jobId: { S: "job-error" } } }));
      const stored = await ports.jobs.get("job-error");

      assert.equal(raw.Item?.error?.M?.code?.S, "CORRUPT_IMAGE");
      assert.deepEqual(stored?.error, error);
      const inThirtyDays = Date.now() / 1000 + 30 * 86_400;
      assert.ok(Math.abs((stored?.expiresAt ?? 0) - inThirtyDays) < 60, `expiresAt ${stored?.expiresAt} is about 30 days away`);
    });

    it("returns undefined for a job that does not exist", async () => {
      assert.equal(await ports.jobs.get("job-none"), undefined);
    });
  });

  describe("when an emulator is down", () => {
    it("reports S3 and DynamoDB failures as transient STORAGE_UNAVAILABLE, not raw SDK errors", async () => {
      const [downS3, downDynamo] = await Promise.all([startS3(), startDynamo()]);
      const downPorts = createAwsPorts({
        ...names,
        endpoint: downS3.endpoint,
        dynamoEndpoint: downDynamo.endpoint,
        notifier: new MemoryNotifier(),
        maxAttempts: 1,
      });
      await Promise.all([downS3.stop(), downDynamo.stop()]);

      await assertStoresUnavailable(downPorts);
    });
  });

  describe("toAwsError", () => {
    const target = { service: "S3" as const, resource: 'bucket "b"', item: 'object "k"', details: {} };

    it("maps throttling by name or status to THROTTLED", () => {
      for (const raw of [
        { name: "SlowDown", $metadata: { httpStatusCode: 503 } },
        { name: "ProvisionedThroughputExceededException", $metadata: { httpStatusCode: 400 } },
        { name: "ThrottlingException" },
        { name: "Whatever", $metadata: { httpStatusCode: 429 } },
      ]) {
        assert.equal(toAwsError(raw, target).code, "THROTTLED", raw.name);
      }
    });

    it("maps 5xx, timeouts and network failures to STORAGE_UNAVAILABLE", () => {
      for (const raw of [
        { name: "InternalError", $metadata: { httpStatusCode: 500 } },
        { name: "TimeoutError" },
        Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
      ]) {
        assert.equal(toAwsError(raw, target).code, "STORAGE_UNAVAILABLE", raw.name);
      }
    });

    it("keeps a PipelineError as it is", () => {
      const original = new PipelineError("TOO_LARGE", "Too large.");

      assert.equal(toAwsError(original, target), original);
    });
  });

  describe("SnsNotifier", () => {
    it("publishes the event as JSON with its type as a message attribute", async () => {
      const sent: unknown[] = [];
      const sns = { send: async (command: { input: unknown }) => void sent.push(command.input) } as unknown as SNSClient;
      const event: PipelineEvent = { type: "image.processed", jobId: "j1", sourceKey: "a.jpg", time: "2026-01-01T00:00:00.000Z", outputs: 2 };

      await new SnsNotifier(sns, "arn:aws:sns:us-east-1:123456789012:events").publish(event);

      const input = sent[0] as { TopicArn: string; Message: string; MessageAttributes: Record<string, { StringValue: string }> };
      assert.equal(input.TopicArn, "arn:aws:sns:us-east-1:123456789012:events");
      assert.deepEqual(JSON.parse(input.Message), event);
      assert.equal(input.MessageAttributes.type.StringValue, "image.processed");
    });

    it("reports an SNS failure as a typed error naming the topic", async () => {
      const sns = { send: async () => Promise.reject(Object.assign(new Error("Rate exceeded"), { name: "ThrottledException" })) } as unknown as SNSClient;
      const event: PipelineEvent = { type: "image.failed", jobId: "j2", sourceKey: "a.jpg", time: "2026-01-01T00:00:00.000Z" };

      await assert.rejects(new SnsNotifier(sns, "arn:topic").publish(event), pipelineError("THROTTLED", /arn:topic/, /j2/));
    });
  });

  describe("awsPortsFromEnv", () => {
    it("names the missing variable in a CONFIG_INVALID error", () => {
      assert.throws(() => awsPortsFromEnv({ UPLOADS_BUCKET: "up", RENDITIONS_BUCKET: "out" }), pipelineError("CONFIG_INVALID", /JOBS_TABLE/));
      assert.throws(() => awsPortsFromEnv({ UPLOADS_BUCKET: "up", RENDITIONS_BUCKET: "out", JOBS_TABLE: "jobs" }), pipelineError("CONFIG_INVALID", /TOPIC_ARN/));
    });

    it("rejects a retention that is not a positive number", () => {
      const env = { UPLOADS_BUCKET: "up", RENDITIONS_BUCKET: "out", JOBS_TABLE: "jobs", TOPIC_ARN: "arn:t", JOB_RETENTION_DAYS: "soon" };

      assert.throws(() => awsPortsFromEnv(env), pipelineError("CONFIG_INVALID", /JOB_RETENTION_DAYS/));
    });

    it("reaches the emulators through the standard endpoint variables", async () => {
      const env = {
        UPLOADS_BUCKET: "uploads",
        RENDITIONS_BUCKET: "renditions",
        JOBS_TABLE: "jobs",
        TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:events",
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      };
      await ports.objects.put("uploads", "env.txt", Buffer.from("env"), "text/plain");

      const fromEnv = awsPortsFromEnv(env);

      assert.deepEqual(await fromEnv.objects.get("uploads", "env.txt"), Buffer.from("env"));
    });
  });
});
