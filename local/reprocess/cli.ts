// Only emulators are called here: the SDK's notice about future Node versions is noise in a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import path from "node:path";
import { SingleBar, Presets } from "cli-progress";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CLOUDS, loadConfig, type Cloud, type PipelineConfig } from "../../components/config";
import { isPipelineError } from "../../functions/core/errors";
import { isLocalInputError, isLocalRuntimeError, LocalInputError } from "../errors";
import { collectInputs } from "../inputs";
import { IMAGE_ERROR_CODES } from "../report";
import { loadStackPipelineConfig, StackConfigError } from "../stackConfig";
import type { ReprocessCounts, ReprocessResult } from "./run";

/**
 * `npm run reprocess -- [uploads...] [options]`: reprocess every upload (or a
 * prefix, the failed ones, the ones changed since a date) on a local flavour,
 * with a new job per image, progress with ETA, a checkpoint to resume from and
 * a summary. See `--help` and the README's "Reprocessing".
 *
 * Exit codes: 0 every image ended as renditions or an image error; 1 a job
 * failed otherwise or was lost; 2 bad usage; 3 an emulator could not start;
 * 130 interrupted (resume with --resume <out folder>).
 */

export const EXIT = { ok: 0, jobsFailed: 1, usage: 2, environment: 3, interrupted: 130 } as const;

export interface ReprocessCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal?: AbortSignal;
  cwd?: string;
}

interface Options {
  stack?: string;
  cloud?: Cloud;
  prefix: string;
  failedOnly: boolean;
  since?: Date;
  concurrency: number;
  pageSize: number;
  from?: string;
  out?: string;
  resume?: string;
  generation?: string;
  progress: boolean;
  retryDelay: number;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return parsed;
  };
}

function date(value: string): Date {
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new InvalidArgumentError(`--since must be a date such as 2026-11-01 or 2026-11-01T12:00:00Z; got "${value}".`);
  return parsed;
}

function nonEmpty(name: string) {
  return (value: string): string => {
    if (value.trim() === "") throw new InvalidArgumentError(`${name} must not be empty.`);
    return value;
  };
}

function program(io: ReprocessCliIo): Command {
  return new Command("npm run reprocess --")
    .description("Reprocess uploads on a local flavour: each image gets a new job in this reprocess, new renditions, and the renditions no longer configured are removed.")
    .argument("[uploads...]", "files or folders holding the uploads (the local store starts empty: they are loaded into it first, without starting the pipeline)")
    .option("--stack <name or file>", "the stack whose settings (renditions, formats...) the reprocess applies, and its cloud")
    .addOption(new Option("--cloud <cloud>", "which local flavour (default: the stack's cloud, else aws)").choices([...CLOUDS]))
    .option("--prefix <prefix>", "only uploads whose key starts with this", "")
    .option("--failed-only", "only the uploads whose job failed in the --from run", false)
    .option("--since <date>", "only uploads changed at or after this date (the files' modification time)", date)
    .option("--concurrency <n>", "pipelines running at once", integer("--concurrency", 1, 64), 4)
    .option("--page-size <n>", "keys listed per page (the deployed reprocess's batchSize)", integer("--page-size", 1, 1000), 100)
    .option("--from <run folder>", "an earlier run folder: its renditions are loaded (so stale ones are found and removed) and its jobs.json says what failed", nonEmpty("--from"))
    .option("--out <dir>", "where the reprocess writes (default: a new ./out/<time>-<cloud>-reprocess)", nonEmpty("--out"))
    .option("--resume <out folder>", "continue an interrupted reprocess from its checkpoint (give the same uploads and options)", nonEmpty("--resume"))
    .option("--generation <id>", "the reprocess's id, part of every job id (default: reprocess-<time>)", nonEmpty("--generation"))
    .option("--no-progress", "no progress bar")
    .addOption(new Option("--retry-delay <ms>", "pause before a retried step").argParser(integer("--retry-delay", 0, 60_000)).default(100))
    .addHelpText("after", "\nExit codes: 0 every image ended as renditions or an image error; 1 a job failed otherwise or was lost;\n2 bad usage; 3 an emulator could not start; 130 Ctrl-C (then: --resume <out folder>).")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`[USAGE_INVALID] ${text.replace(/^error:\s*/i, "").trim()} See --help.\n`),
    });
}

function readConfig(stack: string | undefined, cloud: Cloud | undefined, cwd: string): { config: PipelineConfig; cloud: Cloud } {
  if (stack === undefined) return { config: loadConfig({}), cloud: cloud ?? "aws" };
  const { config } = loadStackPipelineConfig(cwd, stack);
  return { config, cloud: cloud ?? config.cloud };
}

function progressBar(io: ReprocessCliIo, enabled: boolean) {
  const tty = Boolean((io.stdout as NodeJS.WriteStream).isTTY);
  const bar = enabled && tty ? new SingleBar({ stream: io.stdout as NodeJS.WriteStream, format: "{bar} {value}/{total} | failed {failed} | remaining {remaining} | eta {eta_formatted}", hideCursor: true, clearOnComplete: true }, Presets.shades_classic) : undefined;
  const values = (counts: ReprocessCounts) => ({ failed: counts.failed, remaining: counts.total - counts.resumed - counts.succeeded - counts.failed - counts.superseded });
  return {
    start: (counts: ReprocessCounts) => bar?.start(counts.total, counts.resumed, values(counts)),
    update: (counts: ReprocessCounts) => bar?.update(counts.resumed + counts.succeeded + counts.failed + counts.superseded, values(counts)),
    stop: () => bar?.stop(),
  };
}

