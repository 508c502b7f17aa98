import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { deflate, inflate } from "node:zlib";
import sharp from "sharp";
import type { OutputInfo, ResizeOptions, Sharp } from "sharp";
import {
  filterImage,
  decodeIntermediate,
  defaultProcessingOptions,
  encodeEffects,
  encodeIntermediate,
  encodeRenditions,
  jpegSettings,
  MAX_DIMENSION,
  optimizeImage,
  PLACEHOLDER_SIZE,
  processImage,
  processingOptionsSchema,
  type ProcessingOptionsInput,
  resizeImage,
  validateImage,
  webpSettings,
  type Pixels,
} from "../functions/core";
import { decodeHeic } from "../functions/core/heic";
import { responsiveSets } from "../functions/steps/markup";
import type { ManifestEntry } from "../functions/steps";
import { samplePhoto } from "../local/sampleImages";
import { canPin, childSpec, reportToParent, runInChild } from "./child";
import { median, peakRssMb, timedCpu } from "./measure";
import type { BenchContext, BenchResult, Benchmark } from "./types";

/**
 * The image core against the fastest plain-sharp scripts producing the same
 * default outputs (3 renditions x webp+jpeg + a placeholder), each variant in
 * its own process for a clean peak RSS. Plus the intermediate-encoding candidates.
 */

const options = defaultProcessingOptions();

interface OutputSummary {
  name: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
}

type VariantName = "core" | "core-steps" | "core-steps-outputs" | "sharp-one-decode" | "sharp-decode-per-rendition" | "sharp-clone-from-file" | "idle";

interface Variant {
  label: string;
  baseline: boolean;
  run(input: Buffer): Promise<OutputSummary[]>;
}

const summary = (name: string, format: string, data: Buffer, info: { width: number; height: number }): OutputSummary => ({ name, format, width: info.width, height: info.height, bytes: data.length });

/** What the core does to a rendition, spelled out in plain sharp. */
const widthBox = (width: number): ResizeOptions => ({ width, height: MAX_DIMENSION, fit: "inside", withoutEnlargement: true });
const placeholderBox: ResizeOptions = { width: PLACEHOLDER_SIZE, height: PLACEHOLDER_SIZE, fit: "inside", withoutEnlargement: true };

function plainEncode(image: Sharp, format: string): Sharp {
  return format === "jpeg" ? image.jpeg(jpegSettings(options)) : image.webp(webpSettings(options));
}

function plainPlaceholder(image: Sharp): Promise<OutputSummary> {
  return image
    .resize(placeholderBox)
    .blur(0.8)
    .webp({ quality: 50, alphaQuality: 50 })
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => summary("placeholder", "webp", data, info));
}

function rawInput(raw: { data: Buffer; info: OutputInfo }): Sharp {
  return sharp(raw.data, { raw: { width: raw.info.width, height: raw.info.height, channels: raw.info.channels } });
}

