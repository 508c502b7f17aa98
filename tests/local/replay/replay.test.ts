import assert from "node:assert/strict";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { QueueServiceClient, type QueueClient } from "@azure/storage-queue";
import sharp from "sharp";
import { processingOptionsSchema } from "../../../functions/core/options";
import { parseBlobCreatedEvent, parseBlobDeletedEvent } from "../../../functions/azure/trigger";
import { MemoryNotifier } from "../../../local/memoryPorts";
import type { LocalFlavour, UploadEvent } from "../../../local/flavour";
import type { AzureFlavour } from "../../../local/azure/flavour";
import {
  blobDeadLetters,
  deadLetterReason,
  queueMessageOf,
  replayDeadLetters,
  storageEventsFromDeadLetterBlob,
  storageQueueRedriver,
  uploadsFromEventBridgeEvent,
  type DeadLetter,
  type DeadLetterSource,
} from "../../../local/replay/replay";
import { jobRow, startFlavour } from "../../../local/runtime";

// Dead-letter replay against the local flavours: an event that never reached the
// pipeline is dead-lettered in the cloud's format, then replayed.

const processing = processingOptionsSchema.parse({ renditions: ["thumb:16"], filters: [], formats: ["webp"] });

/** What EventBridge puts in the target's dead-letter queue: the event itself as the body. */
function objectCreatedEvent(upload: UploadEvent): string {
  return JSON.stringify({ version: "0", id: "e-1", "detail-type": "Object Created", source: "aws.s3", detail: { bucket: { name: "uploads" }, object: { key: upload.sourceKey, etag: upload.sourceEtag, "version-id": upload.sourceVersion } } });
}

/** A storage event as Event Grid delivers it to the queue (CloudEvents 1.0, the subscriptions' delivery schema). */
function storageEvent(type: "BlobCreated" | "BlobDeleted", key: string, etag?: string, id = "9aeb0fdf-c01e-0131-0922-9eb54906e209"): Record<string, unknown> {
  return {
    specversion: "1.0",
    type: `Microsoft.Storage.${type}`,
    source: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/ipdev1a2bdata",
    id,
    time: "2026-11-29T19:20:21.1234567Z",
    subject: `/blobServices/default/containers/uploads/blobs/${key}`,
    data: { api: type === "BlobCreated" ? "PutBlob" : "DeleteBlob", ...(etag ? { eTag: etag } : {}), blobType: "BlockBlob", url: `https://ipdev1a2bdata.blob.core.windows.net/uploads/${key}` },
  };
}

/** What Event Grid writes to the dead-letter container: an array of the events with its lower-case CloudEvents attributes. */
function deadLetterBlob(...events: Record<string, unknown>[]): string {
  return JSON.stringify(events.map((event) => ({ ...event, deadletterreason: "MaxDeliveryAttemptsExceeded", deliveryattempts: 30, lastdeliveryoutcome: "Unauthorized", publishtime: "2026-11-29T19:20:22.0000000Z" })));
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

async function blobNames(container: ContainerClient): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat()) names.push(blob.name);
  return names;
}

/** Every message of a queue, Base64-decoded as the Functions queue trigger decodes it. */
async function drain(client: QueueClient): Promise<Record<string, unknown>[]> {
  const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32 });
  return receivedMessageItems.map((item) => JSON.parse(Buffer.from(item.messageText, "base64").toString("utf8")) as Record<string, unknown>);
}

