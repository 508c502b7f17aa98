// Only emulators are called here: the SDK's notice about future Node versions is noise in a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { fork } from "node:child_process";
import { availableParallelism, constants as osConstants } from "node:os";
import path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CLOUDS, loadConfig, type Cloud, type PipelineConfig } from "../components/config";
import { isPipelineError } from "../functions/core/errors";
import type { PipelineEvent } from "../functions/ports";
import { isLocalInputError, isLocalRuntimeError, LocalInputError } from "./errors";
import { collectInputs, type InputFile } from "./inputs";
import { createProgress, exitCodeFor, formatEvent, formatSummary, formatTable, IMAGE_ERROR_CODES, summarize, type Progress } from "./report";
import type { JobRow } from "./runtime";
import type { EmulatorPorts } from "./flavour";
import { loadStackPipelineConfig, StackConfigError } from "./stackConfig";
import { Meter } from "./cost/meter";
import { priceCounts, settingsFrom, withFlexBusy } from "./cost/model";
import { PRICES } from "./cost/prices";
import { formatRunCost } from "./cost/report";

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
 *
 * The emulators, engines and SDKs (local/runtime.ts, local/inbox.ts) take seconds
 * to load, so they are imported when a run starts, not with this file: run as a
 * script, this file first starts itself again as a worker (see `supervise`).
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

/**
 * The heavy modules, loaded when a run needs them. require(), not import(): the
 * test runner's TypeScript hook (tsx/cjs) serves require() only.
 */
function load(module: "./runtime"): typeof import("./runtime");
function load(module: "./samples"): typeof import("./samples");
function load(module: "./inbox"): typeof import("./inbox");
function load(module: "./serve/cli"): typeof import("./serve/cli");
function load(module: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(module);
}

/** A usage problem: printed as one `[USAGE_INVALID]` line, exit code 2. */
class UsageError extends Error {
  readonly code = "USAGE_INVALID";
}

/** Commander's own messages ("error: unknown option...", a suggestion on the next line) as one coded line. */
function codedUsageLine(text: string): string {
  const message = text.replace(/^error:\s*/i, "").split(/\r?\n/).map((line) => line.trim()).filter(Boolean).join(" ");
  return `[USAGE_INVALID] ${message}${/[.!?)]$/.test(message) ? "" : "."} See --help.\n`;
}

function nonEmpty(name: string) {
  return (value: string): string => {
    if (value.trim() === "") throw new InvalidArgumentError(`${name} must not be empty (it would mean the current folder).`);
    return value;
  };
}

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
    .option("--out <dir>", "where renditions, events.jsonl and jobs.json go; refused if it already holds a run (default: a new ./out/<time>-<cloud>)", nonEmpty("--out"))
    .option("--concurrency <n>", "executions running at once", integer("--concurrency", 1, 64), Math.min(4, availableParallelism()))
    .option("--no-progress", "no progress bar (it is only drawn on a terminal anyway)")
    .option("--watch", "keep running and process every file dropped into the inbox folder, until Ctrl-C", false)
    .option("--inbox <dir>", "the folder --watch watches (created if missing)", nonEmpty("--inbox"), "inbox")
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
Subcommand: npm start -- serve [--cloud azure] [--port N]   the HTTP API and an upload page (see serve --help)

Exit codes: 0 every image ended as renditions or an image error; 1 a job failed otherwise
or was lost; 2 bad usage; 3 an emulator could not start (e.g. port in use); 130 Ctrl-C.