const VARIANTS: Record<VariantName, Variant> = {
  core: {
    label: "**core** `processImage` (pixels in memory)",
    baseline: false,
    async run(input) {
      const { outputs, placeholder } = await processImage(input, options);
      return [...outputs.map((o) => summary(o.name, o.format, o.data, o)), ...(placeholder ? [{ name: "placeholder", format: "webp", width: placeholder.width, height: placeholder.height, bytes: placeholder.bytes }] : [])];
    },
  },
  "core-steps": {
    label: "core as workflow steps, earlier design (PNG intermediates, Resize ∥ ApplyFilters → Optimize)",
    baseline: false,
    async run(input) {
      await validateImage(input, options);
      const [renditions, filtered] = await Promise.all([resizeImage(input, options), filterImage(input, options)]);
      const encoded = (await Promise.all([...renditions, ...filtered.effects].map((item) => optimizeImage(item.data, item.name, item.kind, options)))).flat();
      const placeholder = filtered.placeholder;
      return [...encoded.map((o) => summary(o.name, o.format, o.data, o)), ...(placeholder ? [{ name: "placeholder", format: "webp", width: placeholder.width, height: placeholder.height, bytes: placeholder.bytes }] : [])];
    },
  },
  "core-steps-outputs": {
    label: "core as workflow steps, this design (Resize ∥ ApplyFilters encode and choose)",
    baseline: false,
    async run(input) {
      await validateImage(input, options);
      const [renditions, effects] = await Promise.all([encodeRenditions(input, options), encodeEffects(input, options)]);
      const placeholder = renditions.placeholder;
      return [...[...renditions.files, ...effects.files].map((o) => summary(o.name, o.format, o.data, o)), ...(placeholder ? [{ name: "placeholder", format: "webp", width: placeholder.width, height: placeholder.height, bytes: placeholder.bytes }] : [])];
    },
  },
  "sharp-one-decode": {
    label: "sharp: one decode to raw + clone per output",
    baseline: true,
    async run(input) {
      const largest = Math.max(...options.renditions.map((r) => r.width));
      const decoded = await sharp(input).autoOrient().resize(widthBox(largest)).raw().toBuffer({ resolveWithObject: true });
      const base = rawInput(decoded);
      const jobs = options.renditions.flatMap((r) =>
        options.formats.map((format) =>
          plainEncode(base.clone().resize(widthBox(r.width)), format)
            .toBuffer({ resolveWithObject: true })
            .then(({ data, info }) => summary(r.name, format, data, info)),
        ),
      );
      return Promise.all([...jobs, plainPlaceholder(base.clone())]);
    },
  },
  "sharp-decode-per-rendition": {
    label: "sharp: decode per rendition (shrink-on-load) + clone per format",
    baseline: true,
    async run(input) {
      const perRendition = options.renditions.map(async (r) => {
        const base = rawInput(await sharp(input).autoOrient().resize(widthBox(r.width)).raw().toBuffer({ resolveWithObject: true }));
        return Promise.all(
          options.formats.map((format) =>
            plainEncode(base.clone(), format)
              .toBuffer({ resolveWithObject: true })
              .then(({ data, info }) => summary(r.name, format, data, info)),
          ),
        );
      });
      const [encoded, placeholder] = await Promise.all([Promise.all(perRendition), plainPlaceholder(sharp(input).autoOrient())]);
      return [...encoded.flat(), placeholder];
    },
  },
  "sharp-clone-from-file": {
    label: "sharp: `clone()` per output from the file (the README idiom)",
    baseline: true,
    async run(input) {
      const source = sharp(input).autoOrient();
      const jobs = options.renditions.flatMap((r) =>
        options.formats.map((format) =>
          plainEncode(source.clone().resize(widthBox(r.width)), format)
            .toBuffer({ resolveWithObject: true })
            .then(({ data, info }) => summary(r.name, format, data, info)),
        ),
      );
      return Promise.all([...jobs, plainPlaceholder(source.clone())]);
    },
  },
  idle: {
    label: "idle (Node + tsx + sharp loaded, input read)",
    baseline: false,
    async run() {
      return [];
    },
  },
};

interface ChildSpec {
  variant: VariantName;
  input: string;
  iterations: number;
  warmup: number;
  sharpCache?: boolean;
  concurrency?: number;
}

interface ChildResult {
  variant: VariantName;
  wallMs: number[];
  cpuMsPerImage: number;
  maxRssMb: number;
  concurrency: number;
  outputs: OutputSummary[];
}

/** Runs in the child process: one image at a time, as a function instance would. */
async function runVariant(spec: ChildSpec): Promise<ChildResult> {
  if (spec.sharpCache === false) sharp.cache(false);
  if (spec.concurrency !== undefined) sharp.concurrency(spec.concurrency);
  const input = await readFile(spec.input);
  const variant = VARIANTS[spec.variant];
  let outputs: OutputSummary[] = [];
  for (let i = 0; i < spec.warmup; i++) outputs = await variant.run(input);
  const wallMs: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < spec.iterations; i++) {
    const start = performance.now();
    outputs = await variant.run(input);
    wallMs.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    variant: spec.variant,
    wallMs,
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / Math.max(1, spec.iterations),
    maxRssMb: peakRssMb(),
    concurrency: sharp.concurrency(),
    outputs,
  };
}

