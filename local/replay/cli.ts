// The deployed stack's queues, state machine and containers are called with the caller's own credentials.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { execFile } from "node:child_process";
import { Command, CommanderError, Option } from "commander";
import type { ContainerClient } from "@azure/storage-blob";
import type { QueueClient } from "@azure/storage-queue";
import { CLOUDS, type Cloud } from "../../components/config";
import { DELETE_EVENTS_QUEUE, UPLOAD_EVENTS_QUEUE } from "../../functions/azure/contract";
import type { UploadEvent } from "../flavour";
import { deployerCredential } from "../../components/azure/packageBlob";
import { blobDeadLetters, replayDeadLetters, sqsDeadLetters, storageEventsFromDeadLetterBlob, storageQueueRedriver, uploadsFromEventBridgeEvent, type QueuedStorageEvent, type ReplayOutcome } from "./replay";

/**
 * `npm run replay -- --stack <name> [--cloud aws|azure]`: re-drives a deployed
 * stack's dead-lettered upload events. It reads the stack's outputs with
 * `pulumi stack output --json` (`cloud`, `deadLetters`, and `workflowId` on AWS),
 * then on AWS receives the dead-letter queue's messages and starts the state
 * machine for each S3 event (SQS redrive cannot send to EventBridge; see ./replay.ts);
 * on Azure lists the dead-letter container's blobs and puts each storage event
 * back on the queue its Event Grid subscription delivers to.
 *
 * Exit codes: 0 every dead letter replayed (or none); 1 some were kept (unreadable
 * or their re-drive failed); 2 bad usage, no such stack output, no Pulumi CLI, no
 * sign-in, a refused permission or a missing container or queue.
 */

export const EXIT = { ok: 0, kept: 1, usage: 2 } as const;

/** The dead-letter container and the queues a deployed Azure stack's replay reads and writes. */
export interface AzureReplayTarget {
  /** `https://<account>.blob.core.windows.net` */
  blobService: string;
  /** `https://<account>.queue.core.windows.net` */
  queueService: string;
  deadLettersContainer: string;
  /** The storage account's resource id when the outputs name it (for the role assignment a 403 asks for). */
  accountId?: string;
}

/** SDK clients of a deployed Azure stack's replay. */
export interface AzureReplayClients {
  deadLetters: ContainerClient;
  queues: Record<typeof UPLOAD_EVENTS_QUEUE | typeof DELETE_EVENTS_QUEUE, QueueClient>;
}

export interface ReplayCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Reads a stack's outputs; default: `pulumi stack output --json --stack <name>`. */
  stackOutputs?: (stack: string) => Promise<Record<string, unknown>>;
  /** The Azure clients; default: the target's endpoints with your Entra ID sign-in (tests: azurite). */
  azureClients?: (target: AzureReplayTarget) => AzureReplayClients;
}

/** A failure of what was given, reported as one `[CODE] message` line. */
export class ReplayError extends Error {
  constructor(
    readonly code: "USAGE_INVALID" | "PULUMI_NOT_FOUND" | "STACK_OUTPUTS_UNREADABLE" | "REPLAY_FORBIDDEN" | "REPLAY_TARGET_NOT_FOUND" | "AZURE_SIGN_IN_REQUIRED",
    message: string,
  ) {
    super(message);
    this.name = "ReplayError";
  }
}

/** The Pulumi CLI's view of a stack's outputs. */
export function pulumiStackOutputs(stack: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile("pulumi", ["stack", "output", "--json", "--stack", stack], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === "ENOENT") {
        return reject(new ReplayError("PULUMI_NOT_FOUND", "The Pulumi CLI is not on PATH; replay reads the deployed stack's outputs with `pulumi stack output --json`. Install it (https://www.pulumi.com/docs/install/) and log in to the stack's backend."));
      }
      if (error) return reject(new ReplayError("STACK_OUTPUTS_UNREADABLE", `\`pulumi stack output --json --stack ${stack}\` failed: ${String(stderr || error.message).trim()}`));
      try {
        resolve(JSON.parse(stdout) as Record<string, unknown>);
      } catch {
        reject(new ReplayError("STACK_OUTPUTS_UNREADABLE", `\`pulumi stack output --json --stack ${stack}\` did not print JSON.`));
      }
    });
  });
}

