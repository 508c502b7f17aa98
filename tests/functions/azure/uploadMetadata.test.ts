import assert from "node:assert/strict";
import { BlobServiceClient } from "@azure/storage-blob";
import { createAzurePorts } from "../../../functions/azure/adapters";
import type { Ports } from "../../../functions/ports";
import { provisionAzure, startAzurite, type AzuriteEmulator } from "../../../local/emulators";
import { MemoryNotifier } from "../../../local/memoryPorts";

describe("BlobObjectStore reads an upload's blob metadata (focal crops)", () => {
  let azurite: AzuriteEmulator;
  let ports: Ports;

  before(async () => {
    azurite = await startAzurite();
    await provisionAzure({ connectionString: azurite.connectionString, tableName: "jobs" });
    ports = createAzurePorts({ connectionString: azurite.connectionString, tableName: "jobs", notifier: new MemoryNotifier(), retentionDays: 30, maxAttempts: 1 });
  });

  after(async () => {
    await azurite?.stop();
  });

  it("returns the blob's focal metadata as metadata.focal", async () => {
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("uploads").getBlockBlobClient("shop/bag.jpg");
    await blob.uploadData(Buffer.from("jpeg"), { metadata: { focal: "0.42,0.31" } });

    const info = await ports.objects.head("uploads", "shop/bag.jpg");

    assert.equal(info.metadata?.focal, "0.42,0.31");
  });
});