interface InputImage {
  label: string;
  file: string;
  width: number;
  height: number;
  bytes: number;
}

/** Generates (once, cached on disk) the photo-like JPEG the variants read. */
async function photoFile(context: BenchContext, megapixels: string, width: number, height: number, seed: number): Promise<InputImage> {
  await mkdir(context.cacheDir, { recursive: true });
  const file = path.join(context.cacheDir, `photo-${width}x${height}-seed${seed}.jpg`);
  if (!existsSync(file)) {
    context.log(`generating ${megapixels} sample photo ${width}x${height} → ${file}`);
    await writeFile(file, await samplePhoto({ width, height, seed }));
  }
  const bytes = (await readFile(file)).length;
  return { label: `${megapixels} JPEG ${width}×${height} (${(bytes / 1e6).toFixed(1)} MB)`, file, width, height, bytes };
}

interface VariantFigures {
  variant: VariantName;
  label: string;
  /** What differs from a plain run (environment, sharp settings), empty for a plain run. */
  setting: string;
  msPerImage: number;
  /** Fastest single run: the least disturbed by other load on the machine. */
  minMs: number;
  imagesPerSecond: number;
  cpuMsPerImage: number;
  peakRssMb: number;
  runs: number;
  outputs: OutputSummary[];
}

/** One variant under one setting. */
interface RunConfig {
  variant: VariantName;
  setting?: string;
  env?: Record<string, string>;
  sharpCache?: boolean;
  concurrency?: number;
  /** Pin the process to this many CPUs. */
  cpus?: number;
}

async function measure(context: BenchContext, image: InputImage, configs: (VariantName | RunConfig)[], iterations: number, rounds: number): Promise<VariantFigures[]> {
  const runs = configs.map((config) => (typeof config === "string" ? { variant: config } : config));
  const samples = runs.map((): ChildResult[] => []);
  for (let round = 0; round < rounds; round++) {
    // Interleaved rounds spread any background load over all variants alike.
    for (const [index, run] of runs.entries()) {
      context.log(`  ${image.label}: ${run.variant}${run.setting ? ` [${run.setting}]` : ""} (round ${round + 1}/${rounds})`);
      const spec: ChildSpec = { variant: run.variant, input: image.file, iterations, warmup: run.variant === "idle" ? 0 : 1, sharpCache: run.sharpCache, concurrency: run.concurrency };
      samples[index].push(await runInChild<ChildResult>(__filename, spec, run.env, run.cpus));
    }
  }
  return runs.map((run, index) => {
    const results = samples[index];
    const ms = median(results.flatMap((r) => r.wallMs));
    return {
      variant: run.variant,
      label: VARIANTS[run.variant].label,
      setting: run.setting ?? "",
      msPerImage: ms,
      minMs: Math.min(...results.flatMap((r) => r.wallMs)),
      imagesPerSecond: 1000 / ms,
      cpuMsPerImage: median(results.map((r) => r.cpuMsPerImage)),
      peakRssMb: Math.max(...results.map((r) => r.maxRssMb)),
      runs: results.reduce((sum, r) => sum + r.wallMs.length, 0),
      outputs: results[0]?.outputs ?? [],
    };
  });
}

const shape = (outputs: OutputSummary[]) =>
  outputs
    .map((o) => `${o.name}.${o.format} ${o.width}x${o.height}`)
    .sort()
    .join(", ");

const fixed = (value: number, digits = 0) => value.toFixed(digits);

interface Comparison {
  image: InputImage;
  setting: string;
  figures: VariantFigures[];
  best: VariantFigures;
  ratio: number;
  cpuRatio: number;
}