/** The summary lines: counts, where things are, what failed, how to resume. */
export function formatReprocessSummary(result: ReprocessResult): string {
  const { counts } = result;
  const remaining = counts.total - counts.resumed - counts.succeeded - counts.failed - counts.superseded;
  const lines = [
    `reprocess ${result.generation}: ${counts.total} selected, ${counts.succeeded} succeeded, ${counts.failed} failed${counts.superseded ? `, ${counts.superseded} superseded` : ""}${counts.resumed ? `, ${counts.resumed} done before the resume` : ""}${remaining ? `, ${remaining} remaining` : ""} in ${(result.elapsedMs / 1000).toFixed(1)} s`,
    `out: ${result.outDir} (renditions/, jobs.jsonl, events.jsonl, done.jsonl, reprocess.json)`,
    ...result.failedKeys.slice(0, 20).map(({ key, errorCode }) => `  FAILED ${key} ${errorCode ?? ""}`.trimEnd()),
    ...(result.failedKeys.length > 20 ? [`  ... and ${result.failedKeys.length - 20} more in jobs.jsonl`] : []),
    ...(result.finished ? [] : [`interrupted: continue with  npm run reprocess -- <the same uploads> --resume ${result.outDir}`]),
  ];
  return `${lines.join("\n")}\n`;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
}

/** Runs the CLI; returns the exit code (never throws). */
export async function runReprocessCli(argv: readonly string[], io: ReprocessCliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const cli = program(io);
  try {
    cli.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw error;
  }
  const options = cli.opts<Options>();
  const paths = cli.args;
  try {
    if (options.failedOnly && !options.from) throw new LocalInputError("USAGE_INVALID", "--failed-only needs --from <run folder>: the failed jobs are read from its jobs.json.");
    if (options.resume && options.out) throw new LocalInputError("USAGE_INVALID", "--resume writes into the folder it resumes; leave --out out.");
    if (paths.length === 0) throw new LocalInputError("INPUT_NONE", "Give the files or folders holding the uploads: the local store starts empty each run.");
    const { config, cloud } = readConfig(options.stack, options.cloud, cwd);
    const collected = await collectInputs(paths, cwd);
    for (const problem of collected.problems) io.stderr.write(`[${problem.code}] ${problem.message}\n`);
    if (collected.inputs.length === 0) throw new LocalInputError("INPUT_NONE", "The paths hold no readable file to reprocess.");
    // Loaded when a run starts (the emulators and SDKs take seconds); require(): the test runner's hook serves require() only.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runReprocess } = require("./run") as typeof import("./run");
    const bar = progressBar(io, options.progress);
    const resume = options.resume ? path.resolve(cwd, options.resume) : undefined;
    const result = await runReprocess({
      cloud,
      processing: config.processing,
      uploads: collected.inputs,
      from: options.from ? path.resolve(cwd, options.from) : undefined,
      outDir: resume ?? path.resolve(cwd, options.out ?? path.join("out", `${timestamp()}-${cloud}-reprocess`)),
      freshOutDir: !resume && options.out === undefined,
      resume: resume !== undefined,
      prefix: options.prefix,
      failedOnly: options.failedOnly,
      since: options.since,
      concurrency: options.concurrency,
      pageSize: options.pageSize,
      generation: options.generation,
      retryDelayMs: options.retryDelay,
      signal: io.signal,
      onStarted: (_flavour, counts) => bar.start(counts),
      onJob: (_row, counts) => bar.update(counts),
    }).finally(() => bar.stop());
    io.stdout.write(formatReprocessSummary(result));
    if (!result.finished) return EXIT.interrupted;
    return result.failedKeys.some(({ errorCode }) => !errorCode || !IMAGE_ERROR_CODES.includes(errorCode)) ? EXIT.jobsFailed : EXIT.ok;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: ReprocessCliIo): number {
  const line = (text: string) => io.stderr.write(`${text}\n`);
  if (isLocalRuntimeError(error)) {
    line(`[${error.code}] ${error.message}`);
    return EXIT.environment;
  }
  if (isLocalInputError(error) || error instanceof StackConfigError) {
    line(`[${error.code}] ${error.message}`);
    return EXIT.usage;
  }
  if (isPipelineError(error)) {
    line(`[${error.code}] ${error.message}`);
    return error.code === "CONFIG_INVALID" ? EXIT.usage : EXIT.jobsFailed;
  }
  io.stderr.write(`[INTERNAL] Unexpected failure of the reprocess: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.jobsFailed;
}

if (require.main === module) {
  const controller = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write("\nstopping: running jobs finish, then the checkpoint is saved (Ctrl-C again quits at once)\n");
    controller.abort();
    process.once("SIGINT", () => process.exit(EXIT.interrupted));
  });
  void runReprocessCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: controller.signal }).then((code) => {
    process.exitCode = code;
  });
}
