// Only emulators are called here: the SDK's notice about future Node versions is noise in a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { availableParallelism } from "node:os";
import path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CLOUDS, loadConfig, type Cloud, type PipelineConfig } from "../components/config";
import { isPipelineError } from "../functions/core/errors";
import type { PipelineEvent } from "../functions/ports";
import { isLocalRuntimeError } from "./errors";
import { watchInbox } from "./inbox";
import { createProgress, formatEvent, formatSummary, formatTable, summarize, type Progress } from "./report";
import { defaultSampleSet } from "./samples";
import { collectInputs, exitCodeFor, IMAGE_ERROR_CODES, LocalInputError, runLocal, type InputFile, type JobRow } from "./runtime";
import type { EmulatorPorts } from "./flavour";
import { loadStackPipelineConfig, StackConfigError } from "./stackConfig";

/**
 * `npm start [-- <folders or files>] [options]`: the whole pipeline on this
 * machine, on the AWS flavour (s3rver + dynalite + the generated ASL) or the
 * Azure flavour (azurite + the Durable orchestrator). See `--help`.
 *
 * Exit codes: 0 every image ended as renditions or as an image error (corrupt,
 * unsupported...); 1 a job failed for another reason (transient, internal) or was
 * lost; 2 bad usage (missing path, bad option, invalid config); 3 the local
 * environment (a port in use, an emulator that did not start); 130 interrupted.
 *
 * MALLOC_ARENA_MAX is deliberately not set here: glibc reads it only at exec, so
 * setting it now would just switch off sharp's guard (more libvips threads) while
 * leaving the allocator unbounded. Executions run concurrently instead, which
 * keeps the cores busy; `npm run bench -- --only pipeline` measures both settings.
 */

export const EXIT = { ok: 0, jobsFailed: 1, usage: 2, environment: 3, interrupted: 130 } as const;

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborting it is Ctrl-C. */
  signal?: AbortSignal;
  /** Base of the default out and inbox folders (default: the current folder). */
  cwd?: string;
}

interface CliOptions {
  cloud: Cloud;
  out?: string;
  concurrency: number;
  progress: boolean;
  watch: boolean;
  inbox: string;
  stack?: string;
  retryDelay: number;
  portS3?: number;
  portDynamo?: number;
  portBlob?: number;
  portTable?: number;
  portQueue?: number;
}

/** A usage problem: printed as one line, exit code 2. */
class UsageError extends Error {}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return parsed;
  };
}

function program(io: CliIo): Command {
  const port = (name: string) => integer(name, 1, 65535);
  return new Command("npm start --")
    .description("Run the image pipeline locally: emulators, the real workflow engine and step handlers, no cloud account.")
    .argument("[paths...]", "image files or folders (recursed); every file is uploaded and the pipeline decides. Default: a generated sample set")
    .addOption(new Option("--cloud <cloud>", "which cloud's engine and emulators (default: the --stack's cloud, else aws)").choices([...CLOUDS]))
    .option("--out <dir>", "where renditions, events.jsonl and jobs.json go (default: ./out/<time>-<cloud>)")
    .option("--concurrency <n>", "executions running at once", integer("--concurrency", 1, 64), Math.min(4, availableParallelism()))
    .option("--no-progress", "no progress bar (it is only drawn on a terminal anyway)")
    .option("--watch", "keep running and process every file dropped into the inbox folder, until Ctrl-C", false)
    .option("--inbox <dir>", "the folder --watch watches (created if missing)", "inbox")
    .option("--stack <name or file>", "use a Pulumi stack's settings (renditions, formats, filters, limits...) and cloud, validated as `pulumi up` does: a stack name (dev, dev-azure) or its file (Pulumi.dev.yaml)")
    .addOption(new Option("--retry-delay <ms>", "pause before a retried step, instead of the definition's seconds").argParser(integer("--retry-delay", 0, 60_000)).default(100))
    .addOption(new Option("--port-s3 <port>", "fixed port for the S3 emulator (default: a free one)").argParser(port("--port-s3")))
    .addOption(new Option("--port-dynamo <port>", "fixed port for the DynamoDB emulator").argParser(port("--port-dynamo")))
    .addOption(new Option("--port-blob <port>", "fixed port for azurite's Blob service").argParser(port("--port-blob")))
    .addOption(new Option("--port-table <port>", "fixed port for azurite's Table service").argParser(port("--port-table")))
    .addOption(new Option("--port-queue <port>", "fixed port for azurite's Queue service").argParser(port("--port-queue")))
    .addHelpText(
      "after",
      `
Exit codes: 0 every image ended as renditions or an image error; 1 a job failed otherwise
or was lost; 2 bad usage; 3 an emulator could not start (e.g. port in use); 130 Ctrl-C.

libvips threads: on glibc Linux, sharp gives each image one thread unless MALLOC_ARENA_MAX is
set when the process starts (glibc reads it only then). Runs use all cores anyway through
--concurrency; for a faster single image: MALLOC_ARENA_MAX=2 npm start -- photo.jpg`,
    )
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showSuggestionAfterError();
}

