import assert from "node:assert/strict";
import { BlobServiceClient } from "@azure/storage-blob";
import sharp from "sharp";
import { processingOptionsSchema } from "../../../functions/core/options";
import { MemoryNotifier } from "../../../local/memoryPorts";
import type { LocalFlavour, UploadEvent } from "../../../local/flavour";
import type { AzureFlavour } from "../../../local/azure/flavour";
import { blobDeadLetters, replayDeadLetters, uploadsFromDeadLetterBlob, uploadsFromEventBridgeEvent, type DeadLetter, type DeadLetterSource } from "../../../local/replay/replay";
import { jobRow, startFlavour } from "../../../local/runtime";

// Dead-letter replay against the local flavours: an upload event that never
// reached the pipeline is dead-lettered in the cloud's format, then replayed.

const processing = processingOptionsSchema.parse({ renditions: ["thumb:16"], filters: [], formats: ["webp"] });

/** What EventBridge puts in the target's dead-letter queue: the event itself as the body. */
function objectCreatedEvent(upload: UploadEvent): string {
  return JSON.stringify({ version: "0", id: "e-1", "detail-type": "Object Created", source: "aws.s3", detail: { bucket: { name: "uploads" }, object: { key: upload.sourceKey, etag: upload.sourceEtag, "version-id": upload.sourceVersion } } });
}

/** What Event Grid writes to the dead-letter container: an array of events with the reason. */
function deadLetterBlob(upload: UploadEvent): string {
  return JSON.stringify([{ id: "g-1", eventType: "Microsoft.Storage.BlobCreated", subject: `/blobServices/default/containers/uploads/blobs/${upload.sourceKey}`, data: { eTag: upload.sourceEtag }, deadLetterReason: "MaxDeliveryAttemptsExceeded", deliveryAttempts: 30 }]);
}

/** An SQS-shaped queue in memory (no SQS emulator is installed): receive and delete. */
function queue(letters: DeadLetter[]): DeadLetterSource & { left: DeadLetter[] } {
  const left = [...letters];
  return {
    left,
    receive: async () => [...left],
    remove: async (letter) => void left.splice(left.indexOf(letter), 1),
  };
}

const starter = (flavour: LocalFlavour) => async (upload: UploadEvent) => {
  const row = await jobRow(flavour, { key: upload.sourceKey }, upload, await flavour.execute(upload));
  if (row.status !== "succeeded") throw new Error(`${row.errorCode}: ${row.errorMessage}`);
  return row.jobId;
};

describe("dead-letter replay", () => {
  it("reads the upload from an EventBridge S3 event and from an Event Grid dead-letter blob", () => {
    assert.deepEqual(uploadsFromEventBridgeEvent(objectCreatedEvent({ sourceKey: "a b.jpg", sourceEtag: "e1", sourceVersion: "v1" })), [{ sourceKey: "a b.jpg", sourceEtag: "e1", sourceVersion: "v1" }]);
    assert.deepEqual(uploadsFromEventBridgeEvent(JSON.stringify({ source: "aws.s3", "detail-type": "Object Deleted", detail: { object: { key: "x" } } })), []);
    assert.deepEqual(uploadsFromDeadLetterBlob(deadLetterBlob({ sourceKey: "photos/cat.jpg", sourceEtag: "0x8D1" })), [{ sourceKey: "photos/cat.jpg", sourceEtag: "0x8D1" }]);
  });

  describe("on the AWS flavour (the dead-letter queue in memory)", function () {
    this.timeout(120_000);
    let flavour: LocalFlavour;
    before(async () => {
      flavour = await startFlavour("aws", { processing, notifier: new MemoryNotifier() });
    });
    after(async () => flavour?.stop());

    it("starts the pipeline for a dead-lettered upload event and removes it; keeps what names no upload", async () => {
      const upload = await flavour.upload("photos/lost.jpg", await sharp({ create: { width: 40, height: 30, channels: 3, background: "red" } }).jpeg().toBuffer(), "image/jpeg");
      const dlq = queue([
        { id: "m-1", body: objectCreatedEvent(upload), reason: "SDK_CLIENT_ERROR: throttled" },
        { id: "m-2", body: "{not json" },
      ]);

      const outcomes = await replayDeadLetters({ cloud: "aws", source: dlq, start: starter(flavour) });

      assert.deepEqual(outcomes.map((o) => [o.id, o.status]), [["m-1", "replayed"], ["m-2", "unreadable"]]);
      const jobId = outcomes[0].uploads[0].run as string;
      assert.equal((await flavour.ports.jobs.get(jobId))?.status, "succeeded");
      assert.deepEqual(dlq.left.map((letter) => letter.id), ["m-2"]);
    });

    it("keeps a letter whose start failed, and reports why", async () => {
      const dlq = queue([{ id: "m-3", body: objectCreatedEvent({ sourceKey: "photos/never-uploaded.jpg", sourceEtag: "0", sourceVersion: "v" }) }]);

      const [outcome] = await replayDeadLetters({ cloud: "aws", source: dlq, start: starter(flavour) });

      assert.equal(outcome.status, "failed");
      assert.match(outcome.uploads[0].error ?? "", /NOT_FOUND/);
      assert.equal(dlq.left.length, 1);
    });
  });

  describe("on the Azure flavour (dead-letter blobs in azurite)", function () {
    this.timeout(120_000);
    let flavour: AzureFlavour;
    before(async () => {
      flavour = (await startFlavour("azure", { processing, notifier: new MemoryNotifier() })) as AzureFlavour;
    });
    after(async () => flavour?.stop());

    it("re-runs the upload of each dead-letter blob and deletes the blob", async () => {
      const upload = await flavour.upload("photos/lost.jpg", await sharp({ create: { width: 40, height: 30, channels: 3, background: "blue" } }).jpeg().toBuffer(), "image/jpeg");
      const container = BlobServiceClient.fromConnectionString(flavour.azurite.connectionString).getContainerClient("dead-letters");
      await container.createIfNotExists();
      const name = "UPLOAD-EVENTS/2026/11/29/19/0f0e0d0c-0b0a-0908-0706-050403020100.json";
      await container.getBlockBlobClient(name).upload(deadLetterBlob(upload), Buffer.byteLength(deadLetterBlob(upload)));

      const outcomes = await replayDeadLetters({ cloud: "azure", source: blobDeadLetters(container), start: starter(flavour) });

      assert.deepEqual(outcomes.map((o) => [o.id, o.status, o.reason]), [[name, "replayed", "MaxDeliveryAttemptsExceeded"]]);
      assert.equal((await flavour.ports.jobs.get(outcomes[0].uploads[0].run as string))?.status, "succeeded");
      const left = [];
      for await (const blob of container.listBlobsFlat()) left.push(blob.name);
      assert.deepEqual(left, []);
    });
  });
});
