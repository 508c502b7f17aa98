import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { watch } from "chokidar";
import type { ProcessingOptions } from "../functions/core/options";
import type { PipelineEvent } from "../functions/ports";
import { errnoCode, LocalInputError } from "./errors";
import { claimRunFolder, releaseRunFolder } from "./runFolder";
import { copyOutputs, eventsNotifier, expireWork, processInput, removeInput, startFlavour, writeJobsFile, type ErasedRow, type JobRow } from "./runtime";
import type { Cloud } from "../components/config";
import type { EmulatorPorts, LocalFlavour } from "./flavour";

/**
 * Watch mode: the local stand-in for the upload trigger. Every file written into
 * the inbox (and every file already there at start) is uploaded and run, once per
 * version: overwriting a file is a new upload. Removing a file deletes its upload,
 * and the erasure the delete event triggers removes its renditions, work objects and
 * job record (and the copies in the out folder). Work on one file runs in the order
 * it happened. Runs until the signal aborts, then lets running work finish and stops
 * the emulators.
 */

export interface WatchOptions {
  cloud: Cloud;
  inbox: string;
  outDir: string;
  /** `outDir` is a default name: take `outDir-2`... when it exists (else a folder holding a run is refused). */
  freshOutDir?: boolean;
  concurrency: number;
  processing: ProcessingOptions;
  emulatorPorts?: EmulatorPorts;
  retryDelayMs?: number;
  signal?: AbortSignal;
  /** `outDir`: the folder this run writes (the claimed one). */
  onReady?: (endpoints: Record<string, string>, flavour: LocalFlavour, outDir: string) => void;
  onJob?: (row: JobRow) => void;
  /** A file removed from the inbox was erased (or its erasure failed). */
  onErased?: (row: ErasedRow) => void;
  onEvent?: (event: PipelineEvent) => void;
  /** Milliseconds a file must stay the same size before it counts as written (default 300). */
  settleMs?: number;
}

/** Files still being written by a browser or editor; they are renamed when done, which is the real upload. */
function isPartial(file: string): boolean {
  const name = path.basename(file);
  return name.startsWith(".") || name.endsWith("~") || /\.(part|crdownload|tmp|swp)$/i.test(name);
}

/** Creates the inbox if missing; refuses a path that is not a folder. */
async function ensureInbox(inbox: string): Promise<void> {
  const info = await stat(inbox).catch(() => undefined);
  if (info && !info.isDirectory()) throw new LocalInputError("INBOX_NOT_A_FOLDER", `--inbox names "${inbox}", which is not a folder. Give a folder (it is created if missing).`);
  await mkdir(inbox, { recursive: true }).catch((error: unknown) => {
    const code = errnoCode(error);
    if (code === "EEXIST" || code === "ENOTDIR") throw new LocalInputError("INBOX_NOT_A_FOLDER", `--inbox names "${inbox}", under a file rather than a folder. Give a folder.`, { cause: error });
    throw new LocalInputError("INBOX_NOT_A_FOLDER", `The inbox "${inbox}" cannot be created (${code ?? (error as Error)?.message}). Give a folder you can write.`, { cause: error });
  });
}

/**
 * Watches `inbox` until `signal` aborts; returns one row per file run.
 * @throws {LocalInputError} INBOX_NOT_A_FOLDER, OUT_DIR_IN_USE, OUT_DIR_UNWRITABLE before any emulator starts.
 * @throws {LocalRuntimeError} when an emulator cannot start.
 */
export async function watchInbox(options: WatchOptions): Promise<JobRow[]> {
  const { inbox, signal } = options;
  await ensureInbox(inbox);
  const outDir = await claimRunFolder(path.resolve(options.outDir), { fresh: options.freshOutDir ?? false, cloud: options.cloud });
  const eventsFile = path.join(outDir, "events.jsonl");
  const notifier = eventsNotifier(eventsFile, options.onEvent);
  const flavour = await startFlavour(options.cloud, {
    processing: options.processing,
    notifier,
    emulatorPorts: options.emulatorPorts,
    retryDelayMs: options.retryDelayMs,
  }).catch(async (error: unknown) => {
    // Nothing ran: the folder is free for the next attempt.
    await releaseRunFolder(outDir, ["events.jsonl"]);
    throw error;
  });
  const rows: JobRow[] = [];
  const queue: Array<{ file: string; removed: boolean }> = [];
  const inFlight = new Set<Promise<void>>();
  /** The last piece of work on each key: the next one for that key waits for it. */
  const lastByKey = new Map<string, Promise<void>>();
  const keyOf = (file: string) => path.relative(inbox, file).split(path.sep).join("/");

  const runOne = async (file: string) => {
    const row = await processInput(flavour, { key: keyOf(file), file });
    await copyOutputs(flavour, row, outDir).catch((thrown: unknown) => {
      row.errorMessage = `${row.errorMessage ?? ""} (outputs not copied: ${(thrown as Error)?.message})`.trim();
    });
    await expireWork(flavour, row);
    rows.push(row);
    options.onJob?.(row);
  };

  const removeOne = async (file: string) => {
    options.onErased?.(await removeInput(flavour, keyOf(file), outDir));
  };

  const pump = () => {
    while (inFlight.size < options.concurrency && queue.length > 0 && !signal?.aborted) {
      const { file, removed } = queue.shift() as { file: string; removed: boolean };
      const key = keyOf(file);
      const previous = lastByKey.get(key) ?? Promise.resolve();
      const work = previous.catch(() => undefined).then(() => (removed ? removeOne(file) : runOne(file)));
      lastByKey.set(key, work);
      const task = work.finally(() => {
        inFlight.delete(task);
        if (lastByKey.get(key) === work) lastByKey.delete(key);
        pump();
      });
      inFlight.add(task);
    }
  };

  const watcher = watch(inbox, {
    ignoreInitial: false,
    ignored: (file, stats) => Boolean(stats?.isFile() && isPartial(file)),
    awaitWriteFinish: { stabilityThreshold: options.settleMs ?? 300, pollInterval: 50 },
  });
  const enqueue = (file: string) => {
    if (isPartial(file)) return;
    queue.push({ file, removed: false });
    pump();
  };
  const enqueueRemoval = (file: string) => {
    if (isPartial(file)) return;
    // Not uploaded yet: nothing to erase, nothing to run.
    const waiting = queue.findIndex((entry) => entry.file === file && !entry.removed);
    if (waiting >= 0) {
      queue.splice(waiting, 1);
      return;
    }
    queue.push({ file, removed: true });
    pump();
  };
  watcher.on("add", enqueue).on("change", enqueue).on("unlink", enqueueRemoval);

  try {
    await new Promise<void>((resolve, reject) => {
      watcher.once("ready", () => options.onReady?.(flavour.endpoints, flavour, outDir));
      watcher.once("error", reject);
      if (signal?.aborted) resolve();
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    await watcher.close();
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    await flavour.stop();
    await writeJobsFile(outDir, rows);
  }
  return rows;
}
