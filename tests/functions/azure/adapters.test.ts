import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import type { EventGridPublisherClient } from "@azure/eventgrid";
import {
  azurePortsFromEnv,
  BlobObjectStore,
  createAzurePorts,
  EventGridNotifier,
  TableJobStore,
  toAzureError,
} from "../../../functions/azure/adapters";
import type { PipelineEvent, Ports } from "../../../functions/ports";
import { provisionAzure, startAzurite, type AzuriteEmulator } from "../../../local/emulators";
import { MemoryNotifier } from "../../../local/memoryPorts";
import { assertStoresUnavailable, describePortContract, pipelineError } from "../../helpers/portContract";

const tableName = "jobs";

describe("Azure adapters against azurite", () => {
  let azurite: AzuriteEmulator;
  let ports: Ports;
  let rawTable: TableClient;

  before(async () => {
    azurite = await startAzurite();
    await provisionAzure({ connectionString: azurite.connectionString, tableName });
    ports = createAzurePorts({ connectionString: azurite.connectionString, tableName, notifier: new MemoryNotifier(), retentionDays: 30, maxAttempts: 1 });
    rawTable = TableClient.fromConnectionString(azurite.connectionString, tableName, { allowInsecureConnection: true });
  });

  after(async () => {
    await azurite?.stop();
  });

  // azurite does not implement blob versions; the adapter pins an upload by its ETag anyway (If-Match).
  describePortContract(() => ports, { keepsVersions: false });

  describe("BlobObjectStore", () => {
    it("reports the ETag without quotes, as upload events carry it", async () => {
      await ports.objects.put("uploads", "photos/cat.jpg", Buffer.from("not really a jpeg"), "image/jpeg");

      const info = await ports.objects.head("uploads", "photos/cat.jpg");

      assert.match(info.etag ?? "", /^0x[0-9A-F]+$/);
    });

    it("keeps each area in its own container", async () => {
      await ports.objects.put("work", "job-1/thumb.png", Buffer.from("png"), "image/png");

      const raw = await BlobServiceClient.fromConnectionString(azurite.connectionString)
        .getContainerClient("work")
        .getBlobClient("job-1/thumb.png")
        .downloadToBuffer();

      assert.equal(raw.toString(), "png");
      assert.equal(new BlobObjectStore({} as BlobServiceClient, { renditions: "out" }).containerFor("renditions"), "out");
    });

    it("deletes a blob with its snapshots when asked for every version", async () => {
      await ports.objects.put("uploads", "photos/snapshotted.jpg", Buffer.from("jpeg"), "image/jpeg");
      const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("uploads");
      await container.getBlobClient("photos/snapshotted.jpg").createSnapshot();
      const listed = async () => {
        const names: string[] = [];
        for await (const blob of container.listBlobsFlat({ prefix: "photos/snapshotted.jpg", includeSnapshots: true })) names.push(`${blob.name}${blob.snapshot ? "@snapshot" : ""}`);
        return names.sort();
      };
      const before = await listed();

      await ports.objects.delete("uploads", "photos/snapshotted.jpg", { allVersions: true });

      assert.deepEqual(before, ["photos/snapshotted.jpg", "photos/snapshotted.jpg@snapshot"]);
      assert.deepEqual(await listed(), []);
    });
  });

  describe("TableJobStore", () => {
    it("stores the error as a JSON string column and an expiry from the retention days", async () => {
      const error = { code: "CORRUPT_IMAGE" as const, message: "The image is corrupt.", permanent: true, details: { key: "x.jpg" } };

      await ports.jobs.finish("job-error", { status: "failed", sourceKey: "x.jpg", error });
      const raw = await rawTable.getEntity<{ error: unknown }>("jobs", "job-error");
      const stored = await ports.jobs.get("job-error");

      assert.equal(typeof raw.error, "string");
      assert.deepEqual(stored?.error, error);
      const inThirtyDays = Date.now() / 1000 + 30 * 86_400;
      assert.ok(Math.abs((stored?.expiresAt ?? 0) - inThirtyDays) < 60, `expiresAt ${stored?.expiresAt} is about 30 days away`);
    });

    it("keeps counts wider than 32 bits", async () => {
      await ports.jobs.finish("job-big", { status: "succeeded", sourceKey: "big.tif", bytesIn: 5_000_000_000, bytesOut: 2.5 });

      const stored = await ports.jobs.get("job-big");

      assert.equal(stored?.bytesIn, 5_000_000_000);
      assert.equal(stored?.bytesOut, 2.5);
    });

    it("reports a missing table as NOT_FOUND rather than a missing job", async () => {
      const store = new TableJobStore(TableClient.fromConnectionString(azurite.connectionString, "nosuchtable", { allowInsecureConnection: true }));

      await assert.rejects(store.get("job-1"), pipelineError("NOT_FOUND", /nosuchtable/));
      await assert.rejects(store.delete("job-1"), pipelineError("NOT_FOUND", /nosuchtable/));
    });
  });

  describe("when the emulator is down", () => {
    it("reports Blob and Table failures as transient STORAGE_UNAVAILABLE, not raw SDK errors", async () => {
      const down = await startAzurite();
      const downPorts = createAzurePorts({ connectionString: down.connectionString, tableName, notifier: new MemoryNotifier(), maxAttempts: 1 });
      await down.stop();

      await assertStoresUnavailable(downPorts);
    });
  });

  describe("toAzureError", () => {
    const target = { service: "Blob Storage" as const, resource: 'container "c"', item: 'blob "k"', details: {} };

    it("maps 429, 503 and ServerBusy to THROTTLED", () => {
      for (const raw of [{ statusCode: 429 }, { statusCode: 503, code: "ServerBusy" }, { statusCode: 500, code: "ServerBusy" }]) {
        assert.equal(toAzureError(raw, target).code, "THROTTLED", JSON.stringify(raw));
      }
    });

    it("maps other 5xx and network failures to STORAGE_UNAVAILABLE", () => {
      for (const raw of [{ statusCode: 500, code: "InternalError" }, { code: "ECONNRESET" }, { name: "AbortError" }]) {
        assert.equal(toAzureError(raw, target).code, "STORAGE_UNAVAILABLE", JSON.stringify(raw));
      }
    });
  });

  describe("EventGridNotifier", () => {
    it("sends the event as a CloudEvent with a stable id", async () => {
      const sent: unknown[] = [];
      const publisher = { endpointUrl: "https://topic.example", send: async (events: unknown[]) => void sent.push(...events) };
      const event: PipelineEvent = { type: "image.processed", jobId: "j1", sourceKey: "a.jpg", time: "2026-01-01T00:00:00.000Z", outputs: 2 };

      await new EventGridNotifier(publisher as unknown as EventGridPublisherClient<"CloudEvent">).publish(event);

      const cloudEvent = sent[0] as { type: string; id: string; subject: string; data: PipelineEvent };
      assert.equal(cloudEvent.type, "image.processed");
      assert.equal(cloudEvent.id, "j1:image.processed");
      assert.equal(cloudEvent.subject, "a.jpg");
      assert.deepEqual(cloudEvent.data, event);
    });
  });

  describe("azurePortsFromEnv", () => {
    it("names the missing setting in a CONFIG_INVALID error", () => {
      assert.throws(() => azurePortsFromEnv({ JOBS_TABLE: "jobs", EVENTGRID_TOPIC_ENDPOINT: "https://t" }), pipelineError("CONFIG_INVALID", /STORAGE_ACCOUNT_NAME/));
      assert.throws(() => azurePortsFromEnv({ STORAGE_ACCOUNT_NAME: "acct", JOBS_TABLE: "jobs" }), pipelineError("CONFIG_INVALID", /EVENTGRID_TOPIC_ENDPOINT/));
    });

    it("refuses a connection string that points anywhere but a local emulator", () => {
      const env = {
        STORAGE_CONNECTION_STRING: "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=abc;EndpointSuffix=core.windows.net",
        JOBS_TABLE: "jobs",
        EVENTGRID_TOPIC_ENDPOINT: "https://t",
      };

      assert.throws(() => azurePortsFromEnv(env), pipelineError("CONFIG_INVALID", /local emulator only/));
    });

    it("reaches azurite through a local connection string, with overrides for the notifier", async () => {
      const env = { STORAGE_CONNECTION_STRING: azurite.connectionString, JOBS_TABLE: tableName };
      await ports.objects.put("uploads", "env.txt", Buffer.from("env"), "text/plain");

      const fromEnv = azurePortsFromEnv(env, { notifier: new MemoryNotifier() });

      assert.deepEqual(await fromEnv.objects.get("uploads", "env.txt"), Buffer.from("env"));
    });
  });
});
