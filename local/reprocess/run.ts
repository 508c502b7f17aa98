import { appendFile, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Cloud } from "../../components/config";
import type { ProcessingOptions } from "../../functions/core/options";
import type { ListedObject } from "../../functions/ports";
import type { EmulatorPorts, LocalFlavour } from "../flavour";
import { LocalInputError, errnoCode } from "../errors";
import type { InputFile } from "../inputs";
import { JsonLinesNotifier } from "../notifier";
import { claimRunFolder, releaseRunFolder } from "../runFolder";
import { contentTypeFor, copyOutputs, expireWork, jobRow, jobsFileEntry, mapWithConcurrency, startFlavour, type JobRow } from "../runtime";

/**
 * `npm run reprocess` on this machine: the item processor of the deployed
 * reprocess (AWS: the Distributed Map's child; Azure: the fan-out orchestrator's
 * sub-orchestrations) driven over the local uploads store, page by page.
 * aws-local-stepfunctions cannot run a Distributed Map's ItemReader, so the
 * listing is read here through the same ObjectStore.list port and each key is
 * started as a pipeline run with this reprocess's generation, as the child does.
 *
 * The local emulators keep nothing between runs, so the store is filled first:
 * the uploads from the given files or folders, and (with `from`) an earlier run
 * folder's renditions and job records, so stale renditions are found and
 * `failedOnly` knows what failed.
 *
 * Resumable: `<out>/reprocess.json` keeps the generation and the listing cursor
 * of the page in progress, `<out>/done.jsonl` one line per key finished; a resume
 * lists from that cursor and skips the keys done. Memory stays flat: a page at a
 * time, results streamed to `<out>/jobs.jsonl`.
 */

export const CHECKPOINT_FILE = "reprocess.json";
export const DONE_FILE = "done.jsonl";
export const JOBS_FILE = "jobs.jsonl";
const EVENTS_FILE = "events.jsonl";

export interface ReprocessCheckpoint {
  cloud: Cloud;
  generation: string;
  prefix: string;
  failedOnly: boolean;
  since?: string;
  /** The listing cursor the page in progress started from (absent: the first page). */
  cursor?: string;
  /** True once the listing ended and every key ran. */
  finished: boolean;
}

export interface ReprocessCounts {
  /** Keys this reprocess takes (after prefix, --failed-only and --since). */
  total: number;
  succeeded: number;
  failed: number;
  /** Replaced by a newer upload (or deleted) while reprocessed: that upload's own job renders it; not a failure. */
  superseded: number;
  /** Done by an earlier, interrupted run of this reprocess. */
  resumed: number;
}

export interface ReprocessOptions {
  cloud: Cloud;
  processing: ProcessingOptions;
  /** Uploads to load into the store before the reprocess (the local stand-in for a bucket that holds them). */
  uploads: InputFile[];
  /** An earlier run folder: its renditions are loaded into the store, its jobs.json tells what failed. */
  from?: string;
  outDir: string;
  /** `outDir` is a default name (take `-2`, `-3`... when it exists). */
  freshOutDir?: boolean;
  /** Continue the reprocess whose checkpoint `outDir` holds. */
  resume?: boolean;
  prefix?: string;
  failedOnly?: boolean;
  since?: Date;
  concurrency?: number;
  /** Keys listed per page (the deployed reprocess's batchSize). */
  pageSize?: number;
  /** Default: `reprocess-<time>`. */
  generation?: string;
  emulatorPorts?: EmulatorPorts;
  retryDelayMs?: number;
  signal?: AbortSignal;
  onStarted?: (flavour: LocalFlavour, counts: ReprocessCounts) => void;
  onJob?: (row: JobRow, counts: ReprocessCounts) => void;
  /** Test hook: sees the store before the emulators stop. */
  beforeStop?: (flavour: LocalFlavour) => Promise<void>;
}

