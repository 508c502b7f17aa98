import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import sharp from "sharp";
import { defaultProcessingOptions, filterImage, optimizeImage, processImage, resizeImage, type Intermediate, type ProcessingOptions } from "../functions/core";
import { samplePhoto } from "../local/sampleImages";
import type { Notifier } from "../functions/ports";
import { manifestKey, outputKey, runStep, workKey, type ValidatedJob } from "../functions/steps";
import { memoryPorts } from "../local/memoryPorts";
import { startFlavour } from "../local/runtime";
import { CLOUDS, type Cloud } from "../components/config";
import { LOCAL_CLOUDS } from "../local/clouds";
import type { LocalFlavour } from "../local/flavour";
import { childSpec, reportToParent, runInChild } from "./child";
import type { BenchContext, BenchResult, Benchmark } from "./types";

/**
 * The full local pipeline per image — upload event to finished job, through the
 * real engine, handlers, adapters and emulators — next to the image core alone
 * (`processImage`) on the same images, one image at a time. The goal is a
 * pipeline within 1.2x the core (#13): steps write their encoded outputs straight to their
 * keys; the earlier design (two decodes, lossless intermediates written and read back) runs
 * alongside in process for the before/after.
 *
 * Run: `npm run bench -- --only pipeline` (three fresh processes: the local
 * runtime's settings, MALLOC_ARENA_MAX=2, and V8's default heap growth), or
 * `npx tsx bench/pipeline.ts [--images 8] [--default-heap-growth]` (this process).
 */

export interface PipelineBenchOptions {
  images?: number;
  width?: number;
  height?: number;
  clouds?: Cloud[];
  processing?: ProcessingOptions;
  /** Run the flavours with V8's default heap growth instead of the local runtime's (local/heap.ts). */
  defaultHeapGrowth?: boolean;
  log?: (line: string) => void;
}

export interface PipelineBenchRow {
  what: string;
  /** Mean milliseconds per image. */
  meanMs: number;
  medianMs: number;
  /** meanMs over the core's meanMs. */
  ratio: number;
  /** Emulators + engine start, once per run (not in the per-image figures). */
  startupMs?: number;
  /** Mean upload time per image into the emulator (not in the per-image figures). */
  uploadMs?: number;
}