/** Core vs the baselines on one image: the best baseline by median wall time, and the ratios. */
function compare(image: InputImage, setting: string, figures: VariantFigures[]): Comparison {
  const baselines = figures.filter((f) => VARIANTS[f.variant].baseline);
  const best = baselines.reduce((a, b) => (b.msPerImage < a.msPerImage ? b : a));
  const core = figures.find((f) => f.variant === "core") as VariantFigures;
  const cpuRatio = core.cpuMsPerImage / Math.min(...baselines.map((f) => f.cpuMsPerImage));
  return { image, setting, figures, best, ratio: core.msPerImage / best.msPerImage, cpuRatio };
}

function comparisonRows(comparison: Comparison): string[] {
  const core = comparison.figures.find((f) => f.variant === "core") as VariantFigures;
  return comparison.figures.map((f, i) => {
    const sameOutputs = shape(f.outputs) === shape(core.outputs) ? "" : " ⚠ different outputs";
    const input = i === 0 ? `${comparison.image.label}${comparison.setting ? `, ${comparison.setting}` : ""}` : "";
    return `| ${input} | ${f.label}${sameOutputs} | ${fixed(f.msPerImage)} | ${fixed(f.minMs)} | ${fixed(f.imagesPerSecond, 2)} | ${fixed(f.cpuMsPerImage)} | ${fixed(f.peakRssMb)} | ${fixed(f.msPerImage / comparison.best.msPerImage, 2)}× |`;
  });
}

function ratioLine(comparison: Comparison): string {
  const where = `${comparison.image.label}${comparison.setting ? `, ${comparison.setting}` : ""}`;
  return `- ${where}: core / best baseline (${comparison.best.label}) = **${fixed(comparison.ratio, 2)}×** wall time (goal ≤ 1.10×); CPU time vs the thriftiest baseline ${fixed(comparison.cpuRatio, 2)}×.`;
}

const withoutOutputs = (figures: VariantFigures[]) => figures.map(({ outputs, ...rest }) => ({ ...rest, outputBytes: outputs.reduce((sum, o) => sum + o.bytes, 0) }));