export interface ReprocessResult {
  outDir: string;
  generation: string;
  counts: ReprocessCounts;
  /** False when interrupted: resume with the same out folder. */
  finished: boolean;
  /** The keys that failed in this run (for the summary). */
  failedKeys: { key: string; errorCode?: string }[];
  elapsedMs: number;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

/** The keys an earlier run folder's jobs.json (`npm start`) or jobs.jsonl (a reprocess) records as failed or lost (a superseded job is neither: a newer upload's job took its place). */
async function failedKeysOf(from: string): Promise<Set<string>> {
  type Entry = { sourceKey?: string; status?: string };
  const lines = await readFile(path.join(from, JOBS_FILE), "utf8").catch((error: unknown) => (errnoCode(error) === "ENOENT" ? undefined : Promise.reject(error)));
  const entries = lines !== undefined ? lines.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Entry) : await readJson<Entry[]>(path.join(from, "jobs.json"));
  if (!entries) throw new LocalInputError("INPUT_NOT_FOUND", `"${from}" holds no jobs.json; give --from a run folder written by \`npm start\` or \`npm run reprocess\`.`);
  return new Set(entries.filter((entry) => entry.status !== "succeeded" && entry.status !== "superseded" && entry.sourceKey).map((entry) => entry.sourceKey as string));
}

/** Every file under `dir`, as keys relative to it. */
async function* filesUnder(dir: string, base = dir): AsyncGenerator<{ key: string; file: string }> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => (errnoCode(error) === "ENOENT" ? [] : Promise.reject(error)));
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(file, base);
    else if (entry.isFile()) yield { key: path.relative(base, file).split(path.sep).join("/"), file };
  }
}

/** Loads the uploads (and an earlier run's renditions) into the store; returns each upload's modification time. */
async function fillStore(flavour: LocalFlavour, options: ReprocessOptions): Promise<Map<string, number>> {
  const modified = new Map<string, number>();
  await mapWithConcurrency(options.uploads, 8, async (input) => {
    const body = input.body ?? (await readFile(input.file as string));
    modified.set(input.key, input.file ? (await stat(input.file)).mtimeMs : Date.now());
    await flavour.ports.objects.put("uploads", input.key, body, contentTypeFor(input.key));
  });
  if (options.from) {
    for await (const { key, file } of filesUnder(path.join(options.from, "renditions"))) {
      await flavour.ports.objects.put("renditions", key, await readFile(file), key.endsWith(".json") ? "application/json" : contentTypeFor(key));
    }
  }
  return modified;
}

/**
 * Runs a reprocess to its end (or to Ctrl-C): fills the store, lists the uploads
 * a page at a time, runs each selected key through the pipeline with this
 * reprocess's generation, and writes its records and renditions to `outDir`.
 *
 * @throws {LocalInputError} OUT_DIR_IN_USE / OUT_DIR_UNWRITABLE; INPUT_NOT_FOUND for a resume without checkpoint or a --from without jobs.json
 */