export interface PipelineBenchResult {
  rows: PipelineBenchRow[];
  markdown: string;
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

const quietNotifier: Notifier = { publish: async () => undefined };

/** The workflow's steps called directly in order (parallel block included), as the engines call them. */
function stepsTarget(processing: ProcessingOptions): Target {
  // Ports kept in this process's memory: the steps' own cost, without storage, engine or emulator.
  const ports = memoryPorts();
  const target: Target = {
    what: "workflow steps in process (memory ports, no engine), this design (outputs written by Resize/ApplyFilters)",
    times: [],
    uploads: [],
    run: async (image, index) => {
      const sourceKey = `bench/steps-${index}.jpg`;
      await ports.objects.put("uploads", sourceKey, image, "image/jpeg");
      const [, ms] = await timed(async () => {
        const job = (await runStep("validate", { sourceKey, runId: sourceKey }, ports, processing)) as ValidatedJob;
        const processed = await Promise.all([runStep("resize", job, ports, processing), runStep("applyFilters", job, ports, processing)]);
        const optimized = await runStep("optimize", { ...job, processed }, ports, processing);
        await runStep("notifySuccess", { ...job, processed, optimized }, ports, processing);
      });
      if (index >= 0) target.times.push(ms);
    },
  };
  return target;
}

/**
 * The earlier design, for the before/after (#13): Resize and ApplyFilters each decode the upload
 * and write lossless PNG intermediates to the work area; Optimize reads them back, encodes and
 * writes the outputs. Same memory ports, same Validate and NotifySuccess.
 */
function intermediateStepsTarget(processing: ProcessingOptions): Target {
  const ports = memoryPorts();
  const store = (jobId: string, items: Intermediate[]) => Promise.all(items.map(async (item) => {
    const key = workKey(jobId, item.kind, item.name, "png");
    await ports.objects.put("work", key, item.data, "image/png");
    return { ...item, key };
  }));
  const target: Target = {
    what: "workflow steps in process, earlier design (PNG intermediates through storage)",
    times: [],
    uploads: [],
    run: async (image, index) => {
      const sourceKey = `bench/old-steps-${index}.jpg`;
      await ports.objects.put("uploads", sourceKey, image, "image/jpeg");
      const [, ms] = await timed(async () => {
        const job = (await runStep("validate", { sourceKey, runId: sourceKey }, ports, processing)) as ValidatedJob;
        const read = () => ports.objects.get("uploads", sourceKey, { versionId: job.sourceVersion, etag: job.sourceEtag });
        const [renditions, effects] = await Promise.all([
          read().then((body) => resizeImage(body, processing)).then((items) => store(job.jobId, items)),
          read().then((body) => filterImage(body, processing)).then(({ effects: items }) => store(job.jobId, items)),
        ]);
        const outputs = await Promise.all([...renditions, ...effects].map(async (item) => {
          const encoded = await optimizeImage(await ports.objects.get("work", item.key), item.name, item.kind, processing);
          return Promise.all(encoded.map(async (file) => {
            const key = outputKey(sourceKey, item.kind, file.name, file.extension);
            await ports.objects.put("renditions", key, file.data, file.contentType);
            return { key, bytes: file.data.length };
          }));
        }));
        await ports.objects.put("renditions", manifestKey(sourceKey), Buffer.from(JSON.stringify(outputs.flat())), "application/json");
      });
      if (index >= 0) target.times.push(ms);
    },
  };
  return target;
}

interface Target {
  what: string;
  run: (image: Buffer, index: number) => Promise<void>;
  times: number[];
  startupMs?: number;
  uploads: number[];
  stop?: () => Promise<void>;
}

async function flavourTarget(cloud: Cloud, processing: ProcessingOptions, defaultHeapGrowth: boolean): Promise<Target> {
  const [flavour, startupMs] = await timed<LocalFlavour>(() => startFlavour(cloud, { processing, notifier: quietNotifier, defaultHeapGrowth }));
  const target: Target = {
    what: `local pipeline, ${LOCAL_CLOUDS[cloud].describe}`,
    times: [],
    uploads: [],
    startupMs,
    stop: () => flavour.stop(),
    run: async (image, index) => {
      const [event, uploadMs] = await timed(() => flavour.upload(`bench/${cloud}-${index}.jpg`, image, "image/jpeg"));
      const [result, ms] = await timed(() => flavour.execute(event));
      if (result.status !== "succeeded") throw new Error(`bench: the ${cloud} run of image ${index} ended ${result.status}: ${JSON.stringify(result.error)}`);
      if (index >= 0) {
        target.uploads.push(uploadMs);
        target.times.push(ms);
      }
    },
  };
  return target;
}

/**
 * Benchmarks the core alone and the local pipeline on each cloud's engine, on
 * the same generated photo-like JPEGs, and returns a markdown table. Targets
 * take turns image by image (in rotating order), so load from anything else on
 * the machine falls on all of them alike.
 */
export async function benchPipeline(options: PipelineBenchOptions = {}): Promise<PipelineBenchResult> {
  const {
    images: count = 8,
    width = 4000,
    height = 3000,
    clouds = [...CLOUDS],
    processing = defaultProcessingOptions(),
    defaultHeapGrowth = false,
    log = () => undefined,
  } = options;
  log(`generating ${count} photo-like ${width}x${height} JPEGs...`);
  const images = await Promise.all(Array.from({ length: count }, (_, i) => samplePhoto({ width, height, seed: 500 + i })));

  const core: Target = {
    what: "core alone (processImage)",
    times: [],
    uploads: [],
    run: async (image, index) => {
      const [, ms] = await timed(() => processImage(image, processing));
      if (index >= 0) core.times.push(ms);
    },
  };
  const targets: Target[] = [core, intermediateStepsTarget(processing), stepsTarget(processing)];
  try {
    for (const cloud of clouds) {
      log(`starting the local ${cloud} flavour...`);
      targets.push(await flavourTarget(cloud, processing, defaultHeapGrowth));
    }
    // Warm-up (index -1, not counted): first calls load code and open connections.
    for (const target of targets) await target.run(images[0], -1);
    for (const [index, image] of images.entries()) {
      log(`image ${index + 1}/${count}`);
      for (let turn = 0; turn < targets.length; turn++) await targets[(index + turn) % targets.length].run(image, index);
    }
  } finally {
    await Promise.all(targets.map((target) => target.stop?.()));
  }

  const coreMean = mean(core.times);
  const rows: PipelineBenchRow[] = targets.map((target) => ({
    what: target.what,
    meanMs: mean(target.times),
    medianMs: median(target.times),
    ratio: mean(target.times) / coreMean,
    startupMs: target.startupMs,
    uploadMs: target.uploads.length > 0 ? mean(target.uploads) : undefined,
  }));

  const megapixels = ((width * height) / 1e6).toFixed(1);
  const header = [
    `${count} photo-like ${width}x${height} (${megapixels} MP) JPEGs, one at a time, targets taking turns; renditions ${processing.renditions.map((r) => `${r.name}:${r.width}`).join(", ")}; formats ${processing.formats.join(", ")}; filters ${processing.filters.join(", ") || "none"}.`,
    `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, sharp.concurrency() ${sharp.concurrency()}, MALLOC_ARENA_MAX ${process.env.MALLOC_ARENA_MAX || "unset"}, Node ${process.version}, ${availableParallelism()} CPUs.`,
    "",
    "| what | per image, mean | median | × core (mean) | start-up (once) | upload per image |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  const ms = (value: number | undefined) => (value === undefined ? "-" : `${Math.round(value)} ms`);
  const lines = rows.map((row) => `| ${row.what} | ${ms(row.meanMs)} | ${ms(row.medianMs)} | ${row.ratio.toFixed(2)} | ${ms(row.startupMs)} | ${ms(row.uploadMs)} |`);
  return { rows, markdown: [...header, ...lines].join("\n") };
}

interface ChildSpec {
  images: number;
  width: number;
  height: number;
  defaultHeapGrowth: boolean;
}

interface ChildResult {
  rows: PipelineBenchRow[];
  markdown: string;
  peakRssMb: number;
  threads: number;
}

/**
 * `npm run bench -- --only pipeline`: the benchmark three times, each in a fresh
 * process: as `npm start` runs; with MALLOC_ARENA_MAX=2 set at exec (the only
 * way glibc honours it; sharp then uses one libvips thread per core instead of
 * one); and with V8's default heap growth instead of the local runtime's.
 */
export async function runPipelineBenchmark(context: BenchContext): Promise<BenchResult> {
  const base = { images: context.quick ? 3 : 8, width: 4000, height: 3000 };
  const variants: Array<{ arena: string; heap: string; env: Record<string, string>; defaultHeapGrowth: boolean }> = [
    { arena: "unset", heap: "local runtime's (100 %)", env: { MALLOC_ARENA_MAX: "" }, defaultHeapGrowth: false },
    { arena: "2", heap: "local runtime's (100 %)", env: { MALLOC_ARENA_MAX: "2" }, defaultHeapGrowth: false },
    { arena: "unset", heap: "V8 default (adaptive)", env: { MALLOC_ARENA_MAX: "" }, defaultHeapGrowth: true },
  ];
  const results: Array<ChildResult & { arena: string; heap: string }> = [];
  for (const { arena, heap, env, defaultHeapGrowth } of variants) {
    context.log(`  pipeline bench, MALLOC_ARENA_MAX ${arena}, heap growth ${heap}: ${base.images} images`);
    const spec: ChildSpec = { ...base, defaultHeapGrowth };
    results.push({ arena, heap, ...(await runInChild<ChildResult>(__filename, spec, { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" })) });
  }
  const [plain] = results;
  const ms = (value: number | undefined) => (value === undefined ? "-" : `${Math.round(value)} ms`);
  const markdown = [
    "## Local pipeline vs the core alone",
    "",
    plain.markdown.split("\n")[0],
    "",
    "| MALLOC_ARENA_MAX (libvips threads) | V8 heap growth | what | per image, mean | median | × core | start-up (once) | upload per image | peak RSS |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ...results.flatMap((result) =>
      result.rows.map((row, i) => {
        const cells = [
          i === 0 ? `${result.arena} (${result.threads})` : "",
          i === 0 ? result.heap : "",
          row.what,
          ms(row.meanMs),
          ms(row.medianMs),
          row.ratio.toFixed(2),
          ms(row.startupMs),
          ms(row.uploadMs),
          i === 0 ? `${Math.round(result.peakRssMb)} MB` : "",
        ];
        return `| ${cells.join(" | ")} |`;
      }),
    ),
    "",
    "Per image: upload event to finished job record (engine, handlers, adapters, emulators), one image at a time, targets taking turns; peak RSS is the whole process (core, both flavours, s3rver, dynalite; azurite is a child process). V8 heap growth: the local runtime's setting (local/heap.ts) applies to this process and to azurite; the core-alone row runs in the same process with the same setting.",
  ].join("\n");
  return {
    name: "pipeline",
    markdown,
    data: results.map(({ arena, heap, rows, peakRssMb, threads }) => ({ mallocArenaMax: arena, heapGrowth: heap, rows, peakRssMb, threads })),
  };
}

export const pipelineBenchmarks: Benchmark[] = [
  { name: "pipeline", description: "the full local pipeline (AWS and Azure flavours) per image vs the core alone", run: runPipelineBenchmark },
];

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const childRun = childSpec<ChildSpec>();
if (childRun) {
  benchPipeline(childRun).then(
    ({ rows, markdown }) => reportToParent({ rows, markdown, peakRssMb: process.resourceUsage().maxRSS / 1024, threads: sharp.concurrency() } satisfies ChildResult),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  benchPipeline({
    images: flag("images", 8),
    width: flag("width", 4000),
    height: flag("height", 3000),
    defaultHeapGrowth: process.argv.includes("--default-heap-growth"),
    log: (line) => console.error(line),
  }).then(
    ({ markdown }) => console.log(markdown),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
