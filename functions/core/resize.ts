import sharp from "sharp";
import type { ResizeOptions } from "sharp";
import { encodeIntermediate } from "./intermediate";
import type { Position, ProcessingOptions, Rendition } from "./options";
import { decodeSource, fromPixels, MAX_DIMENSION, resizePixels, sourceOptions, transformPixels, widthBox, type Pixels } from "./pixels";
import { guardSharp } from "./sharpErrors";
import type { CropBox, FocalPoint, Intermediate } from "./types";
import { watermarkPixels, type PreparedWatermark } from "./watermark";

/**
 * Renditions are sized by width (what `srcset` `w` descriptors describe): fit
 * inside rendition width x 16383 px, keep the aspect ratio, never enlarge.
 *
 * One decode, then a cascade: the upload is decoded (with shrink-on-load) to the
 * largest rendition, each smaller one is resized from the previous one.
 * Measured (one core): 12 MP JPEG → 2048 px 57 ms, then 1024 and 320 from it
 * +7 ms; a shrink-on-load decode straight to 1024 px still costs 37 ms and to
 * 320 px 27 ms, because JPEG shrink-on-load only skips IDCT work, never the
 * entropy decoding (24 MP: 99 / 60 / 51 ms). So decoding per rendition costs
 * more CPU (`npm run bench`: 652 vs 574 ms CPU per 12 MP image with all
 * encodes) and is only close in wall time when an idle second core absorbs it.
 */

export interface RenderedRendition {
  rendition: Rendition;
  pixels: Pixels;
  /** The whole image at the size this rendition was cut from (effects and placeholders start from these). */
  level: Pixels;
  crop?: CropBox;
}

/** Transparent padding for `contain`; JPEG flattens it to white. */
const PADDING = { r: 255, g: 255, b: 255, alpha: 0 };

/** A rendition that is the whole image inside its width: the cascade's plain step. */
const isPlain = (rendition: Rendition) => rendition.fit === "inside" && rendition.height === undefined;

/**
 * The box the whole image is scaled into before a rendition is cut from it: its width for
 * plain renditions, width x height for `inside`/`contain`, and for `cover` the smallest size
 * that covers width x height. Never larger than the source.
 */
function levelBox(rendition: Rendition, source: { width: number; height: number }): ResizeOptions {
  if (isPlain(rendition)) return widthBox(rendition.width);
  const height = rendition.height ?? MAX_DIMENSION;
  if (rendition.fit !== "cover") return { width: rendition.width, height, fit: "inside", withoutEnlargement: true };
  const scale = Math.min(1, Math.max(rendition.width / source.width, height / source.height));
  return widthBox(Math.max(1, Math.ceil(source.width * scale)));
}

/** The width `box` gives the source: what orders the cascade. */
function levelWidth(box: ResizeOptions, source: { width: number; height: number }): number {
  const scale = Math.min(1, (box.width ?? Infinity) / source.width, (box.height ?? Infinity) / source.height);
  return Math.round(source.width * scale);
}

/**
 * Decodes once and cascades through the renditions, largest first: each one's whole-image
 * level is resized from the previous level, then cropped (`cover`) or padded (`contain`).
 * @param onRendered called as soon as each rendition's pixels exist (largest first), so callers can start encoding early
 * @param focal the upload's focal point, for `position: focal` (else those crops use `attention`)
 * @param watermark the decoded mark, composited onto each rendition at least `minWidth` wide (never onto `level`)
 * @returns the renditions in configuration order
 * @throws {PipelineError} CORRUPT_IMAGE when the upload cannot be decoded; TOO_MANY_PIXELS
 */
export async function renderRenditions(
  input: Buffer,
  options: ProcessingOptions,
  onRendered?: (rendered: RenderedRendition) => void,
  focal?: FocalPoint,
  watermark?: PreparedWatermark,
): Promise<RenderedRendition[]> {
  // Only crops and boxes need the source size up front; plain renditions keep the one-read path.
  const source = options.renditions.every(isPlain) ? { width: Infinity, height: Infinity } : await readUprightSize(input, options);
  const planned = options.renditions.map((rendition) => ({ rendition, box: levelBox(rendition, source) }));
  const largestFirst = [...planned].sort((a, b) => (isFinite(source.width) ? levelWidth(b.box, source) - levelWidth(a.box, source) : b.rendition.width - a.rendition.width));
  let current = await decodeSource(input, options, largestFirst[0].box);
  const byName = new Map<string, RenderedRendition>();
  for (const { rendition, box } of largestFirst) {
    current = await resizePixels(current, box);
    const cut = await cutRendition(rendition, current, source, focal);
    // The mark goes on the rendition only: the cascade, effects and placeholders go on from unmarked pixels.
    const rendered = watermark ? { ...cut, pixels: await watermarkPixels(cut.pixels, watermark) } : cut;
    byName.set(rendition.name, rendered);
    onRendered?.(rendered);
  }
  return options.renditions.map((rendition) => byName.get(rendition.name) as RenderedRendition);
}

/** The upload's displayed size from its header (no pixel decoded). */
async function readUprightSize(input: Buffer, options: ProcessingOptions): Promise<{ width: number; height: number }> {
  const metadata = await guardSharp("reading the image header", () => sharp(input, sourceOptions(options)).metadata(), options.limits);
  return metadata.autoOrient ?? metadata;
}