describe("dead-letter replay", () => {
  describe("reading dead letters", () => {
    it("reads the upload of an EventBridge S3 Object Created event, and nothing of an Object Deleted one", () => {
      assert.deepEqual(uploadsFromEventBridgeEvent(objectCreatedEvent({ sourceKey: "a b.jpg", sourceEtag: "e1", sourceVersion: "v1" })), [{ sourceKey: "a b.jpg", sourceEtag: "e1", sourceVersion: "v1" }]);
      assert.deepEqual(uploadsFromEventBridgeEvent(JSON.stringify({ source: "aws.s3", "detail-type": "Object Deleted", detail: { object: { key: "x" } } })), []);
    });

    it("sends an Event Grid blob's BlobCreated events to the starter's queue and BlobDeleted ones to erasure's, without the dead-letter attributes", () => {
      const other = { ...storageEvent("BlobCreated", "x.jpg"), subject: "/blobServices/default/containers/renditions/blobs/x.jpg" };
      const parsed = storageEventsFromDeadLetterBlob(deadLetterBlob(storageEvent("BlobCreated", "photos/cat.jpg", "0x8D1"), storageEvent("BlobDeleted", "photos/old.jpg"), other));

      assert.deepEqual(
        parsed.events.map((event) => [event.sourceKey, event.queue, event.jobId === undefined]),
        [
          ["photos/cat.jpg", "upload-events", false],
          ["photos/old.jpg", "delete-events", true],
        ],
      );
      assert.deepEqual(parsed.events[0].event, storageEvent("BlobCreated", "photos/cat.jpg", "0x8D1"));
      assert.deepEqual(parsed.ignored, ["Microsoft.Storage.BlobCreated /blobServices/default/containers/renditions/blobs/x.jpg"]);
    });

    it("gives the reason in either schema", () => {
      assert.equal(deadLetterReason({ deadletterreason: "TimeToLiveExceeded", lastdeliveryoutcome: "Busy" }), "TimeToLiveExceeded, last outcome Busy");
      assert.equal(deadLetterReason({ deadLetterReason: "MaxDeliveryAttemptsExceeded" }), "MaxDeliveryAttemptsExceeded");
      assert.equal(deadLetterReason({ type: "x" }), undefined);
    });

    it("encodes a queue message as Event Grid does: Base64 of the event's JSON", () => {
      assert.equal(queueMessageOf({ type: "t", subject: "s" }), "eyJ0eXBlIjoidCIsInN1YmplY3QiOiJzIn0=");
    });
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

      const outcomes = await replayDeadLetters({ source: dlq, parse: uploadsFromEventBridgeEvent, redrive: starter(flavour) });

      assert.deepEqual(outcomes.map((o) => [o.id, o.status]), [["m-1", "replayed"], ["m-2", "unreadable"]]);
      const jobId = outcomes[0].uploads[0].run as string;
      assert.equal((await flavour.ports.jobs.get(jobId))?.status, "succeeded");
      assert.deepEqual(dlq.left.map((letter) => letter.id), ["m-2"]);
    });

    it("keeps a letter whose start failed, and reports why", async () => {
      const dlq = queue([{ id: "m-3", body: objectCreatedEvent({ sourceKey: "photos/never-uploaded.jpg", sourceEtag: "0", sourceVersion: "v" }) }]);

      const [outcome] = await replayDeadLetters({ source: dlq, parse: uploadsFromEventBridgeEvent, redrive: starter(flavour) });

      assert.equal(outcome.status, "failed");
      assert.match(outcome.uploads[0].error ?? "", /NOT_FOUND/);
      assert.equal(dlq.left.length, 1);
    });
  });

  describe("on the Azure flavour (dead-letter blobs and the queues in azurite)", function () {
    this.timeout(120_000);
    let flavour: AzureFlavour;
    let deadLetters: ContainerClient;
    let queues: Record<"upload-events" | "delete-events", QueueClient>;
    before(async () => {
      flavour = (await startFlavour("azure", { processing, notifier: new MemoryNotifier() })) as AzureFlavour;
      deadLetters = BlobServiceClient.fromConnectionString(flavour.azurite.connectionString).getContainerClient("dead-letters");
      await deadLetters.createIfNotExists();
      const queueService = QueueServiceClient.fromConnectionString(flavour.azurite.connectionString);
      queues = { "upload-events": queueService.getQueueClient("upload-events"), "delete-events": queueService.getQueueClient("delete-events") };
      for (const client of Object.values(queues)) await client.createIfNotExists();
    });
    after(async () => flavour?.stop());
    afterEach(async () => {
      for (const name of await blobNames(deadLetters)) await deadLetters.deleteBlob(name);
      for (const client of Object.values(queues)) await client.clearMessages();
    });

    const seed = async (name: string, body: string) => void (await deadLetters.getBlockBlobClient(name).upload(body, Buffer.byteLength(body)));

    it("puts each event back on its queue as Event Grid wrote it, deletes the blob, and the starter's message runs the pipeline", async () => {
      const upload = await flavour.upload("photos/lost.jpg", await sharp({ create: { width: 40, height: 30, channels: 3, background: "blue" } }).jpeg().toBuffer(), "image/jpeg");
      const created = storageEvent("BlobCreated", "photos/lost.jpg", upload.sourceEtag);
      const deleted = storageEvent("BlobDeleted", "photos/gone.jpg", undefined, "0f0e0d0c-0b0a-0908-0706-050403020100");
      const name = "IMAGE-PIPELINE-DEV-UPLOADS-CREATED/2026/11/29/19/0f0e0d0c-0b0a-0908-0706-050403020100.json";
      await seed(name, deadLetterBlob(created, deleted));

      const outcomes = await replayDeadLetters({ source: blobDeadLetters(deadLetters), parse: (body) => storageEventsFromDeadLetterBlob(body), redrive: storageQueueRedriver(queues) });

      assert.deepEqual(outcomes.map((o) => [o.id, o.status, o.reason]), [[name, "replayed", "MaxDeliveryAttemptsExceeded, last outcome Unauthorized"]]);
      assert.deepEqual(outcomes[0].uploads.map((u) => u.sourceKey), ["photos/lost.jpg", "photos/gone.jpg"]);
      assert.deepEqual(await blobNames(deadLetters), []);
      const [startMessage] = await drain(queues["upload-events"]);
      assert.deepEqual(startMessage, created);
      assert.deepEqual(await drain(queues["delete-events"]), [deleted]);
      // The deployed starter's own parser reads the message; the run it starts succeeds.
      const start = parseBlobCreatedEvent(startMessage, "uploads");
      assert.deepEqual(start, { sourceKey: "photos/lost.jpg", sourceEtag: upload.sourceEtag });
      assert.deepEqual(parseBlobDeletedEvent(deleted, "uploads"), { sourceKey: "photos/gone.jpg" });
      const jobId = await starter(flavour)(start as UploadEvent);
      assert.match(outcomes[0].uploads[0].run ?? "", new RegExp(`^upload-events as job ${jobId} \\(message `));
    });

    it("keeps a blob one of whose events could not be enqueued (over the queue's 64 KiB), after enqueuing the others", async () => {
      const small = storageEvent("BlobCreated", "photos/a.jpg", "0x8DA");
      // Event Grid dead-letters an event the queue refused as too large (413): https://learn.microsoft.com/azure/event-grid/delivery-and-retry#failure-codes
      const large = { ...storageEvent("BlobCreated", "photos/b.jpg", "0x8DB"), data: { eTag: "0x8DB", padding: "x".repeat(60 * 1024) } };
      const name = "IMAGE-PIPELINE-DEV-UPLOADS-CREATED/2026/11/29/20/1f0e0d0c-0b0a-0908-0706-050403020100.json";
      await seed(name, deadLetterBlob(small, large));

      const [outcome] = await replayDeadLetters({ source: blobDeadLetters(deadLetters), parse: (body) => storageEventsFromDeadLetterBlob(body), redrive: storageQueueRedriver(queues) });

      assert.equal(outcome.status, "failed");
      assert.equal(outcome.uploads[0].error, undefined);
      assert.match(outcome.uploads[1].error ?? "", /too large/i);
      assert.deepEqual(await blobNames(deadLetters), [name]);
      assert.deepEqual(await drain(queues["upload-events"]), [small]);
    });

    it("reads the container a listing page at a time", async () => {
      const names = ["B/2026/11/29/22/a.json", "B/2026/11/29/22/b.json", "B/2026/11/29/22/c.json"];
      for (const [i, name] of names.entries()) await seed(name, deadLetterBlob(storageEvent("BlobCreated", `photos/${i}.jpg`, `0x${i}`)));

      const outcomes = await replayDeadLetters({ source: blobDeadLetters(deadLetters, 1), parse: (body) => storageEventsFromDeadLetterBlob(body), redrive: storageQueueRedriver(queues) });

      assert.deepEqual(outcomes.map((o) => [o.id, o.status]), names.map((name) => [name, "replayed"]));
      assert.deepEqual(await blobNames(deadLetters), []);
      assert.equal((await drain(queues["upload-events"])).length, 3);
    });

    it("keeps a blob holding an event of another container or type, and one that is not JSON", async () => {
      await seed("A/2026/11/29/21/a.json", deadLetterBlob(storageEvent("BlobCreated", "photos/c.jpg", "0x8DC"), { ...storageEvent("BlobCreated", "x"), type: "Microsoft.Storage.BlobTierChanged" }));
      await seed("A/2026/11/29/21/b.json", "{not json");

      const outcomes = await replayDeadLetters({ source: blobDeadLetters(deadLetters), parse: (body) => storageEventsFromDeadLetterBlob(body), redrive: storageQueueRedriver(queues) });

      assert.deepEqual(outcomes.map((o) => [o.id, o.status]), [["A/2026/11/29/21/a.json", "failed"], ["A/2026/11/29/21/b.json", "unreadable"]]);
      assert.match(outcomes[0].message ?? "", /BlobTierChanged/);
      assert.deepEqual(await blobNames(deadLetters), ["A/2026/11/29/21/a.json", "A/2026/11/29/21/b.json"]);
    });
  });
});
