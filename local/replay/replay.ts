import type { ContainerClient } from "@azure/storage-blob";
import type { QueueClient } from "@azure/storage-queue";
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { CONTAINERS, DELETE_EVENTS_QUEUE, UPLOAD_EVENTS_QUEUE } from "../../functions/azure/contract";
import { parseBlobCreatedEvent, parseBlobDeletedEvent } from "../../functions/azure/trigger";
import { jobIdFor } from "../../functions/steps/jobId";
import type { UploadEvent } from "../flavour";

/**
 * Dead-letter replay: every storage event the trigger could not deliver is
 * re-driven, one report line per dead letter, and a dead letter is removed
 * only once every event it holds was re-driven.
 *
 * AWS: the upload rule's target dead-letter queue (SQS) holds the EventBridge
 * event itself as the message body, with ERROR_CODE / ERROR_MESSAGE attributes
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 * SQS's own redrive (StartMessageMoveTask) only moves messages back to SQS
 * source queues, not to EventBridge (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html),
 * so each event is turned into the pipeline's start input, as the rule's input
 * transformer does (components/aws/trigger.ts), and started.
 * Azure: Event Grid writes undeliverable events as JSON blobs named
 * `<SUBSCRIPTION NAME IN UPPER CASE>/<y>/<m>/<d>/<h>/<guid>.json` in the dead-letters container
 * (https://learn.microsoft.com/azure/event-grid/manage-event-delivery#set-dead-letter-location); each of the
 * uploads container's BlobCreated / BlobDeleted events goes back on the queue its subscription delivers to,
 * encoded as Event Grid encodes it, so the queue-triggered starter or EraseUpload function reads it as the original.
 */

/** One dead letter: an SQS message or a dead-letter blob. */
export interface DeadLetter {
  id: string;
  body: string;
  /** Why it was dead-lettered, when the source says. */
  reason?: string;
}

/** Where dead letters are read from and removed. */
export interface DeadLetterSource {
  /** The next batch; empty when there is none left. */
  receive(): Promise<DeadLetter[]>;
  remove(letter: DeadLetter): Promise<void>;
}

/** What a dead letter asks to be sent again: its events this replay can re-drive, and a description of each it cannot. */
export interface ParsedLetter<T> {
  events: T[];
  ignored: string[];
}

/** Starts the pipeline for one upload; returns what identifies the run (execution ARN, job id). */
export type UploadStarter = (upload: UploadEvent) => Promise<string>;

export interface ReplayOutcome {
  id: string;
  /** replayed: every event re-driven and the letter removed; unreadable: nothing to re-drive (kept); failed: some event could not be re-driven (kept). */
  status: "replayed" | "unreadable" | "failed";
  uploads: { sourceKey: string; run?: string; error?: string }[];
  reason?: string;
  message?: string;
}

/** The uploads an S3 "Object Created" EventBridge event names (the trigger's START_INPUT_PATHS). */
export function uploadsFromEventBridgeEvent(body: string): UploadEvent[] {
  const event = JSON.parse(body) as { source?: string; "detail-type"?: string; detail?: { object?: { key?: string; etag?: string; "version-id"?: string } } };
  const object = event.detail?.object;
  if (event.source !== "aws.s3" || event["detail-type"] !== "Object Created" || typeof object?.key !== "string") return [];
  return [{ sourceKey: object.key, ...(object.etag ? { sourceEtag: object.etag } : {}), ...(object["version-id"] ? { sourceVersion: object["version-id"] } : {}) }];
}

/** The events of a dead-letter blob: Event Grid writes a JSON array of one or more (https://github.com/Azure/azure-sdk-for-net/issues/26198); one object is accepted too. */
function blobEvents(body: string): unknown[] {
  const parsed = JSON.parse(body) as unknown;
  return Array.isArray(parsed) ? parsed : [parsed];
}

/**
 * The attributes Event Grid adds to a dead-lettered event: lower case in CloudEvents 1.0, camel case in its own
 * schema (https://learn.microsoft.com/azure/event-grid/delivery-and-retry#delivery-event-formats). Dropped on re-drive.
 */
export const DEAD_LETTER_ATTRIBUTES = [
  "deadletterreason",
  "deliveryattempts",
  "lastdeliveryoutcome",
  "publishtime",
  "lastdeliveryattempttime",
  "deadLetterReason",
  "deliveryAttempts",
  "lastDeliveryOutcome",
  "publishTime",
  "lastDeliveryAttemptTime",
] as const;