function output(outputs: Record<string, unknown>, name: string, stack: string): string {
  const value = outputs[name];
  if (typeof value !== "string" || value === "") throw new ReplayError("STACK_OUTPUTS_UNREADABLE", `The stack ${stack} has no output "${name}"; run \`pulumi up\` with this version of the program first.`);
  return value;
}

/** One line per dead letter. */
export function formatOutcome(outcome: ReplayOutcome): string {
  const uploads = outcome.uploads.map((upload) => `${upload.sourceKey}${upload.run ? ` → ${upload.run}` : ""}${upload.error ? ` (${upload.error})` : ""}`).join(", ");
  return `${outcome.status.toUpperCase().padEnd(10)} ${outcome.id}${uploads ? ` ${uploads}` : ""}${outcome.reason ? ` [dead-lettered: ${outcome.reason}]` : ""}${outcome.message ? ` — ${outcome.message}` : ""}`;
}

/** What an operation needs, for the message of a refusal. */
interface Operation {
  what: string;
  /** What to grant, a full sentence. */
  grant: string;
}

const statusOf = (thrown: unknown): number | undefined => {
  const error = thrown as { statusCode?: number; $metadata?: { httpStatusCode?: number } } | undefined;
  return error?.statusCode ?? error?.$metadata?.httpStatusCode;
};

/** Turns a refused, missing or unauthenticated call into its coded error; other errors pass (they keep one letter). */
function guard<A extends unknown[], R>(operation: Operation, call: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await call(...args);
    } catch (thrown) {
      const name = (thrown as Error)?.name ?? "";
      const code = (thrown as { code?: string })?.code ?? name;
      if (["CredentialUnavailableError", "AuthenticationError", "AggregateAuthenticationError"].includes(name)) {
        throw new ReplayError("AZURE_SIGN_IN_REQUIRED", `${operation.what} needs an Azure sign-in, and there is none: run \`az login\` (or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or ARM_* as for \`pulumi up\`), then run the replay again. (${(thrown as Error).message.split("\n")[0]})`);
      }
      // Storage answers 403 AuthorizationPermissionMismatch for a missing data role: https://learn.microsoft.com/rest/api/storageservices/common-rest-api-error-codes
      if (statusOf(thrown) === 403 || /AccessDenied/.test(code)) {
        throw new ReplayError("REPLAY_FORBIDDEN", `${operation.what} was refused (403 ${code}). ${operation.grant} Then run the replay again: nothing was lost.`);
      }
      // Storage's missing container or queue is a 404; SQS and Step Functions name theirs in a 400.
      if ((statusOf(thrown) === 404 && /ContainerNotFound|QueueNotFound/.test(code)) || /NonExistentQueue|QueueDoesNotExist|StateMachineDoesNotExist/.test(code)) {
        throw new ReplayError("REPLAY_TARGET_NOT_FOUND", `${operation.what} failed: it does not exist (${code}). Check the stack's outputs are current (\`pulumi up\`).`);
      }
      throw thrown;
    }
  };
}

const isFatal = (thrown: unknown) => thrown instanceof ReplayError;