/** The core against the plain-sharp baselines on 12 and 24 MP (all CPUs, then one), and the core's peak RSS on 50 MP. */
export async function benchCore(context: BenchContext): Promise<BenchResult> {
  const iterations = context.quick ? 2 : 5;
  const iterationsLarge = context.quick ? 2 : 3;
  const rounds = context.quick ? 1 : 3;
  const images = [await photoFile(context, "12 MP", 4000, 3000, 1), await photoFile(context, "24 MP", 6000, 4000, 2)];
  const compared: VariantName[] = ["core", "sharp-one-decode", "sharp-decode-per-rendition", "sharp-clone-from-file", "core-steps", "core-steps-outputs"];
  const countFor = (image: InputImage) => (image.width * image.height > 15e6 ? iterationsLarge : iterations);
  const comparisons: Comparison[] = [];
  for (const image of images) {
    comparisons.push(compare(image, "", await measure(context, image, compared, countFor(image), rounds)));
  }
  if (canPin()) {
    const pinned = compared.filter((v) => v !== "core-steps" && v !== "core-steps-outputs").map((variant): RunConfig => ({ variant, cpus: 1, setting: "1 CPU" }));
    for (const image of images) comparisons.push(compare(image, "1 CPU", await measure(context, image, pinned, countFor(image), rounds)));
  }

  const big = await photoFile(context, "50 MP", 8660, 5774, 3);
  const bigFigures = await measure(context, big, ["core", "sharp-one-decode", "idle"], context.quick ? 1 : 2, context.quick ? 1 : 2);
  const bigCore = bigFigures[0];

  const settings = await measure(
    context,
    images[0],
    [
      { variant: "core", setting: "defaults" },
      { variant: "core", setting: "MALLOC_ARENA_MAX=2", env: { MALLOC_ARENA_MAX: "2" } },
      { variant: "core", setting: "MALLOC_ARENA_MAX=2 + sharp.concurrency(1)", env: { MALLOC_ARENA_MAX: "2" }, concurrency: 1 },
      { variant: "core", setting: "sharp.cache(false)", sharpCache: false },
    ],
    iterations,
    rounds,
  );

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const markdown = [
    `### Image core vs plain sharp`,
    ``,
    `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, Node ${process.version}, ${os.cpus().length} × ${cpu}; libvips threads per image: ${sharp.concurrency()} (MALLOC_ARENA_MAX ${process.env.MALLOC_ARENA_MAX ?? "unset"}).`,
    `Default outputs: renditions 320/1024/2048 × (webp q80, jpeg q80 mozjpeg) + a 32 px placeholder. One image at a time per process,`,
    `${rounds} interleaved round(s) × ${iterations} runs (24 MP: ${iterationsLarge}); ms = median, min = fastest run; CPU = user+sys per image;`,
    `peak RSS = VmHWM of the variant's own process; "1 CPU" rows pin the process to one core (taskset), like a function with one vCPU.`,
    ``,
    `| input | variant | ms/image | min ms | images/s | CPU ms/image | peak RSS MB | vs best baseline |`,
    `|---|---|---:|---:|---:|---:|---:|---:|`,
    ...comparisons.flatMap(comparisonRows),
    ``,
    ...comparisons.map(ratioLine),
    `- ${big.label}: core peak RSS **${fixed(bigCore.peakRssMb)} MB** (goal < 1024 MB), ${fixed(bigCore.msPerImage)} ms/image; plain sharp one-decode ${fixed(bigFigures[1].peakRssMb)} MB; idle process ${fixed(bigFigures[2].peakRssMb)} MB.`,
    `- Settings, 12 MP core (interleaved): ${settings.map((f) => `${f.setting} ${fixed(f.msPerImage)} ms, ${fixed(f.cpuMsPerImage)} ms CPU, ${fixed(f.peakRssMb)} MB`).join("; ")}.`,
    `- \`processImage\` passes decoded pixels in memory; the "workflow steps" row goes through the intermediate encoding and decodes the upload twice (Resize and ApplyFilters are separate functions in the cloud).`,
  ].join("\n");
  const data = {
    comparisons: comparisons.map((c) => ({ image: c.image.label, setting: c.setting, ratio: c.ratio, cpuRatio: c.cpuRatio, best: c.best.variant, figures: withoutOutputs(c.figures) })),
    peakRss50Mp: withoutOutputs(bigFigures),
    settings: withoutOutputs(settings),
  };
  return { name: "core", markdown, data };
}

interface Candidate {
  name: string;
  encode(pixels: Pixels): Promise<Buffer>;
  decode(data: Buffer, pixels: Pixels): Promise<Buffer>;
}

const rawSharp = (pixels: Pixels) => sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } });
const sharpDecode = (data: Buffer) => sharp(data).raw().toBuffer();

const CANDIDATES: Candidate[] = [
  {
    name: "raw + 16-byte header",
    encode: async (p) => Buffer.concat([Buffer.alloc(16), p.data]),
    decode: async (data) => Buffer.from(data.subarray(16)),
  },
  { name: "**PNG level 0 (chosen)**", encode: (p) => encodeIntermediate(p), decode: async (data) => (await decodeIntermediate(data)).data },
  { name: "PNG level 1", encode: (p) => rawSharp(p).png({ compressionLevel: 1 }).toBuffer(), decode: sharpDecode },
  { name: "TIFF uncompressed", encode: (p) => rawSharp(p).tiff({ compression: "none" }).toBuffer(), decode: sharpDecode },
  { name: "TIFF LZW + predictor", encode: (p) => rawSharp(p).tiff({ compression: "lzw", predictor: "horizontal" }).toBuffer(), decode: sharpDecode },
  { name: "TIFF deflate + predictor", encode: (p) => rawSharp(p).tiff({ compression: "deflate", predictor: "horizontal" }).toBuffer(), decode: sharpDecode },
  { name: "raw + zlib level 1", encode: (p) => promisify(deflate)(p.data, { level: 1 }), decode: (data) => promisify(inflate)(data) },
  { name: "lossless WebP effort 0", encode: (p) => rawSharp(p).webp({ lossless: true, effort: 0 }).toBuffer(), decode: sharpDecode },
];