/** Why an Event Grid event was dead-lettered, in either schema. */
export function deadLetterReason(event: unknown): string | undefined {
  if (!event || typeof event !== "object") return undefined;
  const { deadletterreason, deadLetterReason: camel, lastdeliveryoutcome, lastDeliveryOutcome } = event as Record<string, unknown>;
  const reason = [deadletterreason ?? camel, lastdeliveryoutcome ?? lastDeliveryOutcome].filter((part) => typeof part === "string" && part !== "").join(", last outcome ");
  return reason || undefined;
}

/** One dead-lettered storage event to put back on the queue its subscription delivers to (components/azure/trigger.ts). */
export interface QueuedStorageEvent {
  sourceKey: string;
  /** BlobCreated → the starter's queue; BlobDeleted → the EraseUpload function's queue. */
  queue: typeof UPLOAD_EVENTS_QUEUE | typeof DELETE_EVENTS_QUEUE;
  /** The event as Event Grid delivered it: the dead-lettered event without the dead-letter attributes. */
  event: Record<string, unknown>;
  /** The job a BlobCreated event starts (the starter's instance id: key + ETag). */
  jobId?: string;
}

/**
 * The events of a dead-letter blob, each with the queue it goes back to: the uploads container's BlobCreated
 * events (the starter's queue) and BlobDeleted events (erasure's queue); anything else is ignored (the blob kept).
 */
export function storageEventsFromDeadLetterBlob(body: string, container: string = CONTAINERS.uploads): ParsedLetter<QueuedStorageEvent> {
  const parsed: ParsedLetter<QueuedStorageEvent> = { events: [], ignored: [] };
  for (const dead of blobEvents(body)) {
    const event = Object.fromEntries(Object.entries(dead && typeof dead === "object" ? dead : {}).filter(([key]) => !(DEAD_LETTER_ATTRIBUTES as readonly string[]).includes(key)));
    const created = parseBlobCreatedEvent(event, container);
    const deleted = created ? undefined : parseBlobDeletedEvent(event, container);
    if (created) parsed.events.push({ sourceKey: created.sourceKey, queue: UPLOAD_EVENTS_QUEUE, event, jobId: jobIdFor(created.sourceKey, created.sourceEtag) });
    else if (deleted) parsed.events.push({ sourceKey: deleted.sourceKey, queue: DELETE_EVENTS_QUEUE, event });
    else parsed.ignored.push(`${String(event.type ?? event.eventType ?? "an event without a type")} ${String(event.subject ?? "")}`.trim());
  }
  return parsed;
}

/**
 * What the queue triggers read: Event Grid writes each event to a storage queue as one Base64-encoded JSON
 * message (https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/eventgrid/azure-eventgrid/samples/consume_samples/consume_cloud_events_from_storage_queue.py),
 * and the Functions queue trigger decodes Base64 by default (host.json `messageEncoding`:
 * https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json).
 */
export function queueMessageOf(event: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(event), "utf8").toString("base64");
}

/** Sends each dead-lettered storage event back to its queue; returns what identifies it (queue, job, message id). */
export function storageQueueRedriver(queues: Record<QueuedStorageEvent["queue"], QueueClient>): (item: QueuedStorageEvent) => Promise<string> {
  return async (item) => {
    const { messageId } = await queues[item.queue].sendMessage(queueMessageOf(item.event));
    return `${item.queue}${item.jobId ? ` as job ${item.jobId}` : ""} (message ${messageId})`;
  };
}

const messageOf = (thrown: unknown) => (thrown as Error)?.message ?? String(thrown);

/** Errors that end a replay instead of keeping one letter: refused access, a missing queue (every later letter would fail the same way). */
export type FatalRedriveError = (thrown: unknown) => boolean;

/**
 * Replays every dead letter of `source`: each of its events is re-driven with `redrive`, and the letter is
 * removed only once all of them were (nothing is lost if the replay stops half way; a re-run re-drives a kept
 * letter's events again, which the pipeline dedupes by job id). A letter that names nothing to re-drive, or one
 * of whose events failed or was not understood, is kept (`unreadable` / `failed`); a letter seen twice in one
 * replay ends it, so kept letters are never looped over. An error `fatal` recognises is thrown at once.
 */
