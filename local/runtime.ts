import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ProcessingOptions } from "../functions/core/options";
import type { JobRecord, Notifier, PipelineEvent } from "../functions/ports";
import { jobIdFor, outputPrefix, type EraseResult, type Manifest } from "../functions/steps";
import type { Cloud } from "../components/config";
import { LOCAL_CLOUDS } from "./clouds";
import type { EmulatorPorts, ExecutionResult, FlavourOptions, LocalFlavour, UploadEvent } from "./flavour";
import { tuneHeapForLocalRuntime } from "./heap";
import type { InputFile } from "./inputs";
import { JsonLinesNotifier } from "./notifier";
import { claimRunFolder, releaseRunFolder } from "./runFolder";

/**
 * The embedded default: the pipeline's real step handlers and real workflow
 * definition, run on this machine against emulators. This file is the
 * cloud-neutral part: inputs, the concurrency-limited run, job collection,
 * copying outputs. Each cloud's engine and emulators are its flavour
 * (local/<cloud>/flavour.ts, listed in local/clouds.ts).
 */

/** Starts one flavour's emulators and engine. */
export async function startFlavour(cloud: Cloud, options: FlavourOptions): Promise<LocalFlavour> {
  if (!options.defaultHeapGrowth) tuneHeapForLocalRuntime();
  return LOCAL_CLOUDS[cloud].start(options);
}

// ---------------------------------------------------------------------------
// Inputs

export { collectInputs, type CollectedInputs, type InputFile, type InputProblem } from "./inputs";
export { LocalInputError } from "./errors";

const CONTENT_TYPES: Record<string, string> = {
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".avif": "image/avif",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".svg": "image/svg+xml",
  ".heic": "image/heic",
  ".heif": "image/heif",
};

/** Content type by extension, as a browser upload would send it; the pipeline never trusts it. */
export function contentTypeFor(key: string): string {
  return CONTENT_TYPES[path.extname(key).toLowerCase()] ?? "application/octet-stream";
}

// ---------------------------------------------------------------------------
// Running inputs

/**
 * `skipped`: never ran (interrupted before it started, or its file could not be read when its turn came).
 * `superseded`: a newer upload of the key (or its delete) came first; the job wrote no manifest (functions/steps/current.ts).
 */
export type RowStatus = "succeeded" | "failed" | "superseded" | "lost" | "skipped";

/** What became of one input: its job record, summarised. */
export interface JobRow {
  /** The upload's key: the input's path relative to the folder given. */
  key: string;
  jobId: string;
  /** `lost` = the run ended without a finished job record: a pipeline bug, never an image problem. */
  status: RowStatus;
  renditions: number;
  bytesIn?: number;
  bytesOut?: number;
  errorCode?: string;
  errorMessage?: string;
  manifestKey?: string;
  record?: JobRecord;
  execution?: ExecutionResult;
}

/** The row of an input that never ran because the run was interrupted first. */
export function notRunRow(input: InputFile): JobRow {
  return { key: input.key, jobId: "", status: "skipped", renditions: 0, errorCode: "INTERRUPTED", errorMessage: "The run was interrupted before this file was uploaded." };
}

/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Reads the job of an upload and says what became of it. */
export async function jobRow(flavour: LocalFlavour, input: { key: string; bytes?: number }, event: UploadEvent, execution?: ExecutionResult): Promise<JobRow> {
  const jobId = jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion, event.generation);
  const record = await flavour.ports.jobs.get(jobId);
  const base = { key: input.key, jobId, record, execution, renditions: 0, bytesIn: record?.bytesIn ?? input.bytes };
  if (record?.status === "succeeded") {
    return { ...base, status: "succeeded", renditions: record.outputs ?? 0, bytesOut: record.bytesOut, manifestKey: record.manifestKey };
  }
  if (record?.status === "failed") {
    return { ...base, status: "failed", errorCode: record.error?.code ?? "INTERNAL", errorMessage: record.error?.message };
  }
  if (record?.status === "superseded") {
    const by = record.supersededByVersion ?? record.supersededByEtag;
    return { ...base, status: "superseded", errorMessage: by ? `A newer upload (${by}) replaced it before its manifest; that upload's job renders the key.` : "The upload was deleted before its manifest." };
  }
  const why = record ? `the job is still "${record.status}"` : "no job was recorded";
  const engine = execution?.error ? ` (engine: ${execution.error.name}${execution.error.cause ? `: ${execution.error.cause.slice(0, 200)}` : ""})` : "";
  return { ...base, status: "lost", errorCode: "LOST", errorMessage: `The run ended but ${why}${engine}.` };
}