/** Assumed object-storage throughput from a function (S3 or Blob, same region), for the total column. */
const STORAGE_MB_PER_S = 100;

async function timed<T>(run: () => Promise<T>, iterations: number): Promise<{ ms: number; value: T }> {
  let value = await run();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    value = await run();
    samples.push(performance.now() - start);
  }
  return { ms: median(samples), value };
}

/** Encode/decode time and size of each intermediate-encoding candidate on the 2048 px rendition. */
export async function benchIntermediate(context: BenchContext): Promise<BenchResult> {
  const image = await photoFile(context, "12 MP", 4000, 3000, 1);
  const decoded = await sharp(await readFile(image.file)).resize(widthBox(2048)).raw().toBuffer({ resolveWithObject: true });
  const pixels: Pixels = { data: decoded.data, width: decoded.info.width, height: decoded.info.height, channels: decoded.info.channels };
  const iterations = context.quick ? 3 : 9;
  const rows: string[] = [];
  const data: unknown[] = [];
  for (const candidate of CANDIDATES) {
    context.log(`  intermediate: ${candidate.name}`);
    const encoded = await timed(() => candidate.encode(pixels), iterations);
    const back = await timed(() => candidate.decode(encoded.value, pixels), iterations);
    const lossless = back.value.equals(pixels.data);
    const mb = encoded.value.length / 1e6;
    const total = encoded.ms + back.ms + ((2 * mb) / STORAGE_MB_PER_S) * 1000;
    rows.push(`| ${candidate.name} | ${fixed(encoded.ms, 1)} | ${fixed(back.ms, 1)} | ${fixed(mb, 2)} | ${lossless ? "yes" : "**no**"} | ${fixed(total)} |`);
    data.push({ name: candidate.name.replace(/\*\*/g, ""), encodeMs: encoded.ms, decodeMs: back.ms, megabytes: mb, lossless, totalMs: total });
  }
  const markdown = [
    `### Intermediate encoding candidates`,
    ``,
    `${pixels.width}×${pixels.height}×${pixels.channels} rendition of the 12 MP sample (${fixed(pixels.data.length / 1e6, 1)} MB of pixels), median of ${iterations}; total = encode + decode + put and get at ${STORAGE_MB_PER_S} MB/s.`,
    ``,
    `| encoding | encode ms | decode ms | MB | lossless | total ms |`,
    `|---|---:|---:|---:|:---:|---:|`,
    ...rows,
  ].join("\n");
  return { name: "intermediate", markdown, data };
}

/**
 * The 12 MP sample as HEIC, made once with libheif's `heif-enc` (Debian: libheif-examples, with x265);
 * undefined when it is not installed (no HEVC encoder ships as an npm package).
 */
async function heicFile(context: BenchContext, jpeg: InputImage): Promise<string | undefined> {
  const file = jpeg.file.replace(/\.jpg$/, ".heic");
  if (existsSync(file)) return file;
  context.log(`encoding ${file} with heif-enc (about 20 s of CPU)`);
  try {
    await promisify(execFile)("heif-enc", ["-q", "50", "-o", file, jpeg.file]);
    return file;
  } catch (error) {
    context.log(`  heif-enc unavailable (${(error as Error).message.split("\n")[0]}): HEIC rows skipped; apt-get install libheif-examples to measure them`);
    return undefined;
  }
}