libvips threads: on glibc Linux, sharp gives each image one thread unless MALLOC_ARENA_MAX is
set when the process starts (glibc reads it only then). Runs use all cores anyway through
--concurrency; for a faster single image: MALLOC_ARENA_MAX=2 npm start -- photo.jpg`,
    )
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text), outputError: (text, write) => write(codedUsageLine(text)) })
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
  // `serve` is a subcommand with its own options (local/serve/cli.ts).
  if (argv[0] === "serve") return load("./serve/cli").serveMain(argv.slice(1), io);
  const write = (stream: NodeJS.WritableStream, line: string) => stream.write(`${line}\n`);
  const command = program(io);
  try {
    command.parse(argv as string[], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return reportError(error, io);
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

    // Inputs are checked before anything starts; what cannot be read is reported now and skipped.
    const { inputs, problems } = paths.length > 0 ? await collectInputs(paths, cwd) : { inputs: await sampleInputs(io), problems: [] };
    for (const problem of problems) write(io.stderr, `[${problem.code}] ${problem.message}`);
    if (inputs.length === 0) {
      const skipped = problems.length > 0 ? ` (${problems.length} skipped, see above)` : "";
      throw new LocalInputError("INPUT_NONE", `No files to run in ${paths.join(", ")}${skipped}. Give image files or folders holding them.`);
    }
    const { runLocal } = load("./runtime");
    const outDir = path.resolve(cwd, options.out ?? path.join("out", `${timestamp()}-${options.cloud}`));

    write(io.stdout, `image-pipeline local (${options.cloud}): ${inputs.length} file${inputs.length === 1 ? "" : "s"}, concurrency ${options.concurrency}`);
    progress = createProgress(inputs.length, { stream: io.stderr, logStream: io.stdout, enabled: options.progress });
    const shown = progress;
    const meter = new Meter();
    const result = await runLocal({
      meter,
      cloud: options.cloud,
      inputs,
      outDir,
      freshOutDir: options.out === undefined,
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
    const usage = meter.snapshot();
    const settings = settingsFrom({ ...config, cloud: options.cloud });
    write(io.stdout, formatRunCost(usage, priceCounts(withFlexBusy(usage.total, Object.values(usage.executions).flat(), settings), settings, PRICES), `${options.cloud} ${options.cloud === "aws" ? `${config.workflowType}, ${config.architecture}` : `flex ${config.azure.flexInstanceMemoryMb} MB`}`));
    explainFailures(result.rows, io);
    if (io.signal?.aborted) {
      const notRun = result.rows.filter((row) => row.errorCode === "INTERRUPTED").length;
      write(io.stderr, `Interrupted: ${notRun} file(s) were not run (listed as "not run").`);
      return EXIT.interrupted;
    }
    if (problems.length > 0) {
      write(io.stderr, `${problems.length} input(s) were skipped before the run (see the lines above).`);
      return EXIT.jobsFailed;
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
    if (row.status === "succeeded" || row.status === "superseded" || row.errorCode === "INTERRUPTED" || IMAGE_ERROR_CODES.includes(row.errorCode ?? "")) continue;
    const label = row.status === "lost" ? "LOST" : row.status === "skipped" ? "SKIPPED" : "FAILED";
    io.stderr.write(`${label} ${row.key}: ${row.errorCode} ${row.errorMessage ?? ""}\n`);
  }
}

/** A Node file-system error that reached here: what the user gave could not be used. */
function fileSystemError(error: unknown): { code: string; message: string } | undefined {
  const errno = error as NodeJS.ErrnoException | undefined;
  if (!errno || typeof errno.code !== "string" || !/^E[A-Z]+$/.test(errno.code)) return undefined;
  const where = errno.path ? ` "${errno.path}"` : "";
  return { code: "LOCAL_IO_FAILED", message: `A file operation on${where} failed (${errno.code}). Check the path exists and you may read or write it.` };
}

/** Known failures become one clear `[CODE] message` line (never a stack trace) and an exit code. */
function reportError(error: unknown, io: CliIo): number {
  const line = (text: string) => io.stderr.write(`${text}\n`);
  if (isLocalRuntimeError(error)) {
    line(`[${error.code}] ${error.message}`);
    return EXIT.environment;
  }
  if (isLocalInputError(error) || error instanceof UsageError || error instanceof StackConfigError) {
    line(`[${error.code}] ${error.message}`);
    return EXIT.usage;
  }
  if (isPipelineError(error)) {
    line(`[${error.code}] ${error.message}`);
    return error.code === "CONFIG_INVALID" ? EXIT.usage : EXIT.jobsFailed;
  }
  const io_ = fileSystemError(error);
  if (io_) {
    line(`[${io_.code}] ${io_.message}`);
    return EXIT.usage;
  }
  // A bug, not a usage problem: the stack is what a bug report needs.
  io.stderr.write(`[INTERNAL] Unexpected failure of the local runtime: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.jobsFailed;
}

async function sampleInputs(io: CliIo): Promise<InputFile[]> {
  io.stdout.write("no paths given: generating the sample set (photos, alpha PNG, WebP, animated GIF, EXIF, CMYK, corrupt, over the pixel limit, not an image)\n");
  const { defaultSampleSet } = load("./samples");
  return (await defaultSampleSet()).map(({ key, body }) => ({ key, body }));
}

async function watch(options: CliOptions, config: PipelineConfig, emulatorPorts: EmulatorPorts, cwd: string, io: CliIo): Promise<number> {
  const { watchInbox } = load("./inbox");
  const inbox = path.resolve(cwd, options.inbox);
  const outDir = path.resolve(cwd, options.out ?? path.join("out", `${timestamp()}-${options.cloud}-watch`));
  const say = (text: string) => io.stdout.write(`${text}\n`);
  const rows = await watchInbox({
    cloud: options.cloud,
    inbox,
    outDir,
    freshOutDir: options.out === undefined,
    concurrency: options.concurrency,
    processing: config.processing,
    emulatorPorts,
    retryDelayMs: options.retryDelay,
    signal: io.signal,
    onReady: (endpoints, _flavour, claimed) =>
      say(`watching ${shownPath(cwd, inbox)} (${options.cloud}; ${Object.entries(endpoints).map(([name, url]) => `${name} ${url}`).join(", ")}); outputs go to ${shownPath(cwd, claimed)}; Ctrl-C stops`),
    onEvent: (event) => say(formatEvent(event)),
    onJob: (row) => say(formatTable([row]).split("\n")[2]),
    onErased: (row) =>
      say(
        row.errorMessage
          ? `${row.key}  not erased: ${row.errorMessage}`
          : row.erased
            ? `${row.key}  erased (${row.removed.renditions} renditions, ${row.removed.work} work objects, ${row.removed.jobs} job records)`
            : `${row.key}  kept: uploaded again`,
      ),
  });
  say(`stopped: ${formatSummary(summarize(rows))}`);
  return exitCodeFor(rows);
}

