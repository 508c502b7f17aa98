// The deployed stack's queue and state machine are called with the caller's own AWS credentials.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { execFile } from "node:child_process";
import { Command, CommanderError, Option } from "commander";
import { CLOUDS, type Cloud } from "../../components/config";
import type { ReplayOutcome } from "./replay";

/**
 * `npm run replay -- --stack <name> [--cloud aws|azure]`: re-drives a deployed
 * stack's dead-lettered upload events. It reads the stack's outputs with
 * `pulumi stack output --json` (`deadLetters`, `stateMachineArn`), then on AWS
 * receives the dead-letter queue's messages and starts the state machine for
 * each S3 event (SQS redrive cannot send to EventBridge; see ./replay.ts).
 *
 * Exit codes: 0 every dead letter replayed (or none); 1 some were kept (unreadable
 * or their start failed); 2 bad usage, no such stack output, or no Pulumi CLI.
 */

export const EXIT = { ok: 0, kept: 1, usage: 2 } as const;

export interface ReplayCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Reads a stack's outputs; default: `pulumi stack output --json --stack <name>`. */
  stackOutputs?: (stack: string) => Promise<Record<string, unknown>>;
}

/** A failure of what was given, reported as one `[CODE] message` line. */
export class ReplayError extends Error {
  constructor(
    readonly code: "USAGE_INVALID" | "PULUMI_NOT_FOUND" | "STACK_OUTPUTS_UNREADABLE" | "REPLAY_UNSUPPORTED",
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

async function replayAws(outputs: Record<string, unknown>, stack: string, io: ReplayCliIo): Promise<ReplayOutcome[]> {
  const queueUrl = output(outputs, "deadLetters", stack);
  const stateMachineArn = output(outputs, "stateMachineArn", stack);
  const region = /^https:\/\/sqs\.([a-z0-9-]+)\./.exec(queueUrl)?.[1];
  const { SQSClient } = await import("@aws-sdk/client-sqs");
  const { SFNClient, StartExecutionCommand } = await import("@aws-sdk/client-sfn");
  const { replayDeadLetters, sqsDeadLetters } = await import("./replay");
  const sqs = new SQSClient({ region });
  const sfn = new SFNClient({ region });
  try {
    return await replayDeadLetters({
      cloud: "aws",
      source: sqsDeadLetters(sqs, queueUrl),
      // The input the upload rule's transformer gives the state machine (components/aws/trigger.ts).
      start: async (upload) => (await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(upload) }))).executionArn ?? "",
      onEach: (outcome) => io.stdout.write(`${formatOutcome(outcome)}\n`),
    });
  } finally {
    sqs.destroy();
    sfn.destroy();
  }
}

/** Runs the CLI; returns the exit code (never throws). */
export async function runReplayCli(argv: readonly string[], io: ReplayCliIo): Promise<number> {
  const cli = new Command("npm run replay --")
    .description("Re-drive a deployed stack's dead-lettered upload events: each is started as a pipeline run again and removed once started.")
    .requiredOption("--stack <name>", "the deployed stack (its outputs are read with `pulumi stack output --json`)")
    .addOption(new Option("--cloud <cloud>", "the stack's cloud").choices([...CLOUDS]).default("aws"))
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text), outputError: (text, write) => write(`[USAGE_INVALID] ${text.replace(/^error:\s*/i, "").trim()} See --help.\n`) });
  try {
    cli.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw error;
  }
  const { stack, cloud } = cli.opts<{ stack: string; cloud: Cloud }>();
  try {
    if (cloud === "azure") {
      throw new ReplayError("REPLAY_UNSUPPORTED", "Replaying a deployed Azure stack is not built yet: its dead-letter blobs are in the container the stack output `deadLetters` names. Re-run each upload by uploading it again (`az storage blob upload --auth-mode login --overwrite ...`: a new BlobCreated event), then delete the dead-letter blob; see the README, \"Dead-letter replay\".");
    }
    const outputs = await (io.stackOutputs ?? pulumiStackOutputs)(stack);
    const outcomes = await replayAws(outputs, stack, io);
    const kept = outcomes.filter((outcome) => outcome.status !== "replayed").length;
    io.stdout.write(`${outcomes.length - kept} dead letter(s) replayed, ${kept} kept\n`);
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