/** Each feature's own cost on the 12 MP sample, in process: `processImage` with the feature on, against the defaults. */
export async function benchFeatures(context: BenchContext): Promise<BenchResult> {
  const iterations = context.quick ? 2 : 5;
  const jpeg = await photoFile(context, "12 MP", 4000, 3000, 1);
  const input = await readFile(jpeg.file);
  const heic = await heicFile(context, jpeg);
  const withOptions = (overrides: ProcessingOptionsInput) => processingOptionsSchema.parse(overrides);
  const runs: { label: string; run: () => Promise<unknown> }[] = [
    { label: "defaults (JPEG input)", run: () => processImage(input, options) },
    { label: "+ a cover crop by attention (`card:600x400:cover:attention`)", run: () => processImage(input, withOptions({ renditions: ["thumb:320", "medium:1024", "large:2048", "card:600x400:cover:attention"] })) },
    { label: "+ a cover crop at the centre (`card:600x400:cover`)", run: () => processImage(input, withOptions({ renditions: ["thumb:320", "medium:1024", "large:2048", "card:600x400:cover"] })) },
    { label: "+ ThumbHash, BlurHash and dominant colour (`placeholders`)", run: () => processImage(input, withOptions({ placeholders: ["thumbhash", "blurhash", "color"] })) },
    { label: "JPEG decode alone (sharp, full size)", run: () => sharp(input).raw().toBuffer() },
  ];
  if (heic) {
    const heicInput = await readFile(heic);
    const metadata = await sharp(heicInput).metadata();
    runs.push(
      { label: `HEIC input (${(heicInput.length / 1e6).toFixed(1)} MB, same picture), defaults`, run: () => processImage(heicInput, options) },
      { label: "HEIC decode alone (libheif wasm → PNG level 0)", run: () => decodeHeic(heicInput, metadata, options.limits.maxPixels) },
    );
  }
  const rows: string[] = [];
  const data: unknown[] = [];
  let base: { ms: number; cpuMs: number } | undefined;
  for (const { label, run } of runs) {
    context.log(`  features: ${label}`);
    const figures = await timedCpu(run, iterations);
    base ??= figures;
    const extra = label.startsWith("+") ? `${fixed(figures.cpuMs - base.cpuMs)}` : "";
    rows.push(`| ${label} | ${fixed(figures.ms)} | ${fixed(figures.cpuMs)} | ${extra} |`);
    data.push({ label, ...figures });
  }
  const markupOptions = withOptions({ formats: ["avif", "webp", "jpeg"], markup: true });
  const markupOutputs = sampleManifestOutputs();
  const markup = await timedCpu(async () => responsiveSets(markupOutputs, markupOptions), 200);
  const markdown = [
    `### Feature costs`,
    ``,
    `${jpeg.label}, one process, median of ${iterations}; CPU = user+sys per image; "extra CPU" against the defaults row. Responsive markup (\`markup: true\`) costs ${fixed(markup.cpuMs * 1000)} µs per manifest.`,
    ``,
    `| run | ms/image | CPU ms/image | extra CPU ms |`,
    `|---|---:|---:|---:|`,
    ...rows,
  ].join("\n");
  return { name: "features", markdown, data };
}

/** The manifest entries of the default renditions in three formats, for timing the markup alone. */
function sampleManifestOutputs(): ManifestEntry[] {
  return options.renditions.flatMap((r) =>
    (["avif", "webp", "jpeg"] as const).map((format) => ({ key: `a.jpg/${r.name}.${format}`, name: r.name, kind: "rendition" as const, format, slot: format, chosen: "configured" as const, width: r.width, height: Math.round(r.width * 0.75), bytes: 1, savedBytes: 0, contentType: `image/${format}` })),
  );
}

export const coreBenchmarks: Benchmark[] = [
  { name: "core", description: "image core vs plain sharp on 12/24 MP, 50 MP peak RSS", run: benchCore },
  { name: "intermediate", description: "lossless intermediate encoding candidates", run: benchIntermediate },
  { name: "features", description: "cost of HEIC input, crops and previews on 12 MP", run: benchFeatures },
];

const spec = childSpec<ChildSpec>();
if (spec) {
  runVariant(spec).then(reportToParent, (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