export async function runReprocess(options: ReprocessOptions): Promise<ReprocessResult> {
  const started = Date.now();
  const prefix = options.prefix ?? "";
  let outDir = path.resolve(options.outDir);
  let checkpoint: ReprocessCheckpoint;
  const done = new Set<string>();
  if (options.resume) {
    const saved = await readJson<ReprocessCheckpoint>(path.join(outDir, CHECKPOINT_FILE));
    if (!saved) throw new LocalInputError("INPUT_NOT_FOUND", `"${outDir}" holds no ${CHECKPOINT_FILE}; --resume takes the out folder of an interrupted \`npm run reprocess\`.`);
    if (saved.cloud !== options.cloud) throw new LocalInputError("USAGE_INVALID", `The reprocess in "${outDir}" ran on ${saved.cloud}; resume it with --cloud ${saved.cloud}.`);
    checkpoint = saved;
    const lines = (await readFile(path.join(outDir, DONE_FILE), "utf8").catch(() => "")).split("\n").filter(Boolean);
    for (const line of lines) done.add((JSON.parse(line) as { key: string }).key);
  } else {
    outDir = await claimRunFolder(outDir, { fresh: options.freshOutDir ?? false, cloud: options.cloud });
    checkpoint = { cloud: options.cloud, generation: options.generation ?? `reprocess-${new Date(started).toISOString().replace(/[:.]/g, "-")}`, prefix, failedOnly: options.failedOnly ?? false, ...(options.since ? { since: options.since.toISOString() } : {}), finished: false };
    await writeFile(path.join(outDir, CHECKPOINT_FILE), `${JSON.stringify(checkpoint, null, 2)}\n`);
  }
  const since = checkpoint.since ? Date.parse(checkpoint.since) : undefined;
  const failedBefore = checkpoint.failedOnly ? (options.from ? await failedKeysOf(options.from) : new Set<string>()) : undefined;
  const saveCheckpoint = () => writeFile(path.join(outDir, CHECKPOINT_FILE), `${JSON.stringify(checkpoint, null, 2)}\n`);
  const notifier = new JsonLinesNotifier({ file: path.join(outDir, EVENTS_FILE) });

  let flavour: LocalFlavour | undefined;
  const counts: ReprocessCounts = { total: 0, succeeded: 0, failed: 0, superseded: 0, resumed: 0 };
  const failedKeys: ReprocessResult["failedKeys"] = [];
  try {
    flavour = await startFlavour(options.cloud, { processing: options.processing, notifier, emulatorPorts: options.emulatorPorts, retryDelayMs: options.retryDelayMs }).catch(async (error: unknown) => {
      if (!options.resume) await releaseRunFolder(outDir, [CHECKPOINT_FILE]);
      throw error;
    });
    const running = flavour;
    const modified = await fillStore(running, options);
    const selected = (item: ListedObject) => {
      if (item.key.endsWith("/")) return false;
      if (failedBefore && !failedBefore.has(item.key)) return false;
      const changed = modified.get(item.key) ?? (item.lastModified ? Date.parse(item.lastModified) : undefined);
      return since === undefined || (changed !== undefined && changed >= since);
    };
    const pageSize = options.pageSize ?? 100;
    // A counting pass for progress and ETA: keys only, a page at a time.
    let cursor: string | undefined;
    do {
      const page = await running.ports.objects.list("uploads", prefix, { cursor, limit: pageSize });
      for (const item of page.items) {
        if (!selected(item)) continue;
        counts.total += 1;
        if (done.has(item.key)) counts.resumed += 1;
      }
      cursor = page.cursor;
    } while (cursor);
    options.onStarted?.(running, counts);

    cursor = checkpoint.cursor;
    do {
      if (options.signal?.aborted) break;
      const page = await running.ports.objects.list("uploads", prefix, { cursor, limit: pageSize });
      const todo = page.items.filter((item) => selected(item) && !done.has(item.key));
      await mapWithConcurrency(todo, options.concurrency ?? 4, async (item) => {
        if (options.signal?.aborted) return;
        const event = { sourceKey: item.key, ...(item.etag ? { sourceEtag: item.etag } : {}), generation: checkpoint.generation };
        let row: JobRow;
        try {
          const execution = await running.execute(event);
          row = await jobRow(running, { key: item.key, bytes: item.bytes }, event, execution);
        } catch (thrown) {
          row = { key: item.key, jobId: "", status: "lost", renditions: 0, errorCode: "LOST", errorMessage: `The run broke: ${(thrown as Error)?.message ?? String(thrown)}` };
        }
        await copyOutputs(running, row, outDir).catch(() => undefined);
        await expireWork(running, row);
        if (row.status === "succeeded") counts.succeeded += 1;
        else if (row.status === "superseded") counts.superseded += 1;
        else {
          counts.failed += 1;
          failedKeys.push({ key: row.key, errorCode: row.errorCode });
        }
        done.add(item.key);
        await appendFile(path.join(outDir, JOBS_FILE), `${JSON.stringify(jobsFileEntry(row))}\n`);
        await appendFile(path.join(outDir, DONE_FILE), `${JSON.stringify({ key: item.key, status: row.status })}\n`);
        options.onJob?.(row, counts);
      });
      if (options.signal?.aborted) break;
      // The page is done: a resume starts from the next one.
      cursor = page.cursor;
      checkpoint.cursor = cursor;
      await saveCheckpoint();
      // Keys of finished pages are never listed again: keep the done set to the page in progress.
      if (cursor) done.clear();
    } while (cursor);
    checkpoint.finished = !options.signal?.aborted;
    await saveCheckpoint();
    await options.beforeStop?.(running);
    return { outDir, generation: checkpoint.generation, counts, finished: checkpoint.finished, failedKeys, elapsedMs: Date.now() - started };
  } finally {
    await flavour?.stop();
  }
}