/**
 * Uploads one input and runs it through the workflow: the local stand-in for
 * "a user uploads a file, the trigger starts an execution". Never throws: an
 * input that could not be uploaded, or whose run broke the engine, is `lost`; one
 * whose file could no longer be read is `skipped` with INPUT_UNREADABLE.
 */
export async function processInput(flavour: LocalFlavour, input: InputFile): Promise<JobRow> {
  let event: UploadEvent;
  let body: Buffer;
  try {
    body = input.body ?? (await readFile(input.file as string));
  } catch (thrown) {
    // Checked readable before the run (local/inputs.ts); it changed since.
    return { key: input.key, jobId: "", status: "skipped", renditions: 0, errorCode: "INPUT_UNREADABLE", errorMessage: `The file could not be read: ${(thrown as Error)?.message ?? String(thrown)}` };
  }
  const bytes = body.length;
  try {
    event = await flavour.upload(input.key, body, contentTypeFor(input.key));
  } catch (thrown) {
    return { key: input.key, jobId: "", status: "lost", renditions: 0, errorCode: "LOST", errorMessage: `The upload failed: ${(thrown as Error)?.message ?? String(thrown)}` };
  }
  let execution: ExecutionResult;
  try {
    execution = await flavour.execute(event);
  } catch (thrown) {
    // The engine itself broke (not a step): the job is lost unless a record says otherwise.
    execution = { runId: "", status: "failed", error: { name: (thrown as Error)?.name ?? "Error", cause: (thrown as Error)?.message ?? String(thrown) } };
  }
  try {
    return await jobRow(flavour, { key: input.key, bytes }, event, execution);
  } catch (thrown) {
    return { key: input.key, jobId: jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion, event.generation), status: "lost", renditions: 0, execution, errorCode: "LOST", errorMessage: `The job record could not be read: ${(thrown as Error)?.message ?? String(thrown)}` };
  }
}

/** What became of one deleted input: its erasure (functions/steps/erase.ts), or why it could not run. */
export interface ErasedRow {
  key: string;
  /** False when the erasure failed (`errorMessage`) or the upload exists again. */
  erased: boolean;
  removed: EraseResult["removed"];
  errorMessage?: string;
}

/**
 * Deletes one upload and runs its erasure: the local stand-in for "a user deletes a file, the
 * delete trigger erases what the pipeline made of it". With `outDir`, the copies of its outputs
 * there go too. Never throws: a failure is in the row.
 */
export async function removeInput(flavour: LocalFlavour, key: string, outDir?: string): Promise<ErasedRow> {
  const none = { renditions: 0, work: 0, jobs: 0 };
  try {
    const result = await flavour.erase(await flavour.deleteUpload(key));
    if (result.erased && outDir) await rm(safeJoin(path.join(outDir, "renditions"), outputPrefix(key)), { recursive: true, force: true });
    return { key, erased: result.erased, removed: result.removed };
  } catch (thrown) {
    return { key, erased: false, removed: none, errorMessage: `The erasure failed: ${(thrown as Error)?.message ?? String(thrown)}` };
  }
}

/**
 * Copies a succeeded job's manifest and every object it names from the
 * renditions store to `<outDir>/renditions/`, under the same keys.
 */
export async function copyOutputs(flavour: LocalFlavour, row: JobRow, outDir: string): Promise<string[]> {
  if (row.status !== "succeeded" || !row.manifestKey) return [];
  const root = path.join(outDir, "renditions");
  const manifestBody = await flavour.ports.objects.get("renditions", row.manifestKey);
  const manifest = JSON.parse(manifestBody.toString("utf8")) as Manifest;
  const written: string[] = [];
  const write = async (key: string, body: Buffer) => {
    const target = safeJoin(root, key);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, body);
    written.push(target);
  };
  await write(row.manifestKey, manifestBody);
  for (const output of manifest.outputs) await write(output.key, await flavour.ports.objects.get("renditions", output.key));
  return written;
}

/** Best effort, like the lifecycle rule it stands in for: a failure leaves files in a temp folder that is removed at stop. */
export async function expireWork(flavour: LocalFlavour, row: JobRow): Promise<void> {
  if (row.status === "lost" || !row.jobId) return;
  await flavour.expireWork(row.jobId).catch(() => undefined);
}

/** A key may hold `..`: never let it write outside the out folder. */
function safeJoin(root: string, key: string): string {
  const target = path.resolve(root, ...key.split("/").filter((part) => part !== "" && part !== "." && part !== ".."));
  if (!target.startsWith(path.resolve(root) + path.sep)) throw new Error(`Refusing to write "${key}" outside ${root}.`);
  return target;
}