/** Processing settings and cloud: the defaults, or a stack's, read and validated by the same function as `pulumi up` and the preview. */
function readStackConfig(given: string | undefined, cloudOption: Cloud | undefined, cwd: string): { config: PipelineConfig; cloud: Cloud; note?: string } {
  if (given === undefined) return { config: loadConfig({}), cloud: cloudOption ?? "aws" };
  const { stack, config } = loadStackPipelineConfig(cwd, given);
  const source = `stack ${stack.stack} (${shownPath(cwd, stack.stackFile)})`;
  if (cloudOption === undefined || cloudOption === config.cloud) return { config, cloud: config.cloud, note: `${source}: cloud ${config.cloud}, the stack's` };
  return { config, cloud: cloudOption, note: `${source}: cloud ${cloudOption} from --cloud (the stack deploys to ${config.cloud})` };
}

/** Relative to the current folder when inside it, absolute otherwise. */
function shownPath(cwd: string, target: string): string {
  const relative = path.relative(cwd, target);
  return relative === "" ? "." : relative.startsWith("..") || path.isAbsolute(relative) ? target : relative;
}

function timestamp(): string {
  return new Date().toISOString().replace(/\..*$/, "").replace(/:/g, "-");
}

/**
 * The CLI, callable from tests: parses `argv` (without node and script), runs,
 * writes to `io`, returns the exit code. Never throws.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const write = (stream: NodeJS.WritableStream, line: string) => stream.write(`${line}\n`);
  const command = program(io);
  try {
    command.parse(argv as string[], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw error;
  }
  const options = command.opts<CliOptions>();
  const paths = command.args;
  const cwd = io.cwd ?? process.cwd();
  const emulatorPorts: EmulatorPorts = { s3: options.portS3, dynamo: options.portDynamo, blob: options.portBlob, table: options.portTable, queue: options.portQueue };
  let progress: Progress | undefined;
  try {
    // --cloud has no default: unset, the stack's cloud applies.
    const { config, cloud, note } = readStackConfig(options.stack, options.cloud as Cloud | undefined, cwd);
    options.cloud = cloud;
    if (note) write(io.stdout, note);
    if (options.watch) {
      if (paths.length > 0) throw new UsageError("--watch takes no paths: drop files into the inbox folder (--inbox) instead.");
      return await watch(options, config, emulatorPorts, cwd, io);
    }

    const inputs: InputFile[] = paths.length > 0 ? await collectInputs(paths.map((given) => path.resolve(cwd, given))) : await sampleInputs(io);
    if (inputs.length === 0) throw new UsageError(`No files found in ${paths.join(", ")}.`);
    const outDir = path.resolve(cwd, options.out ?? path.join("out", `${timestamp()}-${options.cloud}`));

    write(io.stdout, `image-pipeline local (${options.cloud}): ${inputs.length} file${inputs.length === 1 ? "" : "s"}, concurrency ${options.concurrency}`);
    progress = createProgress(inputs.length, { stream: io.stderr, logStream: io.stdout, enabled: options.progress });
    const shown = progress;
    const result = await runLocal({
      cloud: options.cloud,
      inputs,
      outDir,
      concurrency: options.concurrency,
      processing: config.processing,
      emulatorPorts,
      retryDelayMs: options.retryDelay,
      signal: io.signal,
      onStarted: (flavour) => shown.log(`emulators on ${Object.entries(flavour.endpoints).map(([name, url]) => `${name} ${url}`).join(", ")}`),
      onEvent: (event: PipelineEvent) => shown.log(formatEvent(event)),
      onJob: () => shown.tick(),
    });
    progress.stop();
    progress = undefined;

    write(io.stdout, "");
    write(io.stdout, formatTable(result.rows));
    write(io.stdout, "");
    write(io.stdout, `${formatSummary(summarize(result.rows))} in ${(result.elapsedMs / 1000).toFixed(1)} s`);
    const where = (target: string) => shownPath(cwd, target);
    write(io.stdout, `outputs: ${where(path.join(result.outDir, "renditions"))}   events: ${where(result.eventsFile)}   jobs: ${where(path.join(result.outDir, "jobs.json"))}`);
    explainFailures(result.rows, io);
    if (io.signal?.aborted) {
      write(io.stderr, `Interrupted: ${inputs.length - result.rows.length} file(s) were not run.`);
      return EXIT.interrupted;
    }
    return exitCodeFor(result.rows);
  } catch (error) {
    progress?.stop();
    return reportError(error, io);
  }
}

/** One line per failure that is not the image's fault: those are what make the exit code 1. */
function explainFailures(rows: readonly JobRow[], io: CliIo): void {
  for (const row of rows) {
    if (row.status === "succeeded" || IMAGE_ERROR_CODES.includes(row.errorCode ?? "")) continue;
    io.stderr.write(`${row.status === "lost" ? "LOST" : "FAILED"} ${row.key}: ${row.errorCode} ${row.errorMessage ?? ""}\n`);
  }
}

