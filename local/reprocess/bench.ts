// Only emulators are called here: the SDK's notice about future Node versions is noise in a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import sharp from "sharp";
import { CLOUDS, type Cloud } from "../../components/config";
import { processingOptionsSchema } from "../../functions/core/options";
import type { LocalFlavour } from "../flavour";
import { collectInputs } from "../inputs";
import { runReprocess, type ReprocessCounts } from "./run";

/**
 * `npx tsx local/reprocess/bench.ts <count> [aws|azure] [concurrency]`: generates
 * <count> small JPEGs, reprocesses them all on one local flavour, and prints the
 * throughput and the memory of the run. RSS alone cannot show a leak here: the
 * local runtime lets the heap double before a full GC (local/heap.ts), so RSS
 * rises and falls with the GC's schedule. The bench therefore also forces a full
 * GC at every tenth of the jobs and records heapUsed after it (what is still
 * reachable), with external memory and azurite's own RSS (its own process).
 * Flat means heapUsed after GC does not grow with the images done.
 */

export interface MemorySample {
  /** Jobs ended when the sample was taken. */
  done: number;
  rssMb: number;
  /** V8 heap still reachable after a full GC. */
  heapUsedMb: number;
  externalMb: number;
  /** Azurite's resident memory (Azure flavour), from /proc. */
  azuriteRssMb?: number;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** A full GC on demand without restarting Node with --expose-gc (the flag, then the function from a fresh context). */
function exposeGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** A process's resident set from /proc (Linux), or undefined elsewhere. */
async function rssOfPid(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  const kb = status && /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : undefined;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 2000);
  const cloud = (process.argv[3] ?? "aws") as Cloud;
  const concurrency = Number(process.argv[4] ?? 4);
  if (!Number.isInteger(count) || count < 1 || !CLOUDS.includes(cloud) || !Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write("[USAGE_INVALID] usage: npx tsx local/reprocess/bench.ts <count> [aws|azure] [concurrency]\n");
    process.exitCode = 2;
    return;
  }
  const gc = exposeGc();
  const temp = await mkdtemp(path.join(tmpdir(), "reprocess-bench-"));
  try {
    const folder = path.join(temp, "uploads");
    await mkdir(folder);
    for (let i = 0; i < count; i++) {
      const body = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: 120 } } }).jpeg().toBuffer();
      await writeFile(path.join(folder, `img-${String(i).padStart(5, "0")}.jpg`), body);
    }
    const { inputs } = await collectInputs([folder]);
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 1000);
    const samples: MemorySample[] = [];
    let azuritePid: number | undefined;
    const sample = async (done: number) => {
      gc();
      const usage = process.memoryUsage();
      const azurite = azuritePid === undefined ? undefined : await rssOfPid(azuritePid);
      const taken: MemorySample = { done, rssMb: mb(usage.rss), heapUsedMb: mb(usage.heapUsed), externalMb: mb(usage.external), ...(azurite ? { azuriteRssMb: mb(azurite) } : {}) };
      samples.push(taken);
      process.stderr.write(`memory at ${done} done: ${JSON.stringify(taken)}\n`);
    };
    const every = Math.max(1, Math.floor(count / 10));
    let nextSample = every;
    const pending: Promise<void>[] = [];
    const processing = processingOptionsSchema.parse({});
    const result = await runReprocess({
      cloud,
      processing,
      uploads: inputs,
      outDir: path.join(temp, "out"),
      concurrency,
      pageSize: 100,
      onStarted: (flavour: LocalFlavour) => {
        azuritePid = (flavour as LocalFlavour & { azurite?: { pid: number } }).azurite?.pid;
        pending.push(sample(0));
      },
      onJob: (_row, counts: ReprocessCounts) => {
        const done = counts.succeeded + counts.failed + counts.superseded;
        // Jobs end concurrently: sample once per tenth crossed, and at the last.
        if (nextSample !== Number.POSITIVE_INFINITY && done >= Math.min(nextSample, counts.total)) {
          nextSample = done >= counts.total ? Number.POSITIVE_INFINITY : done + every;
          pending.push(sample(done));
        }
      },
    });
    await Promise.all(pending);
    clearInterval(sampler);
    const quarter = Math.max(1, Math.floor(rss.length / 4));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const lost = result.counts.total - result.counts.succeeded - result.counts.failed - result.counts.superseded;
    const first = samples[0];
    const middle = samples[Math.floor((samples.length - 1) / 2)];
    const last = samples[samples.length - 1];
    const show = (s: MemorySample | undefined) => (s ? `${s.done} done: RSS ${s.rssMb}, heapUsed ${s.heapUsedMb}, external ${s.externalMb}${s.azuriteRssMb !== undefined ? `, azurite RSS ${s.azuriteRssMb}` : ""}` : "none");
    process.stdout.write(
      `${cloud}: ${result.counts.succeeded}/${result.counts.total} reprocessed, ${result.counts.failed} failed, ${lost} lost, in ${(result.elapsedMs / 1000).toFixed(0)} s (${((result.counts.succeeded * 1000) / result.elapsedMs).toFixed(1)} images/s, concurrency ${concurrency})\n` +
        `RSS MB (sampled each second): first quarter mean ${mb(mean(rss.slice(0, quarter)))}, last quarter mean ${mb(mean(rss.slice(-quarter)))}, peak ${mb(Math.max(...rss))}\n` +
        `After a full GC, MB: start (${show(first)}); middle (${show(middle)}); end (${show(last)})\n`,
    );
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

void main();
