import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { watch } from "chokidar";
import type { ProcessingOptions } from "../functions/core/options";
import type { PipelineEvent } from "../functions/ports";
import { copyOutputs, eventsNotifier, expireWork, processInput, startFlavour, type JobRow } from "./runtime";
import type { Cloud } from "../components/config";
import type { EmulatorPorts, LocalFlavour } from "./flavour";

/**
 * Watch mode: the local stand-in for the upload trigger. Every file written into
 * the inbox (and every file already there at start) is uploaded and run, once per
 * version: overwriting a file is a new upload. Runs until the signal aborts, then
 * lets running executions finish and stops the emulators.
 */

export interface WatchOptions {
  cloud: Cloud;
  inbox: string;
  outDir: string;
  concurrency: number;
  processing: ProcessingOptions;
  emulatorPorts?: EmulatorPorts;
  retryDelayMs?: number;
  signal?: AbortSignal;
  onReady?: (endpoints: Record<string, string>, flavour: LocalFlavour) => void;
  onJob?: (row: JobRow) => void;
  onEvent?: (event: PipelineEvent) => void;
  /** Milliseconds a file must stay the same size before it counts as written (default 300). */
  settleMs?: number;
}

/** Files still being written by a browser or editor; they are renamed when done, which is the real upload. */
function isPartial(file: string): boolean {
  const name = path.basename(file);
  return name.startsWith(".") || name.endsWith("~") || /\.(part|crdownload|tmp|swp)$/i.test(name);
}

/**
 * Watches `inbox` until `signal` aborts; returns one row per file run.
 * @throws {LocalRuntimeError} when an emulator cannot start.
 */
export async function watchInbox(options: WatchOptions): Promise<JobRow[]> {
  const { inbox, outDir, signal } = options;
  await mkdir(inbox, { recursive: true });
  await mkdir(outDir, { recursive: true });
  const eventsFile = path.join(outDir, "events.jsonl");
  const notifier = eventsNotifier(eventsFile, options.onEvent);
  const flavour = await startFlavour(options.cloud, {
    processing: options.processing,
    notifier,
    emulatorPorts: options.emulatorPorts,
    retryDelayMs: options.retryDelayMs,
  });
  const rows: JobRow[] = [];
  const queue: string[] = [];
  const inFlight = new Set<Promise<void>>();

  const runOne = async (file: string) => {
    const row = await processInput(flavour, { key: path.relative(inbox, file).split(path.sep).join("/"), file });
    await copyOutputs(flavour, row, outDir).catch((thrown: unknown) => {
      row.errorMessage = `${row.errorMessage ?? ""} (outputs not copied: ${(thrown as Error)?.message})`.trim();
    });
    await expireWork(flavour, row);
    rows.push(row);
    options.onJob?.(row);
  };

  const pump = () => {
    while (inFlight.size < options.concurrency && queue.length > 0 && !signal?.aborted) {
      const task = runOne(queue.shift() as string).finally(() => {
        inFlight.delete(task);
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
    queue.push(file);
    pump();
  };
  watcher.on("add", enqueue).on("change", enqueue);

  try {
    await new Promise<void>((resolve, reject) => {
      watcher.once("ready", () => options.onReady?.(flavour.endpoints, flavour));
      watcher.once("error", reject);
      if (signal?.aborted) resolve();
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    await watcher.close();
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    await flavour.stop();
    await writeFile(path.join(outDir, "jobs.json"), `${JSON.stringify(rows.map((row) => row.record ?? { jobId: row.jobId, sourceKey: row.key, status: row.status }), null, 2)}\n`);
  }
  return rows;
}