/** Events go to a JSON-lines file (local/notifier.ts) and to `onEvent`; stands in for SNS / Event Grid. */
export function eventsNotifier(file: string, onEvent?: (event: PipelineEvent) => void): Notifier & { events: PipelineEvent[] } {
  const lines = new JsonLinesNotifier({ file });
  const events: PipelineEvent[] = [];
  return {
    events,
    async publish(event) {
      await lines.publish(event);
      events.push(event);
      onEvent?.(event);
    },
  };
}

export interface LocalRunOptions {
  cloud: Cloud;
  inputs: InputFile[];
  /** Outputs, events and job records land here (see `freshOutDir`). */
  outDir: string;
  /** `outDir` is a default name: take `outDir-2`, `-3`... when it exists. Otherwise a folder that already holds a run is refused. */
  freshOutDir?: boolean;
  concurrency?: number;
  processing: ProcessingOptions;
  emulatorPorts?: EmulatorPorts;
  retryDelayMs?: number;
  onStarted?: (flavour: LocalFlavour) => void;
  onJob?: (row: JobRow) => void;
  onEvent?: (event: PipelineEvent) => void;
  /** Aborting stops scheduling new inputs (they end `skipped`, INTERRUPTED); runs in flight finish, then emulators stop. */
  signal?: AbortSignal;
  /** Counts the run's billable operations (local/cost/). */
  meter?: FlavourOptions["meter"];
}

export interface LocalRunResult {
  cloud: Cloud;
  /** One per input, in input order; inputs the run never started are `skipped`. */
  rows: JobRow[];
  outDir: string;
  eventsFile: string;
  events: PipelineEvent[];
  endpoints: Record<string, string>;
  elapsedMs: number;
}

/** What jobs.json holds for a row: the job record, or what is known when there is none. */
export function jobsFileEntry(row: JobRow): unknown {
  return row.record ?? { jobId: row.jobId || undefined, sourceKey: row.key, status: row.status, errorCode: row.errorCode };
}

/** Writes `<outDir>/jobs.json`. */
export async function writeJobsFile(outDir: string, rows: readonly JobRow[]): Promise<void> {
  await writeFile(path.join(outDir, "jobs.json"), `${JSON.stringify(rows.map(jobsFileEntry), null, 2)}\n`);
}

/**
 * The whole local run: claim the out folder, start emulators, upload and run
 * every input with a concurrency limit, collect job records, copy outputs, stop
 * everything (also on failure). Rows keep the order of `inputs`.
 *
 * @throws {LocalInputError} OUT_DIR_IN_USE / OUT_DIR_UNWRITABLE before any emulator starts
 * @throws {LocalRuntimeError} when an emulator cannot start
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  const started = Date.now();
  const outDir = await claimRunFolder(path.resolve(options.outDir), { fresh: options.freshOutDir ?? false, cloud: options.cloud });
  const eventsFile = path.join(outDir, "events.jsonl");
  await writeFile(eventsFile, "");
  const notifier = eventsNotifier(eventsFile, options.onEvent);
  let flavour: LocalFlavour | undefined;
  try {
    if (!options.signal?.aborted) {
      flavour = await startFlavour(options.cloud, {
        processing: options.processing,
        notifier,
        emulatorPorts: options.emulatorPorts,
        retryDelayMs: options.retryDelayMs,
        meter: options.meter,
      }).catch(async (error: unknown) => {
        // Nothing ran: the folder is free for the next attempt.
        await releaseRunFolder(outDir, ["events.jsonl"]);
        throw error;
      });
      options.onStarted?.(flavour);
    }
    const running = flavour;
    const rows = await mapWithConcurrency(options.inputs, options.concurrency ?? 4, async (input) => {
      if (!running || options.signal?.aborted) return notRunRow(input);
      const row = await processInput(running, input);
      await copyOutputs(running, row, outDir).catch((thrown: unknown) => {
        row.errorMessage = `${row.errorMessage ?? ""} (outputs not copied: ${(thrown as Error)?.message})`.trim();
      });
      await expireWork(running, row);
      options.onJob?.(row);
      return row;
    });
    await writeJobsFile(outDir, rows);
    return { cloud: options.cloud, rows, outDir, eventsFile, events: notifier.events, endpoints: flavour?.endpoints ?? {}, elapsedMs: Date.now() - started };
  } finally {
    await flavour?.stop();
  }
}
