import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ProcessingOptions } from "../functions/core/options";
import type { JobRecord, Notifier, PipelineEvent } from "../functions/ports";
import { jobIdFor, type Manifest } from "../functions/steps";
import type { Cloud } from "../components/config";
import { LOCAL_CLOUDS } from "./clouds";
import type { EmulatorPorts, ExecutionResult, FlavourOptions, LocalFlavour, UploadEvent } from "./flavour";
import { tuneHeapForLocalRuntime } from "./heap";
import { JsonLinesNotifier } from "./notifier";

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

/** A file to upload: read lazily from `file`, or given as `body`. */
export interface InputFile {
  key: string;
  file?: string;
  body?: Buffer;
}

export class LocalInputError extends Error {
  readonly code = "INPUT_NOT_FOUND";
  constructor(message: string) {
    super(message);
    this.name = "LocalInputError";
  }
}

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

async function walk(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const files = await Promise.all(
    entries
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(async (entry) => {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) return walk(full);
        if (entry.isFile()) return [full];
        if (entry.isSymbolicLink()) {
          const target = await stat(full).catch(() => undefined);
          if (target?.isFile()) return [full];
          if (target?.isDirectory()) return walk(full);
        }
        return [];
      }),
  );
  return files.flat();
}

/**
 * Every file under the given folders (recursed) and files. Keys are paths
 * relative to the folder given (a file's own name for a file), with `/`.
 * Every file is uploaded, whatever its extension: the pipeline's validation decides.
 *
 * @throws {LocalInputError} INPUT_NOT_FOUND naming the first path that does not exist.
 */
export async function collectInputs(paths: readonly string[]): Promise<InputFile[]> {
  const inputs: InputFile[] = [];
  const taken = new Set<string>();
  for (const given of paths) {
    const info = await stat(given).catch(() => undefined);
    if (!info) throw new LocalInputError(`No such file or folder: "${given}". Give image files or folders that exist.`);
    const files = info.isDirectory() ? await walk(given) : [given];
    for (const file of files) {
      const relative = info.isDirectory() ? path.relative(given, file) : path.basename(file);
      inputs.push({ key: uniqueKey(relative.split(path.sep).join("/"), taken), file });
    }
  }
  return inputs;
}

/** Two inputs with the same key would be the same upload: keep both by suffixing the later one. */
function uniqueKey(key: string, taken: Set<string>): string {
  let candidate = key;
  const extension = path.posix.extname(key);
  const stem = key.slice(0, key.length - extension.length);
  for (let n = 2; taken.has(candidate); n++) candidate = `${stem}-${n}${extension}`;
  taken.add(candidate);
  return candidate;
}

// ---------------------------------------------------------------------------
// Running inputs

export type RowStatus = "succeeded" | "failed" | "lost";

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

/** Codes that say the image itself is bad: such a failure is the pipeline working, not failing. */
export const IMAGE_ERROR_CODES: readonly string[] = ["UNSUPPORTED_FORMAT", "TOO_LARGE", "TOO_MANY_PIXELS", "TOO_MANY_FRAMES", "CORRUPT_IMAGE", "EMPTY_INPUT"];

/** 0 when every job succeeded or failed for a reason in the image; 1 when any failed otherwise or was lost. */
export function exitCodeFor(rows: readonly JobRow[]): 0 | 1 {
  const bad = rows.some((row) => row.status === "lost" || (row.status === "failed" && !IMAGE_ERROR_CODES.includes(row.errorCode ?? "")));
  return bad ? 1 : 0;
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
  const jobId = jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion);
  const record = await flavour.ports.jobs.get(jobId);
  const base = { key: input.key, jobId, record, execution, renditions: 0, bytesIn: record?.bytesIn ?? input.bytes };
  if (record?.status === "succeeded") {
    return { ...base, status: "succeeded", renditions: record.outputs ?? 0, bytesOut: record.bytesOut, manifestKey: record.manifestKey };
  }
  if (record?.status === "failed") {
    return { ...base, status: "failed", errorCode: record.error?.code ?? "INTERNAL", errorMessage: record.error?.message };
  }
  const why = record ? `the job is still "${record.status}"` : "no job was recorded";
  const engine = execution?.error ? ` (engine: ${execution.error.name}${execution.error.cause ? `: ${execution.error.cause.slice(0, 200)}` : ""})` : "";
  return { ...base, status: "lost", errorCode: "LOST", errorMessage: `The run ended but ${why}${engine}.` };
}

/**
 * Uploads one input and runs it through the workflow: the local stand-in for
 * "a user uploads a file, the trigger starts an execution". Never throws: an
 * input that could not be read or uploaded, or whose run broke the engine, is `lost`.
 */
export async function processInput(flavour: LocalFlavour, input: InputFile): Promise<JobRow> {
  let event: UploadEvent;
  let bytes: number;
  try {
    const body = input.body ?? (await readFile(input.file as string));
    bytes = body.length;
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
    return { key: input.key, jobId: jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion), status: "lost", renditions: 0, execution, errorCode: "LOST", errorMessage: `The job record could not be read: ${(thrown as Error)?.message ?? String(thrown)}` };
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
  /** Outputs, events and job records land here. */
  outDir: string;
  concurrency?: number;
  processing: ProcessingOptions;
  emulatorPorts?: EmulatorPorts;
  retryDelayMs?: number;
  onStarted?: (flavour: LocalFlavour) => void;
  onJob?: (row: JobRow) => void;
  onEvent?: (event: PipelineEvent) => void;
  /** Aborting stops scheduling new inputs; runs in flight finish, then emulators stop. */
  signal?: AbortSignal;
}

export interface LocalRunResult {
  cloud: Cloud;
  rows: JobRow[];
  outDir: string;
  eventsFile: string;
  events: PipelineEvent[];
  endpoints: Record<string, string>;
  elapsedMs: number;
}

/**
 * The whole local run: start emulators, upload and run every input with a
 * concurrency limit, collect job records, copy outputs, stop everything (also
 * on failure). Rows keep the order of `inputs`.
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  const started = Date.now();
  const outDir = path.resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const eventsFile = path.join(outDir, "events.jsonl");
  await writeFile(eventsFile, "");
  const notifier = eventsNotifier(eventsFile, options.onEvent);
  let flavour: LocalFlavour | undefined;
  try {
    flavour = await startFlavour(options.cloud, {
      processing: options.processing,
      notifier,
      emulatorPorts: options.emulatorPorts,
      retryDelayMs: options.retryDelayMs,
    });
    options.onStarted?.(flavour);
    const running = flavour;
    const rows = await mapWithConcurrency(options.inputs, options.concurrency ?? 4, async (input) => {
      if (options.signal?.aborted) return undefined;
      const row = await processInput(running, input);
      await copyOutputs(running, row, outDir);
      await expireWork(running, row);
      options.onJob?.(row);
      return row;
    });
    const finished = rows.filter((row): row is JobRow => row !== undefined);
    await writeFile(path.join(outDir, "jobs.json"), `${JSON.stringify(finished.map((row) => row.record ?? { jobId: row.jobId, sourceKey: row.key, status: "lost" }), null, 2)}\n`);
    return { cloud: options.cloud, rows: finished, outDir, eventsFile, events: notifier.events, endpoints: flavour.endpoints, elapsedMs: Date.now() - started };
  } finally {
    await flavour?.stop();
  }
}
