// Only emulators are called here: the SDK's notice about future Node versions is noise in a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { CLOUDS, type Cloud } from "../../components/config";
import { processingOptionsSchema } from "../../functions/core/options";
import { collectInputs } from "../inputs";
import { runReprocess } from "./run";

/**
 * `npx tsx local/reprocess/bench.ts <count> [aws|azure] [concurrency]`: generates
 * <count> small JPEGs, reprocesses them all on one local flavour, and prints the
 * throughput and the process's resident memory sampled every second (first
 * quarter against last quarter of the run: flat means no growth per image).
 */
async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 2000);
  const cloud = (process.argv[3] ?? "aws") as Cloud;
  const concurrency = Number(process.argv[4] ?? 4);
  if (!Number.isInteger(count) || count < 1 || !CLOUDS.includes(cloud) || !Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write("[USAGE_INVALID] usage: npx tsx local/reprocess/bench.ts <count> [aws|azure] [concurrency]\n");
    process.exitCode = 2;
    return;
  }
  const temp = await mkdtemp(path.join(tmpdir(), "reprocess-bench-"));
  try {
    const folder = path.join(temp, "uploads");
    await import("node:fs/promises").then(({ mkdir }) => mkdir(folder));
    for (let i = 0; i < count; i++) {
      const body = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: 120 } } }).jpeg().toBuffer();
      await writeFile(path.join(folder, `img-${String(i).padStart(5, "0")}.jpg`), body);
    }
    const { inputs } = await collectInputs([folder]);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(process.memoryUsage().rss), 1000);
    const processing = processingOptionsSchema.parse({});
    const result = await runReprocess({ cloud, processing, uploads: inputs, outDir: path.join(temp, "out"), concurrency, pageSize: 100 });
    clearInterval(sampler);
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    process.stdout.write(
      `${cloud}: ${result.counts.succeeded}/${result.counts.total} reprocessed, ${result.counts.failed} failed, in ${(result.elapsedMs / 1000).toFixed(0)} s (${((result.counts.succeeded * 1000) / result.elapsedMs).toFixed(1)} images/s, concurrency ${concurrency})\n` +
        `RSS MB: first quarter mean ${mb(mean(samples.slice(0, quarter)))}, last quarter mean ${mb(mean(samples.slice(-quarter)))}, peak ${mb(Math.max(...samples))} (this process; azurite runs in its own)\n`,
    );
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

void main();
