import assert from "node:assert/strict";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createAwsPorts, LOCAL_AWS_CREDENTIALS } from "../../../functions/aws/adapters";
import type { Ports } from "../../../functions/ports";
import { provisionAws, startDynamo, startS3, type DynamoEmulator, type S3Emulator } from "../../../local/emulators";
import { MemoryNotifier } from "../../../local/memoryPorts";

const names = { uploadsBucket: "uploads", renditionsBucket: "renditions", tableName: "jobs" };

describe("S3ObjectStore reads an upload's user metadata (focal crops)", () => {
  let s3: S3Emulator;
  let dynamo: DynamoEmulator;
  let ports: Ports;
  let rawS3: S3Client;

  before(async () => {
    [s3, dynamo] = await Promise.all([startS3(), startDynamo()]);
    await provisionAws({ s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, ...names });
    ports = createAwsPorts({ ...names, endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, notifier: new MemoryNotifier(), retentionDays: 30, maxAttempts: 1 });
    rawS3 = new S3Client({ region: "us-east-1", credentials: LOCAL_AWS_CREDENTIALS, endpoint: s3.endpoint, forcePathStyle: true });
  });

  after(async () => {
    rawS3?.destroy();
    await Promise.all([s3?.stop(), dynamo?.stop()]);
  });

  it("returns x-amz-meta-focal as metadata.focal", async () => {
    // The SDK sends Metadata as x-amz-meta-* headers; HeadObject returns them without the prefix.
    await rawS3.send(new PutObjectCommand({ Bucket: "uploads", Key: "shop/bag.jpg", Body: Buffer.from("jpeg"), Metadata: { focal: "0.42,0.31" } }));

    const info = await ports.objects.head("uploads", "shop/bag.jpg");

    assert.equal(info.metadata?.focal, "0.42,0.31");
  });

  it("returns no focal entry for an upload without one", async () => {
    await rawS3.send(new PutObjectCommand({ Bucket: "uploads", Key: "shop/plain.jpg", Body: Buffer.from("jpeg") }));

    const info = await ports.objects.head("uploads", "shop/plain.jpg");

    assert.equal(info.metadata?.focal, undefined);
  });
});
