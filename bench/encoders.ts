import sharp from "sharp";
import { defaultProcessingOptions, jpegSettings, processingOptionsSchema, renderRenditions, webpSettings, type Pixels, type ProcessingOptions, type ProcessingOptionsInput } from "../functions/core";
import { samplePhoto } from "../local/sampleImages";
import { median } from "./measure";
import type { Benchmark, BenchContext, BenchResult } from "./types";

/**
 * `npm run bench -- --only encoders`: what each encoder setting costs and saves (#13). Generated
 * 12 MP photos are rendered to the default renditions by the core (renderRenditions); each setting then
 * encodes every rendition with the core's own settings (jpegSettings / webpSettings), one libvips
 * thread (a Lambda under 1,769 MB has less than one vCPU), and the CPU of all renditions of an
 * image and their bytes are compared with the default's.
 */

interface EncoderSetting {
  label: string;
  format: "jpeg" | "webp";
  options: ProcessingOptionsInput;
}

const SETTINGS: EncoderSetting[] = [
  { label: "JPEG, mozjpeg, default (trellis quantisation, no scan search)", format: "jpeg", options: {} },
  { label: "JPEG, without trellis (`optimize.jpegTrellis: false`)", format: "jpeg", options: { optimize: { jpegTrellis: false } } },
  { label: "JPEG, + scan search (`optimize.jpegScanSearch: true`; mozjpeg's own default)", format: "jpeg", options: { optimize: { jpegScanSearch: true } } },
  { label: "WebP, effort 4, default", format: "webp", options: {} },
  { label: "WebP, `webpEffort: 0`", format: "webp", options: { webpEffort: 0 } },
  { label: "WebP, `webpEffort: 2`", format: "webp", options: { webpEffort: 2 } },
  { label: "WebP, `webpEffort: 6`", format: "webp", options: { webpEffort: 6 } },
];

interface EncoderFigures {
  label: string;
  format: string;
  cpuMsPerImage: number;
  kbPerImage: number;
  cpuVsDefault: number;
  bytesVsDefault: number;
}

/** The default renditions' pixels of one photo, as the core renders them (one decode, cascading large → thumb). */
async function renditionPixels(photo: Buffer): Promise<Pixels[]> {
  return (await renderRenditions(photo, defaultProcessingOptions())).map((rendered) => rendered.pixels);
}

function encode(pixels: Pixels, format: EncoderSetting["format"], options: ProcessingOptions): Promise<Buffer> {
  const image = sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } });
  return (format === "jpeg" ? image.jpeg(jpegSettings(options)) : image.webp(webpSettings(options))).toBuffer();
}

export async function runEncoderBenchmark(context: BenchContext): Promise<BenchResult> {
  const photos = context.quick ? 2 : 4;
  const rounds = context.quick ? 3 : 5;
  context.log(`  generating ${photos} 12 MP photos and their renditions...`);
  const images = await Promise.all(Array.from({ length: photos }, (_, i) => samplePhoto({ width: 4000, height: 3000, seed: i + 1 }).then(renditionPixels)));
  const concurrency = sharp.concurrency();
  sharp.concurrency(1);
  const measured: Array<Omit<EncoderFigures, "cpuVsDefault" | "bytesVsDefault">> = [];
  try {
    for (const setting of SETTINGS) {
      // Parsed once, outside the timed rounds.
      const options = processingOptionsSchema.parse(setting.options);
      const cpu: number[] = [];
      let bytes = 0;
      for (let round = 0; round <= rounds; round++) {
        const before = process.cpuUsage();
        let roundBytes = 0;
        for (const levels of images) for (const pixels of levels) roundBytes += (await encode(pixels, setting.format, options)).length;
        const used = process.cpuUsage(before);
        // Round 0 warms the encoder up and is not counted.
        if (round > 0) cpu.push((used.user + used.system) / 1000 / images.length);
        bytes = roundBytes / images.length;
      }
      measured.push({ label: setting.label, format: setting.format, cpuMsPerImage: median(cpu), kbPerImage: bytes / 1024 });
      context.log(`  ${setting.label}: ${Math.round(median(cpu))} ms`);
    }
  } finally {
    sharp.concurrency(concurrency);
  }
  const rows: EncoderFigures[] = measured.map((row) => {
    const base = measured.find((other) => other.format === row.format) as (typeof measured)[number];
    return { ...row, cpuVsDefault: row.cpuMsPerImage / base.cpuMsPerImage - 1, bytesVsDefault: row.kbPerImage / base.kbPerImage - 1 };
  });
  const percent = (value: number) => (Math.abs(value) < 0.0005 ? "" : `${value > 0 ? "+" : "−"}${Math.abs(value * 100).toFixed(0)} %`);
  const markdown = [
    "## Encoder settings",
    "",
    `${photos} generated 12 MP photos, each cut to the default renditions (${defaultProcessingOptions().renditions.map((r) => r.width).join(", ")} px) and encoded at the default quality with each setting, one libvips thread; CPU per image (all renditions, median of ${rounds} rounds) and bytes per image.`,
    "",
    "| setting | CPU ms/image | KB/image | CPU vs default | bytes vs default |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((row) => `| ${row.label} | ${row.cpuMsPerImage.toFixed(0)} | ${row.kbPerImage.toFixed(0)} | ${percent(row.cpuVsDefault)} | ${percent(row.bytesVsDefault)} |`),
  ].join("\n");
  return { name: "encoders", markdown, data: rows };
}

export const encoderBenchmarks: Benchmark[] = [{ name: "encoders", description: "CPU and bytes of each JPEG and WebP encoder setting", run: runEncoderBenchmark }];
