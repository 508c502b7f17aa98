import * as assert from "node:assert/strict";
import type { DurableOrchestrationStatus } from "durable-functions";
import { ORCHESTRATOR_NAME } from "../../../functions/azure/contract";
import { parseBlobCreatedEvent, startPipeline } from "../../../functions/azure/trigger";
import { jobIdFor } from "../../../functions/steps/jobId";

function blobCreated(blobName: string, overrides: Record<string, unknown> = {}) {
  return {
    specversion: "1.0",
    type: "Microsoft.Storage.BlobCreated",
    source: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
    subject: `/blobServices/default/containers/uploads/blobs/${blobName}`,
    id: "e1",
    data: { api: "PutBlob", eTag: "0x8DC0FFEE", contentLength: 1234, url: `https://acct.blob.core.windows.net/uploads/${blobName}` },
    ...overrides,
  };
}

/** A durable client fake that knows some instances and records starts. */
function client(known: Record<string, string> = {}) {
  const starts: Array<{ name: string; instanceId?: string; input?: unknown }> = [];
  return {
    starts,
    async getStatus(instanceId: string) {
      if (!(instanceId in known)) throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response. This usually means we could not find any data associated with the instanceId provided: ${instanceId}.`);
      return { instanceId, runtimeStatus: known[instanceId] } as unknown as DurableOrchestrationStatus;
    },
    async startNew(name: string, options?: { instanceId?: string; input?: unknown }) {
      starts.push({ name, ...options });
      return options?.instanceId ?? "generated";
    },
  };
}

describe("Azure upload starter", () => {
  it("reads the key and ETag of a BlobCreated CloudEvent for the uploads container", () => {
    assert.deepEqual(parseBlobCreatedEvent(blobCreated("photos/cat 1.jpg"), "uploads"), { sourceKey: "photos/cat 1.jpg", sourceEtag: "0x8DC0FFEE" });
  });

  it("reads the Event Grid schema and JSON text too", () => {
    const { type: _type, ...rest } = blobCreated("a.png");
    const eventGridSchema = { ...rest, eventType: "Microsoft.Storage.BlobCreated" };

    assert.deepEqual(parseBlobCreatedEvent(JSON.stringify(eventGridSchema), "uploads"), { sourceKey: "a.png", sourceEtag: "0x8DC0FFEE" });
  });

  it("ignores other event types, other containers and garbage", () => {
    assert.equal(parseBlobCreatedEvent(blobCreated("a.png", { type: "Microsoft.Storage.BlobDeleted" }), "uploads"), undefined);
    assert.equal(parseBlobCreatedEvent(blobCreated("a.png", { subject: "/blobServices/default/containers/renditions/blobs/a.png" }), "uploads"), undefined);
    assert.equal(parseBlobCreatedEvent("not json", "uploads"), undefined);
  });

  it("starts the orchestration with the job id derived from key and ETag as instance id", async () => {
    const durable = client();

    const result = await startPipeline(durable, { sourceKey: "photos/cat.jpg", sourceEtag: "0x8DC0FFEE" });

    const jobId = jobIdFor("photos/cat.jpg", "0x8DC0FFEE");
    assert.deepEqual(result, { instanceId: jobId, started: true });
    assert.deepEqual(durable.starts, [{ name: ORCHESTRATOR_NAME, instanceId: jobId, input: { sourceKey: "photos/cat.jpg", sourceEtag: "0x8DC0FFEE", jobId } }]);
  });

  it("starts nothing for a duplicate event", async () => {
    const jobId = jobIdFor("photos/cat.jpg", "0x8DC0FFEE");
    const durable = client({ [jobId]: "Completed" });

    const result = await startPipeline(durable, { sourceKey: "photos/cat.jpg", sourceEtag: "0x8DC0FFEE" });

    assert.deepEqual(result, { instanceId: jobId, started: false, existingStatus: "Completed" });
    assert.deepEqual(durable.starts, []);
  });

  it("lets any other status failure throw, so the queue retries the message", async () => {
    const durable = { ...client(), getStatus: async () => Promise.reject(new Error("DurableClient error: HTTP 500")) };

    await assert.rejects(startPipeline(durable, { sourceKey: "a.png" }), /HTTP 500/);
  });
});
