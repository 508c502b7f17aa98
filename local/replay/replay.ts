import type { ContainerClient } from "@azure/storage-blob";
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Cloud } from "../../components/config";
import { CONTAINERS } from "../../functions/azure/contract";
import { parseBlobCreatedEvent } from "../../functions/azure/trigger";
import type { UploadEvent } from "../flavour";

/**
 * Dead-letter replay: every upload event the trigger could not deliver is
 * started again, one report line per dead letter, and a dead letter is removed
 * only once every upload it names was started.
 *
 * AWS: the upload rule's target dead-letter queue (SQS) holds the EventBridge
 * event itself as the message body, with ERROR_CODE / ERROR_MESSAGE attributes
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 * SQS's own redrive (StartMessageMoveTask) only moves messages back to SQS
 * source queues, not to EventBridge (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html),
 * so each event is turned into the pipeline's start input, as the rule's input
 * transformer does (components/aws/trigger.ts), and started.
 * Azure: Event Grid writes undeliverable events as JSON blobs holding one or more
 * events (`<SUBSCRIPTION>/<y>/<m>/<d>/<h>/<guid>.json` in the dead-letters container:
 * https://learn.microsoft.com/azure/event-grid/manage-event-delivery); each BlobCreated
 * event is started again as the queue starter would.
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

/** Starts the pipeline for one upload; returns what identifies the run (execution ARN, job id). */
export type UploadStarter = (upload: UploadEvent) => Promise<string>;

export interface ReplayOutcome {
  id: string;
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

/** The uploads a dead-letter blob's events name (an array of events, or one). */
export function uploadsFromDeadLetterBlob(body: string, container: string = CONTAINERS.uploads): UploadEvent[] {
  const parsed = JSON.parse(body) as unknown;
  const events = Array.isArray(parsed) ? parsed : [parsed];
  return events.map((event) => parseBlobCreatedEvent(event, container)).filter((upload): upload is NonNullable<typeof upload> => upload !== undefined);
}

export const PARSERS: Record<Cloud, (body: string) => UploadEvent[]> = { aws: uploadsFromEventBridgeEvent, azure: (body) => uploadsFromDeadLetterBlob(body) };

const messageOf = (thrown: unknown) => (thrown as Error)?.message ?? String(thrown);

/**
 * Replays every dead letter of `source`. A letter that names no upload, or
 * whose start failed, is kept (reported `unreadable` / `failed`); a letter seen
 * twice in one replay ends it, so kept letters are never looped over.
 */
export async function replayDeadLetters(options: { cloud: Cloud; source: DeadLetterSource; start: UploadStarter; onEach?: (outcome: ReplayOutcome) => void }): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  const seen = new Set<string>();
  for (;;) {
    const batch = (await options.source.receive()).filter((letter) => !seen.has(letter.id));
    if (batch.length === 0) return outcomes;
    for (const letter of batch) {
      seen.add(letter.id);
      let outcome: ReplayOutcome;
      let uploads: UploadEvent[] = [];
      try {
        uploads = PARSERS[options.cloud](letter.body);
      } catch (thrown) {
        uploads = [];
        outcome = { id: letter.id, status: "unreadable", uploads: [], reason: letter.reason, message: `not JSON: ${messageOf(thrown)}` };
      }
      if (uploads.length === 0) {
        outcome ??= { id: letter.id, status: "unreadable", uploads: [], reason: letter.reason, message: "names no upload of this pipeline; kept" };
      } else {
        const started = await Promise.all(
          uploads.map(async (upload) => {
            try {
              return { sourceKey: upload.sourceKey, run: await options.start(upload) };
            } catch (thrown) {
              return { sourceKey: upload.sourceKey, error: messageOf(thrown) };
            }
          }),
        );
        const failed = started.some((upload) => upload.error !== undefined);
        if (!failed) await options.source.remove(letter);
        outcome = { id: letter.id, status: failed ? "failed" : "replayed", uploads: started, reason: letter.reason };
      }
      outcomes.push(outcome);
      options.onEach?.(outcome);
    }
  }
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

/** Event Grid's dead-letter blobs in a container (one batch: every blob listed). */
export function blobDeadLetters(container: ContainerClient): DeadLetterSource {
  let listed = false;
  return {
    async receive() {
      if (listed) return [];
      listed = true;
      const letters: DeadLetter[] = [];
      for await (const blob of container.listBlobsFlat()) {
        const body = (await container.getBlobClient(blob.name).downloadToBuffer()).toString("utf8");
        let reason: string | undefined;
        try {
          const first = ([] as { deadLetterReason?: string }[]).concat(JSON.parse(body))[0];
          reason = first?.deadLetterReason;
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
