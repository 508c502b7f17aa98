import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import sharp from "sharp";
import { prepareWatermark, processImage, processingOptionsSchema, type ProcessingOptions } from "../functions/core";
import { samplePhoto } from "../local/sampleImages";
import { childSpec, reportToParent, runInChild } from "./child";
import { median, peakRssMb, timedCpu } from "./measure";
import type { Benchmark, BenchContext, BenchResult } from "./types";

/**
 * `npm run bench -- --only animation`: what `animated: keep` and `watermark` cost.
 * Animation: a generated 200-frame GIF through `processImage` with the default renditions,
 * first frame against every frame, each in its own process for a clean peak RSS
 * (VmHWM), one image at a time as a function instance runs them.
 * Watermark: the 12 MP sample with the defaults, without and with a mark.
 */

const FRAMES = 200;
const FRAME_WIDTH = 480;
const FRAME_HEIGHT = 270;

interface AnimationSpec {
  file: string;
  animated: "first-frame" | "keep";
  iterations: number;
}

interface AnimationFigures {
  ms: number;
  cpuMs: number;
  peakRssMb: number;
  outputs: number;
  bytesOut: number;
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);

/** A 200-frame GIF of a disc crossing a gradient, made once from raw frames (sharp `raw.pageHeight`). */
async function animatedGifFile(context: BenchContext): Promise<string> {
  await mkdir(context.cacheDir, { recursive: true });
  const file = path.join(context.cacheDir, `animated-disc-${FRAME_WIDTH}x${FRAME_HEIGHT}x${FRAMES}.gif`);
  if (existsSync(file)) return file;
  context.log(`generating a ${FRAMES}-frame ${FRAME_WIDTH}×${FRAME_HEIGHT} GIF → ${file}`);
  const frame = FRAME_WIDTH * FRAME_HEIGHT * 3;
  const raw = Buffer.alloc(frame * FRAMES);
  for (let page = 0; page < FRAMES; page++) {
    for (let y = 0; y < FRAME_HEIGHT; y++) {
      for (let x = 0; x < FRAME_WIDTH; x++) {
        // A still gradient with a disc crossing it: what a typical short animation looks like.
        const at = page * frame + (y * FRAME_WIDTH + x) * 3;
        const inDisc = (x - (40 + page * 2)) ** 2 + (y - FRAME_HEIGHT / 2) ** 2 < 40 ** 2;
        raw[at] = inDisc ? 230 : Math.round((x / FRAME_WIDTH) * 200);
        raw[at + 1] = inDisc ? 60 : Math.round((y / FRAME_HEIGHT) * 160);
        raw[at + 2] = inDisc ? 40 : 180;
      }
    }
  }
  const gif = await sharp(raw, { raw: { width: FRAME_WIDTH, height: FRAME_HEIGHT * FRAMES, channels: 3, pageHeight: FRAME_HEIGHT } })
    .gif({ delay: Array.from({ length: FRAMES }, () => 40), loop: 0 })
    .toBuffer();
  await writeFile(file, gif);
  return file;
}

/** In the child: the GIF through the core `iterations` times. */
async function runAnimation(spec: AnimationSpec): Promise<AnimationFigures> {
  const input = await readFile(spec.file);
  const options = processingOptionsSchema.parse({ animated: spec.animated, limits: { maxFrames: FRAMES } });
  const samples: number[] = [];
  const before = process.cpuUsage();
  let outputs: { data: Buffer }[] = [];
  for (let i = 0; i < spec.iterations; i++) {
    const start = performance.now();
    outputs = (await processImage(input, options)).outputs;
    samples.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(before);
  return { ms: median(samples), cpuMs: (cpu.user + cpu.system) / 1000 / spec.iterations, peakRssMb: peakRssMb(), outputs: outputs.length, bytesOut: outputs.reduce((sum, o) => sum + o.data.length, 0) };
}

async function photo12Mp(context: BenchContext): Promise<Buffer> {
  const file = path.join(context.cacheDir, "photo-4000x3000-seed1.jpg");
  if (!existsSync(file)) {
    await mkdir(context.cacheDir, { recursive: true });
    await writeFile(file, await samplePhoto({ width: 4000, height: 3000, seed: 1 }));
  }
  return readFile(file);
}

export async function benchAnimation(context: BenchContext): Promise<BenchResult> {
  const iterations = context.quick ? 1 : 3;
  const file = await animatedGifFile(context);
  const gifBytes = (await readFile(file)).length;
  const rows: string[] = [];
  const data: unknown[] = [];
  for (const animated of ["first-frame", "keep"] as const) {
    context.log(`  animation: ${animated}`);
    const figures = await runInChild<AnimationFigures>(__filename, { file, animated, iterations } satisfies AnimationSpec, { MALLOC_ARENA_MAX: "2" });
    rows.push(`| 200-frame GIF, \`animated: ${animated}\` | ${fixed(figures.ms)} | ${fixed(figures.cpuMs)} | ${fixed(figures.peakRssMb)} | ${figures.outputs} | ${fixed(figures.bytesOut / 1e6, 2)} |`);
    data.push({ animated, ...figures });
  }

  const input = await photo12Mp(context);
  const defaults = processingOptionsSchema.parse({});
  const marked: ProcessingOptions = processingOptionsSchema.parse({ watermark: { source: "file:tests/fixtures/watermark/mark.png" } });
  const mark = await prepareWatermark(await readFile(path.join(__dirname, "..", "tests", "fixtures", "watermark", "mark.png")), marked.watermark!);
  const watermarkRows: string[] = [];
  let base: { ms: number; cpuMs: number } | undefined;
  for (const [label, run] of [
    ["12 MP JPEG, defaults", () => processImage(input, defaults)],
    ["+ `watermark` (on medium and large; thumb is under minWidth)", () => processImage(input, marked, undefined, mark)],
  ] as const) {
    context.log(`  watermark: ${label}`);
    const figures = await timedCpu(run, context.quick ? 2 : 5);
    base ??= figures;
    watermarkRows.push(`| ${label} | ${fixed(figures.ms)} | ${fixed(figures.cpuMs)} | ${label.startsWith("+") ? fixed(figures.cpuMs - base.cpuMs) : ""} |`);
    data.push({ label, ...figures });
  }

  const markdown = [
    `### Animation and watermark costs`,
    ``,
    `A ${FRAMES}-frame ${FRAME_WIDTH}×${FRAME_HEIGHT} GIF (${fixed(gifBytes / 1e6, 1)} MB), default renditions and formats (WebP + JPEG, i.e. animated WebP + GIF when kept), one process each, MALLOC_ARENA_MAX=2, median of ${iterations}:`,
    ``,
    `| run | ms/image | CPU ms/image | peak RSS MB | outputs | MB out |`,
    `|---|---:|---:|---:|---:|---:|`,
    ...rows,
    ``,
    `| run | ms/image | CPU ms/image | extra CPU ms |`,
    `|---|---:|---:|---:|`,
    ...watermarkRows,
  ].join("\n");
  return { name: "animation", markdown, data };
}

export const animationBenchmarks: Benchmark[] = [{ name: "animation", description: "animated: keep on a 200-frame GIF (time, peak RSS) and the watermark's cost on 12 MP", run: benchAnimation }];

const spec = childSpec<AnimationSpec>();
if (spec) {
  runAnimation(spec).then(reportToParent, (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