async function replayAws(outputs: Record<string, unknown>, stack: string, io: ReplayCliIo): Promise<ReplayOutcome[]> {
  const queueUrl = output(outputs, "deadLetters", stack);
  // index.ts exports the state machine's ARN as `workflowId` on AWS.
  const stateMachineArn = output(outputs, "workflowId", stack);
  const region = /^https:\/\/sqs\.([a-z0-9-]+)\./.exec(queueUrl)?.[1];
  const { SQSClient } = await import("@aws-sdk/client-sqs");
  const { SFNClient, StartExecutionCommand } = await import("@aws-sdk/client-sfn");
  const sqs = new SQSClient({ region });
  const sfn = new SFNClient({ region });
  const queue = sqsDeadLetters(sqs, queueUrl);
  const readQueue: Operation = { what: `Reading the dead-letter queue ${queueUrl}`, grant: `Your AWS identity needs sqs:ReceiveMessage and sqs:DeleteMessage on that queue.` };
  try {
    return await replayDeadLetters({
      source: { receive: guard(readQueue, () => queue.receive()), remove: guard(readQueue, (letter) => queue.remove(letter)) },
      parse: uploadsFromEventBridgeEvent,
      // The input the upload rule's transformer gives the state machine (components/aws/trigger.ts).
      redrive: guard({ what: `Starting ${stateMachineArn}`, grant: "Your AWS identity needs states:StartExecution on that state machine." }, async (upload: UploadEvent) => (await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(upload) }))).executionArn ?? ""),
      fatal: isFatal,
      onEach: (outcome) => io.stdout.write(`${formatOutcome(outcome)}\n`),
    });
  } finally {
    sqs.destroy();
    sfn.destroy();
  }
}

/**
 * Where a deployed Azure stack keeps its dead letters and queues: `deadLetters` is the container's URL; the
 * queues are the same account's queue service (`<account>.queue.<suffix>` beside `<account>.blob.<suffix>`:
 * https://learn.microsoft.com/azure/storage/common/storage-account-overview#standard-endpoints), and
 * `uploadersGrant` is the uploads container's resource id, whose account part scopes a role assignment.
 */
export function azureReplayTarget(outputs: Record<string, unknown>, stack: string): AzureReplayTarget {
  const deadLetters = output(outputs, "deadLetters", stack);
  let url: URL;
  try {
    url = new URL(deadLetters);
  } catch {
    throw new ReplayError("STACK_OUTPUTS_UNREADABLE", `The stack ${stack}'s output "deadLetters" is not a container URL: ${deadLetters}`);
  }
  const [account, service, ...suffix] = url.hostname.split(".");
  const container = url.pathname.split("/").filter(Boolean).pop();
  if (service !== "blob" || !container || suffix.length === 0) throw new ReplayError("STACK_OUTPUTS_UNREADABLE", `The stack ${stack}'s output "deadLetters" is not a blob container URL: ${deadLetters}`);
  const grant = typeof outputs.uploadersGrant === "string" ? /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Storage\/storageAccounts\/[^/]+)\//i.exec(outputs.uploadersGrant)?.[1] : undefined;
  return {
    blobService: `${url.protocol}//${url.host}`,
    queueService: `${url.protocol}//${[account, "queue", ...suffix].join(".")}`,
    deadLettersContainer: container,
    ...(grant ? { accountId: grant } : {}),
  };
}

/** The real clients: your Entra ID sign-in, as `pulumi up` signs in (ARM_* variables, else DefaultAzureCredential). */
async function signedInAzureClients(target: AzureReplayTarget): Promise<AzureReplayClients> {
  const { BlobServiceClient } = await import("@azure/storage-blob");
  const { QueueServiceClient } = await import("@azure/storage-queue");
  const credential = deployerCredential();
  const queues = new QueueServiceClient(target.queueService, credential);
  return {
    deadLetters: new BlobServiceClient(target.blobService, credential).getContainerClient(target.deadLettersContainer),
    queues: { [UPLOAD_EVENTS_QUEUE]: queues.getQueueClient(UPLOAD_EVENTS_QUEUE), [DELETE_EVENTS_QUEUE]: queues.getQueueClient(DELETE_EVENTS_QUEUE) },
  };
}

/** `az role assignment create` for a built-in role (names: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage). */
function roleAssignment(role: string, scope: string | undefined): string {
  return `Grant yourself "${role}" on it: \`az role assignment create --assignee <your object id> --role "${role}" --scope ${scope ?? "<its resource id>"}\` (it takes a few minutes to apply).`;
}