// ---------------------------------------------------------------------------
// Running as a script: a supervisor and a worker
//
// A terminal's Ctrl-C goes to every process of the foreground group, and launchers
// relay it again: tsx's launcher waits 30 ms for its child to report the signal and
// otherwise sends it again, then SIGKILLs the child if the report is still missing
// (tsx 4.x, dist/cli.mjs "relaySignalToChild"). A busy child (image work, in-process
// emulators) often misses 30 ms, so one Ctrl-C arrived twice or killed the run.
// So the script's own process only supervises: it does nothing, answers at once, and
// forwards each Ctrl-C it gets, numbered, to a worker in the same process group that
// runs the CLI. The worker gets the terminal's copy too, and counts the larger of its
// own and the supervisor's numbers, so one keystroke is one interrupt whichever way it
// came. If the supervisor disappears, the worker stops as for one Ctrl-C.

const WORKER_ENV = "IMAGE_PIPELINE_CLI_WORKER";

/** A launcher's relay of the same Ctrl-C reaches the supervisor within tens of ms; a person's second one later. */
const RELAY_WINDOW_MS = 200;

interface InterruptMessage {
  type: "interrupt";
  count: number;
}

function isInterruptMessage(value: unknown): value is InterruptMessage {
  return typeof value === "object" && value !== null && (value as InterruptMessage).type === "interrupt" && typeof (value as InterruptMessage).count === "number";
}

/** Starts the worker and relays interrupts to it; exits with its exit code. */
function supervise(): void {
  const worker = fork(__filename, process.argv.slice(2), { env: { ...process.env, [WORKER_ENV]: "1" }, stdio: ["inherit", "inherit", "inherit", "ipc"] });
  let interrupts = 0;
  let lastInterrupt = 0;
  process.on("SIGINT", () => {
    const now = Date.now();
    if (interrupts > 0 && now - lastInterrupt < RELAY_WINDOW_MS) return;
    interrupts++;
    lastInterrupt = now;
    if (worker.connected) worker.send({ type: "interrupt", count: interrupts } satisfies InterruptMessage);
  });
  for (const signal of ["SIGTERM", "SIGHUP"] as const) process.on(signal, () => worker.kill(signal));
  worker.once("error", (error) => {
    process.stderr.write(`[INTERNAL] The local runtime could not be started: ${error.message}\n`);
    process.exit(EXIT.jobsFailed);
  });
  worker.once("exit", (code, signal) => process.exit(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
}

/** The worker's Ctrl-C: once, finish what runs and report; twice, quit now (exit hooks stop emulators, remove temp folders). */
function workerInterrupts(stderr: NodeJS.WritableStream): AbortSignal {
  const controller = new AbortController();
  let direct = 0;
  let relayed = 0;
  let handled = 0;
  const onInterrupt = () => {
    const count = Math.max(direct, relayed);
    if (count <= handled) return;
    handled = count;
    if (count === 1) {
      stderr.write("\nstopping: finishing running executions and stopping the emulators (Ctrl-C again to quit now)\n");
      controller.abort();
    } else {
      stderr.write("\nquitting now: emulators stopped, temp folders removed, unfinished jobs not recorded\n");
      process.exit(EXIT.interrupted);
    }
  };
  process.on("SIGINT", () => {
    direct++;
    onInterrupt();
  });
  process.on("message", (message: unknown) => {
    if (!isInterruptMessage(message)) return;
    relayed = Math.max(relayed, message.count);
    onInterrupt();
  });
  // The supervisor gone (a launcher SIGKILLs it when it answers a Ctrl-C late; or someone killed it): stop as for
  // one Ctrl-C, not a second: this process is still in the terminal's group, so a real second one reaches it directly.
  process.on("disconnect", () => {
    relayed = Math.max(relayed, 1);
    onInterrupt();
  });
  return controller.signal;
}

/** Outside a supervisor (e.g. `node local/cli.ts` with a loader but no fork): Ctrl-C counted here alone. */
function standaloneInterrupts(stderr: NodeJS.WritableStream): AbortSignal {
  const controller = new AbortController();
  process.on("SIGINT", () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    stderr.write("\nstopping: finishing running executions and stopping the emulators (Ctrl-C again to quit now)\n");
    controller.abort();
  });
  return controller.signal;
}

function runWorker(): void {
  const supervised = typeof process.send === "function";
  const signal = supervised ? workerInterrupts(process.stderr) : standaloneInterrupts(process.stderr);
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal }).then((code) => {
    process.exitCode = code;
    if (supervised) {
      process.removeAllListeners("disconnect");
      if (process.connected) process.disconnect();
    }
  });
}

if (require.main === module) {
  if (process.env[WORKER_ENV] === "1") runWorker();
  else supervise();
}
