import type { InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import { toPipelineError } from "../core/errors";
import { eraseUpload, type EraseResult } from "../steps/erase";
import { jobIdFor } from "../steps/jobId";
import type { StartInput } from "../steps/types";
import { activityEnvironmentFromEnv, type ActivityEnvironment } from "./activities";
import { ORCHESTRATOR_NAME } from "./contract";

/**
 * The starter: one Durable orchestration per upload. Event Grid delivers the
 * storage account's BlobCreated events for the uploads container to a queue
 * (at least once); this handler reads one event, derives the instance id from
 * the blob name and ETag, and starts nothing when that instance already exists.
 * The ETag also pins every read of the upload (If-Match), so the run renders
 * the bytes this event announced or ends NOT_FOUND once they were overwritten.
 */

/** The upload a BlobCreated event is about. */
export interface UploadRef {
  sourceKey: string;
  sourceEtag?: string;
  /** A reprocess's run id (StartInput.generation): a new job and instance per reprocess. */
  generation?: string;
}

export interface StartResult {
  instanceId: string;
  /** False when the event was a duplicate (instance already known) or not an upload. */
  started: boolean;
  /** Runtime status of the existing instance, for a duplicate. */
  existingStatus?: string;
}

const BLOB_CREATED = "Microsoft.Storage.BlobCreated";
/** BlobDeleted's data carries no eTag (https://learn.microsoft.com/en-us/javascript/api/@azure/eventgrid/storageblobdeletedeventdata): the erasure finds the job by the manifest. */
const BLOB_DELETED = "Microsoft.Storage.BlobDeleted";
const SUBJECT = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/;

function asObject(message: unknown): Record<string, unknown> | undefined {
  if (typeof message === "string") {
    try {
      return asObject(JSON.parse(message));
    } catch {
      return undefined;
    }
  }
  if (Buffer.isBuffer(message)) return asObject(message.toString("utf8"));
  return message && typeof message === "object" ? (message as Record<string, unknown>) : undefined;
}

/**
 * Reads a BlobCreated event in either Event Grid schema or CloudEvents 1.0
 * (`type`/`eventType`, `subject`, `data.eTag`). Returns undefined for any other
 * event or another container, which the starter acknowledges and ignores.
 *
 * @example parseBlobCreatedEvent({ type: "Microsoft.Storage.BlobCreated", subject: "/blobServices/default/containers/uploads/blobs/cat.jpg", data: { eTag: "0x8D" } }, "uploads")
 */
export function parseBlobCreatedEvent(message: unknown, container: string): UploadRef | undefined {
  const event = blobEvent(message, BLOB_CREATED, container);
  if (!event) return undefined;
  const { match } = event;
  const data = asObject(event.event.data) ?? {};
  const etag = typeof data.eTag === "string" && data.eTag !== "" ? data.eTag : undefined;
  return { sourceKey: match[2], sourceEtag: etag };
}

/** The event and its subject's container and blob name, when it is of `type` and for `container`. */
function blobEvent(message: unknown, type: string, container: string): { event: Record<string, unknown>; match: RegExpExecArray } | undefined {
  const event = asObject(message);
  if (!event) return undefined;
  if ((event.type ?? event.eventType) !== type || typeof event.subject !== "string") return undefined;
  const match = SUBJECT.exec(event.subject);
  if (!match || match[1] !== container) return undefined;
  return { event, match };
}

/**
 * Reads a BlobDeleted event (either schema) for the uploads container: the deleted blob's name.
 *
 * @example parseBlobDeletedEvent({ type: "Microsoft.Storage.BlobDeleted", subject: "/blobServices/default/containers/uploads/blobs/cat.jpg" }, "uploads") // { sourceKey: "cat.jpg" }
 */
export function parseBlobDeletedEvent(message: unknown, container: string): { sourceKey: string } | undefined {
  const event = blobEvent(message, BLOB_DELETED, container);
  return event && { sourceKey: event.match[2] };
}

/**
 * The queue-triggered EraseUpload function (registered in ./app): erases what the pipeline made of a
 * deleted upload (functions/steps/erase.ts). Throwing leaves the message on the queue for another try
 * (and `delete-events-poison` after five: https://github.com/Azure/azure-webjobs-sdk/issues/2624).
 */
export function createEraseHandler(container: string, environment: () => ActivityEnvironment = activityEnvironmentFromEnv) {
  return async (message: unknown, context: InvocationContext): Promise<EraseResult | undefined> => {
    const deleted = parseBlobDeletedEvent(message, container);
    if (!deleted) {
      context.warn(`Ignored a queue message that is not a BlobDeleted event for container "${container}".`);
      return undefined;
    }
    try {
      const { ports, options } = environment();
      const result = await eraseUpload(deleted, ports, options);
      context.log(result.erased ? `Erased ${deleted.sourceKey}: ${JSON.stringify(result.removed)}.` : `Kept the outputs of ${deleted.sourceKey}: it was uploaded again.`);
      return result;
    } catch (thrown) {
      const error = toPipelineError(thrown);
      context.error(`${error.code}: ${error.message}`);
      throw error;
    }
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /\b404\b/.test(error.message);
}

/**
 * Starts the orchestration for one upload unless its instance exists already.
 * The instance id is the job id (same key + ETag → same id), so a redelivered
 * event finds its instance; two racing deliveries are settled by Durable
 * refusing a second start of a running instance and by Validate's conditional
 * job write.
 */
export async function startPipeline(client: Pick<DurableClient, "getStatus" | "startNew">, upload: UploadRef): Promise<StartResult> {
  const instanceId = jobIdFor(upload.sourceKey, upload.sourceEtag, undefined, upload.generation);
  try {
    const existing = await client.getStatus(instanceId);
    return { instanceId, started: false, existingStatus: String(existing.runtimeStatus) };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const input: StartInput = { sourceKey: upload.sourceKey, sourceEtag: upload.sourceEtag, jobId: instanceId, ...(upload.generation ? { generation: upload.generation } : {}) };
  await client.startNew(ORCHESTRATOR_NAME, { instanceId, input });
  return { instanceId, started: true };
}

/**
 * The queue-triggered durable client (registered in ./app). Throwing leaves the
 * message on the queue for another try (and the poison queue after five).
 */
export function createUploadStarter(container: string) {
  return async (message: unknown, client: DurableClient, context: InvocationContext): Promise<StartResult | undefined> => {
    const upload = parseBlobCreatedEvent(message, container);
    if (!upload) {
      context.warn(`Ignored a queue message that is not a BlobCreated event for container "${container}".`);
      return undefined;
    }
    const result = await startPipeline(client, upload);
    context.log(result.started ? `Started ${ORCHESTRATOR_NAME} ${result.instanceId} for ${upload.sourceKey}.` : `Skipped duplicate event for ${upload.sourceKey}: instance ${result.instanceId} is ${result.existingStatus}.`);
    return result;
  };
}