export async function replayDeadLetters<T extends { sourceKey: string }>(options: {
  source: DeadLetterSource;
  parse: (body: string) => ParsedLetter<T> | T[];
  redrive: (event: T) => Promise<string>;
  fatal?: FatalRedriveError;
  onEach?: (outcome: ReplayOutcome) => void;
}): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  const seen = new Set<string>();
  for (;;) {
    const batch = (await options.source.receive()).filter((letter) => !seen.has(letter.id));
    if (batch.length === 0) return outcomes;
    for (const letter of batch) {
      seen.add(letter.id);
      const outcome = await replayLetter(letter, options);
      outcomes.push(outcome);
      options.onEach?.(outcome);
    }
  }
}

async function replayLetter<T extends { sourceKey: string }>(
  letter: DeadLetter,
  options: { source: DeadLetterSource; parse: (body: string) => ParsedLetter<T> | T[]; redrive: (event: T) => Promise<string>; fatal?: FatalRedriveError },
): Promise<ReplayOutcome> {
  let parsed: ParsedLetter<T>;
  try {
    const result = options.parse(letter.body);
    parsed = Array.isArray(result) ? { events: result, ignored: [] } : result;
  } catch (thrown) {
    return { id: letter.id, status: "unreadable", uploads: [], reason: letter.reason, message: `not JSON: ${messageOf(thrown)}; kept` };
  }
  if (parsed.events.length === 0) return { id: letter.id, status: "unreadable", uploads: [], reason: letter.reason, message: "names no upload of this pipeline; kept" };
  // One at a time, in the letter's order: a refused permission stops the replay at its first event.
  const uploads: ReplayOutcome["uploads"] = [];
  for (const event of parsed.events) {
    try {
      uploads.push({ sourceKey: event.sourceKey, run: await options.redrive(event) });
    } catch (thrown) {
      if (options.fatal?.(thrown)) throw thrown;
      uploads.push({ sourceKey: event.sourceKey, error: messageOf(thrown) });
    }
  }
  const failed = uploads.some((upload) => upload.error !== undefined);
  if (failed || parsed.ignored.length > 0) {
    const ignored = parsed.ignored.length > 0 ? `${parsed.ignored.length} event(s) it holds are not the pipeline's (${parsed.ignored.join("; ")}); ` : "";
    return { id: letter.id, status: "failed", uploads, reason: letter.reason, message: `${ignored}kept` };
  }
  await options.source.remove(letter);
  return { id: letter.id, status: "replayed", uploads, reason: letter.reason };
}

/** The upload rule's SQS dead-letter queue. Letters kept by this replay stay invisible for `visibilitySeconds`. */
export function sqsDeadLetters(client: SQSClient, queueUrl: string, visibilitySeconds = 300): DeadLetterSource {
  const handles = new Map<string, string>();
  return {
    async receive() {
      const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: visibilitySeconds, MessageAttributeNames: ["All"] }));
      return Messages.filter((message) => message.MessageId && message.ReceiptHandle).map((message) => {
        handles.set(message.MessageId as string, message.ReceiptHandle as string);
        const attributes = message.MessageAttributes ?? {};
        const reason = [attributes.ERROR_CODE?.StringValue, attributes.ERROR_MESSAGE?.StringValue].filter(Boolean).join(": ");
        return { id: message.MessageId as string, body: message.Body ?? "", ...(reason ? { reason } : {}) };
      });
    },
    async remove(letter) {
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: handles.get(letter.id) }));
    },
  };
}

/** Event Grid's dead-letter blobs in a container, a listing page at a time (a replay holds one page of bodies, however many there are). */
export function blobDeadLetters(container: ContainerClient, pageSize = 100): DeadLetterSource {
  const pages = container.listBlobsFlat().byPage({ maxPageSize: pageSize });
  return {
    async receive() {
      let page = await pages.next();
      // A listing page may come back empty with more to follow.
      while (!page.done && page.value.segment.blobItems.length === 0 && page.value.continuationToken) page = await pages.next();
      if (page.done) return [];
      const letters: DeadLetter[] = [];
      for (const blob of page.value.segment.blobItems) {
        const body = (await container.getBlobClient(blob.name).downloadToBuffer()).toString("utf8");
        let reason: string | undefined;
        try {
          reason = deadLetterReason(blobEvents(body)[0]);
        } catch {
          // Reported as unreadable by the replay.
        }
        letters.push({ id: blob.name, body, ...(reason ? { reason } : {}) });
      }
      return letters;
    },
    async remove(letter) {
      await container.deleteBlob(letter.id, { deleteSnapshots: "include" });
    },
  };
}