async function replayAzure(outputs: Record<string, unknown>, stack: string, io: ReplayCliIo): Promise<ReplayOutcome[]> {
  const target = azureReplayTarget(outputs, stack);
  const clients = io.azureClients ? io.azureClients(target) : await signedInAzureClients(target);
  const container = blobDeadLetters(clients.deadLetters);
  const containerScope = target.accountId && `${target.accountId}/blobServices/default/containers/${target.deadLettersContainer}`;
  const readContainer: Operation = {
    what: `Listing, reading or deleting the dead-letter blobs in ${target.blobService}/${target.deadLettersContainer}`,
    grant: roleAssignment("Storage Blob Data Contributor", containerScope),
  };
  const send = storageQueueRedriver(clients.queues);
  const sendGuards = Object.fromEntries(
    [UPLOAD_EVENTS_QUEUE, DELETE_EVENTS_QUEUE].map((queue) => [
      queue,
      guard({ what: `Sending to the queue ${target.queueService}/${queue}`, grant: roleAssignment("Storage Queue Data Message Sender", target.accountId && `${target.accountId}/queueServices/default/queues/${queue}`) }, send),
    ]),
  ) as Record<QueuedStorageEvent["queue"], (item: QueuedStorageEvent) => Promise<string>>;
  return replayDeadLetters({
    source: { receive: guard(readContainer, () => container.receive()), remove: guard(readContainer, (letter) => container.remove(letter)) },
    parse: (body) => storageEventsFromDeadLetterBlob(body),
    redrive: (item) => sendGuards[item.queue](item),
    fatal: isFatal,
    onEach: (outcome) => io.stdout.write(`${formatOutcome(outcome)}\n`),
  });
}

/** Runs the CLI; returns the exit code (never throws). */
export async function runReplayCli(argv: readonly string[], io: ReplayCliIo): Promise<number> {
  const cli = new Command("npm run replay --")
    .description("Re-drive a deployed stack's dead-lettered upload events (AWS: started again; Azure: put back on their queue), each removed once re-driven.")
    .requiredOption("--stack <name>", "the deployed stack (its outputs are read with `pulumi stack output --json`)")
    .addOption(new Option("--cloud <cloud>", "the stack's cloud (default: its `cloud` output, else aws)").choices([...CLOUDS]))
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text), outputError: (text, write) => write(`[USAGE_INVALID] ${text.replace(/^error:\s*/i, "").trim()} See --help.\n`) });
  try {
    cli.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw error;
  }
  const { stack, cloud: asked } = cli.opts<{ stack: string; cloud?: Cloud }>();
  try {
    const outputs = await (io.stackOutputs ?? pulumiStackOutputs)(stack);
    const deployed = (CLOUDS as readonly unknown[]).includes(outputs.cloud) ? (outputs.cloud as Cloud) : undefined;
    if (asked && deployed && asked !== deployed) throw new ReplayError("USAGE_INVALID", `--cloud ${asked} was given, but the stack ${stack} is deployed to ${deployed} (its output "cloud"). Leave --cloud out.`);
    const cloud = asked ?? deployed ?? "aws";
    const outcomes = cloud === "azure" ? await replayAzure(outputs, stack, io) : await replayAws(outputs, stack, io);
    if (outcomes.length === 0) {
      io.stdout.write(`[DEAD_LETTERS_EMPTY] No dead letters in ${String(outputs.deadLetters)}: nothing to replay.\n`);
      return EXIT.ok;
    }
    const kept = outcomes.filter((outcome) => outcome.status !== "replayed").length;
    const events = outcomes.flatMap((outcome) => outcome.uploads).filter((upload) => upload.run !== undefined).length;
    io.stdout.write(`${outcomes.length - kept} dead letter(s) replayed, ${kept} kept; ${events} event(s) re-driven\n`);
    return kept > 0 ? EXIT.kept : EXIT.ok;
  } catch (error) {
    if (error instanceof ReplayError) {
      io.stderr.write(`[${error.code}] ${error.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`[INTERNAL] Unexpected failure of the replay: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.kept;
  }
}

if (require.main === module) {
  void runReplayCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((code) => {
    process.exitCode = code;
  });
}