/** Known failures become one clear line (never a stack trace) and an exit code. */
function reportError(error: unknown, io: CliIo): number {
  const line = (text: string) => io.stderr.write(`${text}\n`);
  if (isLocalRuntimeError(error)) {
    line(`[${error.code}] ${error.message}`);
    return EXIT.environment;
  }
  if (error instanceof LocalInputError) {
    line(`[${error.code}] ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof StackConfigError) {
    line(`[${error.code}] ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof UsageError) {
    line(error.message);
    return EXIT.usage;
  }
  if (isPipelineError(error)) {
    line(`[${error.code}] ${error.message}`);
    return error.code === "CONFIG_INVALID" ? EXIT.usage : EXIT.jobsFailed;
  }
  line(`Unexpected failure of the local runtime: ${(error as Error)?.stack ?? String(error)}`);
  return EXIT.jobsFailed;
}

async function sampleInputs(io: CliIo): Promise<InputFile[]> {
  io.stdout.write("no paths given: generating the sample set (photos, alpha PNG, WebP, animated GIF, EXIF, CMYK, corrupt, over the pixel limit, not an image)\n");
  return (await defaultSampleSet()).map(({ key, body }) => ({ key, body }));
}

async function watch(options: CliOptions, config: PipelineConfig, emulatorPorts: EmulatorPorts, cwd: string, io: CliIo): Promise<number> {
  const inbox = path.resolve(cwd, options.inbox);
  const outDir = path.resolve(cwd, options.out ?? path.join("out", `${timestamp()}-${options.cloud}-watch`));
  const say = (text: string) => io.stdout.write(`${text}\n`);
  const rows = await watchInbox({
    cloud: options.cloud,
    inbox,
    outDir,
    concurrency: options.concurrency,
    processing: config.processing,
    emulatorPorts,
    retryDelayMs: options.retryDelay,
    signal: io.signal,
    onReady: (endpoints) =>
      say(`watching ${shownPath(cwd, inbox)} (${options.cloud}; ${Object.entries(endpoints).map(([name, url]) => `${name} ${url}`).join(", ")}); outputs go to ${shownPath(cwd, outDir)}; Ctrl-C stops`),
    onEvent: (event) => say(formatEvent(event)),
    onJob: (row) => say(formatTable([row]).split("\n")[2]),
  });
  say(`stopped: ${formatSummary(summarize(rows))}`);
  return exitCodeFor(rows);
}

/** Ctrl-C once: finish what runs, stop emulators. Twice: leave now. */
function interruptSignal(stderr: NodeJS.WritableStream): AbortSignal {
  const controller = new AbortController();
  process.on("SIGINT", () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    stderr.write("\nstopping: finishing running executions and stopping the emulators (Ctrl-C again to quit now)\n");
    controller.abort();
  });
  return controller.signal;
}

if (require.main === module) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: interruptSignal(process.stderr) }).then((code) => {
    process.exitCode = code;
  });
}