/**
 * Turns a whole-image level into the rendition: as it is (inside), padded to width x height
 * (contain), or cropped to width x height (cover; smaller when the source is). The crop box
 * is reported in the upright source's pixels.
 */
async function cutRendition(rendition: Rendition, level: Pixels, source: { width: number; height: number }, focal: FocalPoint | undefined): Promise<RenderedRendition> {
  if (rendition.fit === "inside") return { rendition, pixels: level, level };
  const targetHeight = rendition.height ?? level.height;
  if (rendition.fit === "contain") {
    const [padX, padY] = [Math.max(0, rendition.width - level.width), Math.max(0, targetHeight - level.height)];
    const left = Math.floor(padX / 2);
    const top = Math.floor(padY / 2);
    const pixels = await transformPixels(level, `padding ${rendition.name}`, (image) =>
      image.ensureAlpha(0).extend({ left, right: padX - left, top, bottom: padY - top, background: PADDING }),
    );
    return { rendition, pixels, level };
  }
  const width = Math.min(rendition.width, level.width);
  const height = Math.min(targetHeight, level.height);
  const position: Position = rendition.position === "focal" && !focal ? "attention" : rendition.position;
  let box: { left: number; top: number };
  let pixels: Pixels;
  if (position === "attention" || position === "entropy") {
    ({ pixels, ...box } = await strategyWindow(level, width, height, position, rendition.name));
  } else {
    const centre = position === "focal" && focal ? { x: focal.x * level.width, y: focal.y * level.height } : { x: level.width / 2, y: level.height / 2 };
    box = centredWindow(level, width, height, centre);
    pixels = width === level.width && height === level.height ? level : await transformPixels(level, `cropping ${rendition.name}`, (image) => image.extract({ ...box, width, height }));
  }
  const scale = source.width / level.width;
  const crop = {
    left: Math.round(box.left * scale),
    top: Math.round(box.top * scale),
    width: Math.min(source.width, Math.round(width * scale)),
    height: Math.min(source.height, Math.round(height * scale)),
    position,
  };
  return { rendition, pixels, level, crop };
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** A `width` x `height` window of `level` centred on `centre` (in level pixels), moved inside it where it would stick out. */
export function centredWindow(level: { width: number; height: number }, width: number, height: number, centre: { x: number; y: number }): { left: number; top: number } {
  return { left: clamp(Math.round(centre.x - width / 2), 0, level.width - width), top: clamp(Math.round(centre.y - height / 2), 0, level.height - height) };
}

/**
 * The `width` x `height` window of `level` sharp's attention or entropy strategy chooses, and its pixels.
 * Animated renditions choose theirs on the first frame with it too (./animation.ts).
 */
export async function strategyWindow(level: Pixels, width: number, height: number, position: "attention" | "entropy", name: string): Promise<{ left: number; top: number; pixels: Pixels }> {
  const { data, info } = await guardSharp(`cropping ${name} by ${position}`, () =>
    fromPixels(level).resize({ width, height, fit: "cover", position: sharp.strategy[position] }).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true }),
  );
  // sharp's info reports where the window sits, as negative offsets.
  return { left: Math.abs(info.cropOffsetLeft ?? 0), top: Math.abs(info.cropOffsetTop ?? 0), pixels: { ...level, data, width: info.width, height: info.height, channels: info.channels } };
}

/**
 * Resize step: one lossless intermediate per configured rendition.
 * @example
 * const items = await resizeImage(upload, options); // [{ name: "thumb", kind: "rendition", width: 320, ... }]
 * @param focal the upload's focal point (see `parseFocalPoint`), for `position: focal` crops
 * @param watermark the decoded mark (`prepareWatermark`), when `watermark` is configured
 * @throws {PipelineError} CORRUPT_IMAGE when the upload cannot be decoded; TOO_MANY_PIXELS
 */
export async function resizeImage(input: Buffer, options: ProcessingOptions, focal?: FocalPoint, watermark?: PreparedWatermark): Promise<Intermediate[]> {
  const rendered = await renderRenditions(input, options, undefined, focal, watermark);
  return Promise.all(
    rendered.map(async ({ rendition, pixels, crop }) => ({
      name: rendition.name,
      kind: "rendition" as const,
      width: pixels.width,
      height: pixels.height,
      data: await encodeIntermediate(pixels),
      ...(crop ? { crop } : {}),
    })),
  );
}

/**
 * The focal point an uploader set in the object's metadata (`x-amz-meta-focal` on S3, blob
 * metadata `focal` on Azure): "x,y" as fractions of the displayed image, e.g. "0.42,0.31".
 * @returns undefined when absent or not two numbers in 0..1 (the crop then uses `attention`)
 */
export function parseFocalPoint(text: string | undefined): FocalPoint | undefined {
  const match = /^\s*(\d*\.?\d+)\s*,\s*(\d*\.?\d+)\s*$/.exec(text ?? "");
  if (!match) return undefined;
  const [x, y] = [Number(match[1]), Number(match[2])];
  return x <= 1 && y <= 1 ? { x, y } : undefined;
}
