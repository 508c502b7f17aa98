import * as assert from "node:assert/strict";
import { InvocationContext } from "@azure/functions";
import type { DurableOrchestrationStatus } from "durable-functions";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { PipelineError } from "../../../functions/core/errors";
import { memoryPorts } from "../../../local/memoryPorts";
import { ORCHESTRATOR_NAME } from "../../../functions/azure/contract";
import { createEraseHandler, parseBlobCreatedEvent, parseBlobDeletedEvent, startPipeline } from "../../../functions/azure/trigger";
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

function blobDeleted(blobName: string, overrides: Record<string, unknown> = {}) {
  return {
    ...blobCreated(blobName),
    type: "Microsoft.Storage.BlobDeleted",
    data: { api: "DeleteBlob", blobType: "BlockBlob", url: `https://acct.blob.core.windows.net/uploads/${blobName}` },
    ...overrides,
  };
}

describe("Azure erase function", () => {
  it("reads the deleted blob's name from a BlobDeleted event for the uploads container, in either schema", () => {
    const { type: _type, ...rest } = blobDeleted("photos/cat 1.jpg");

    assert.deepEqual(parseBlobDeletedEvent(blobDeleted("photos/cat 1.jpg"), "uploads"), { sourceKey: "photos/cat 1.jpg" });
    assert.deepEqual(parseBlobDeletedEvent(JSON.stringify({ ...rest, eventType: "Microsoft.Storage.BlobDeleted" }), "uploads"), { sourceKey: "photos/cat 1.jpg" });
    assert.equal(parseBlobDeletedEvent(blobCreated("a.png"), "uploads"), undefined);
    assert.equal(parseBlobDeletedEvent(blobDeleted("a.png", { subject: "/blobServices/default/containers/renditions/blobs/a.png" }), "uploads"), undefined);
  });

  it("erases what the pipeline made of the deleted blob and publishes image.deleted", async () => {
    const ports = memoryPorts();
    await ports.objects.put("renditions", "photos/cat.jpg/manifest.json", Buffer.from(JSON.stringify({ jobId: "job-1" })), "application/json");
    await ports.objects.put("renditions", "photos/cat.jpg/thumb.webp", Buffer.from("webp"), "image/webp");
    const now = new Date().toISOString();
    await ports.jobs.create({ jobId: "job-1", sourceKey: "photos/cat.jpg", status: "succeeded", createdAt: now, updatedAt: now });
    const handler = createEraseHandler("uploads", () => ({ ports, options: defaultProcessingOptions() }));

    const result = await handler(blobDeleted("photos/cat.jpg"), new InvocationContext({ functionName: "EraseUpload" }));

    assert.deepEqual(result?.removed, { renditions: 2, work: 0, jobs: 1 });
    assert.deepEqual(ports.objects.keys("renditions"), []);
    assert.deepEqual(ports.notifier.events.map((event) => [event.type, event.jobId]), [["image.deleted", "job-1"]]);
  });

  it("ignores other messages, and throws a store failure so the queue retries the message", async () => {
    const ports = memoryPorts();
    ports.objects.head = async () => Promise.reject(new PipelineError("STORAGE_UNAVAILABLE", "Blob Storage is down."));
    const warnings: string[] = [];
    const context = new InvocationContext({ functionName: "EraseUpload", logHandler: (level, ...args) => void (level === "warning" && warnings.push(args.join(" "))) });
    const handler = createEraseHandler("uploads", () => ({ ports, options: defaultProcessingOptions() }));

    assert.equal(await handler(blobCreated("a.png"), context), undefined);
    assert.equal(warnings.length, 1);
    await assert.rejects(handler(blobDeleted("a.png"), context), { code: "STORAGE_UNAVAILABLE" });
  });
});
