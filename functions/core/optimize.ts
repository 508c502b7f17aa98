import sharp from "sharp";
import type { Sharp } from "sharp";
import { encodeIntermediate, intermediateSource, readIntermediateHeader } from "./intermediate";
import type { OutputFormat, ProcessingOptions } from "./options";
import { fromPixels, type Pixels } from "./pixels";
import { guardSharp } from "./sharpErrors";
import type { EncodedFormat, EncodedImage } from "./types";

/**
 * Encodes to the web formats. Metadata is stripped by default (sharp writes
 * none unless asked): no EXIF, no GPS, no XMP, ever. `keepMetadata: "icc"`
 * attaches the ICC profile the pixels are in; "icc-copyright" also writes
 * EXIF Copyright and Artist, and nothing else, from the values the core read.
 */

export const OUTPUT_TYPES: Record<OutputFormat, { contentType: string; extension: string }> = {
  jpeg: { contentType: "image/jpeg", extension: "jpg" },
  webp: { contentType: "image/webp", extension: "webp" },
  avif: { contentType: "image/avif", extension: "avif" },
};

/** Content type and extension of every format an output can have, animated GIF included. */
export const ENCODED_TYPES: Record<EncodedFormat, { contentType: string; extension: string }> = {
  ...OUTPUT_TYPES,
  gif: { contentType: "image/gif", extension: "gif" },
};

/** What an output file can be: a configured web format, PNG where a graphic is smaller lossless than as JPEG, or an animated GIF in JPEG's place. */
export type StoredFormat = EncodedFormat | "png";
export const STORED_TYPES: Record<StoredFormat, { contentType: string; extension: string }> = { ...ENCODED_TYPES, png: { contentType: "image/png", extension: "png" } };

/** JPEG has no alpha: transparent areas become white, as on most web pages. */
const JPEG_BACKGROUND = "#ffffff";

/** What the encoders need to know about their source besides the pixels. */
interface SourceFacts {
  channels: number;
  icc?: Buffer;
  rights?: Pixels["rights"];
}

/** One file to try for an image: a configured format (its `slot`), or the lossless alternative that may replace it. */
interface Variant {
  slot: OutputFormat;
  /** Never GIF: animated outputs are encoded in ./animation.ts. */
  format: Exclude<StoredFormat, "gif">;
  lossless: boolean;
}

function encoder(image: Sharp, variant: Variant, facts: SourceFacts, options: ProcessingOptions): Sharp {
  if (options.keepMetadata !== "none" && facts.icc) image.keepIccProfile();
  if (options.keepMetadata === "icc-copyright" && facts.rights) {
    const { copyright, artist } = facts.rights;
    image.withExif({ IFD0: { ...(copyright ? { Copyright: copyright } : {}), ...(artist ? { Artist: artist } : {}) } });
  }
  const hasAlpha = facts.channels === 2 || facts.channels === 4;
  switch (variant.format) {
    case "jpeg":
      return (hasAlpha ? image.flatten({ background: JPEG_BACKGROUND }) : image).jpeg({ quality: options.quality.jpeg, mozjpeg: true });
    case "webp":
      return variant.lossless ? image.webp({ lossless: true }) : image.webp({ quality: options.quality.webp });
    case "avif":
      return image.avif({ quality: options.quality.avif, effort: options.avifEffort });
    case "png":
      return image.png({ compressionLevel: 9 });
  }
}

const configuredVariants = (options: ProcessingOptions): Variant[] => options.formats.map((format) => ({ slot: format, format, lossless: false }));

/** The lossless alternatives a graphic gets: lossless WebP for the WebP slot, PNG for the JPEG slot. */
const losslessVariants = (options: ProcessingOptions): Variant[] => [
  ...(options.formats.includes("webp") ? [{ slot: "webp" as const, format: "webp" as const, lossless: true }] : []),
  ...(options.formats.includes("jpeg") ? [{ slot: "jpeg" as const, format: "png" as const, lossless: true }] : []),
];

/** Encodes one image to each variant, concurrently (each encode runs on its own libuv thread). */
async function encodeVariants(source: () => Sharp, facts: SourceFacts, variants: Variant[], name: string, label: string, options: ProcessingOptions): Promise<Candidate[]> {
  return Promise.all(
    variants.map(async (variant) => {
      const what = variant.lossless ? `lossless ${variant.format}` : variant.format;
      const { data, info } = await guardSharp(`encoding ${label} as ${what}`, () => encoder(source(), variant, facts, options).toBuffer({ resolveWithObject: true }));
      return { name, format: variant.format, slot: variant.slot, lossless: variant.lossless, width: info.width, height: info.height, data, ...STORED_TYPES[variant.format] };
    }),
  );
}

/** Encodes one image to every configured format. */
async function encodeAll(source: () => Sharp, facts: SourceFacts, name: string, label: string, options: ProcessingOptions): Promise<EncodedImage[]> {
  const encoded = await encodeVariants(source, facts, configuredVariants(options), name, label, options);
  return encoded.map(({ slot, lossless: _lossless, ...image }) => ({ ...image, format: slot }));
}

/**
 * Encodes decoded pixels directly (the in-process path of `processImage`).
 * Pixels that carry a profile to keep go through the intermediate encoding,
 * the only way to hand sharp pixels together with an ICC profile.
 */
export async function encodePixels(pixels: Pixels, name: string, label: string, options: ProcessingOptions): Promise<EncodedImage[]> {
  if (pixels.icc && options.keepMetadata !== "none") {
    const data = await encodeIntermediate(pixels);
    return encodeAll(() => intermediateSource(data), pixels, name, label, options);
  }
  return encodeAll(() => fromPixels(pixels), pixels, name, label, options);
}

/**
 * Optimize step: decodes an intermediate and encodes it to each configured format.
 * @param data an intermediate from `resizeImage` or `filterImage`
 * @example
 * const files = await optimizeImage(item.data, "thumb", "rendition", options); // thumb.webp, thumb.jpg
 * @throws {PipelineError} CORRUPT_IMAGE when `data` is not an intact intermediate
 */
export async function optimizeImage(data: Buffer, name: string, kind: "rendition" | "effect", options: ProcessingOptions): Promise<EncodedImage[]> {
  const header = readIntermediateHeader(data);
  return encodeAll(() => intermediateSource(data), header, name, `${kind} ${name}`, options);
}

/** An encoded file before the choice: which configured format (`slot`) it would serve. */
export interface Candidate extends Omit<EncodedImage, "format"> {
  format: StoredFormat;
  slot: OutputFormat;
  lossless: boolean;
}

/**
 * Why a file was stored: `fallback` the JPEG every browser shows; `smallest` smaller than
 * that JPEG (or its lossy/lossless alternative); `lossless-smaller` a graphic's lossless file
 * beat the lossy one; `kept-larger` larger than the JPEG but kept (`optimize.keepLarger`);
 * `configured` nothing to compare with (no JPEG configured).
 */
export type ChoiceReason = "fallback" | "smallest" | "lossless-smaller" | "kept-larger" | "configured";

/** Why a file was not stored: larger than the JPEG slot's file, or than its lossless/lossy alternative. */
export type SkipReason = "larger-than-jpeg" | "larger-than-png" | "larger-than-lossless" | "larger-than-lossy";

export interface ChosenImage extends Candidate {
  chosen: ChoiceReason;
}

export interface SkippedVariant {
  name: string;
  slot: OutputFormat;
  format: StoredFormat;
  lossless: boolean;
  bytes: number;
  reason: SkipReason;
}

export interface Decision {
  chosen: ChosenImage[];
  skipped: SkippedVariant[];
}

const skip = (candidate: Candidate, reason: SkipReason): SkippedVariant => ({
  name: candidate.name,
  slot: candidate.slot,
  format: candidate.format,
  lossless: candidate.lossless,
  bytes: candidate.data.length,
  reason,
});

/**
 * Optimize decides (#14.7), for one image's encodes: per configured format the smaller of its
 * lossy file and a lossless alternative (graphics only); then a WebP/AVIF larger than the
 * JPEG slot's file is dropped unless `keepLarger`, since the `<img>` fallback already serves
 * every browser in fewer bytes. The JPEG slot is always kept. A `translucent` image is compared
 * only with a PNG in that slot (a JPEG loses its alpha). Pure: no encode happens here.
 * @returns the files to store, in configured format order, and what was left out and why
 */
export function decideVariants(candidates: readonly Candidate[], options: Pick<ProcessingOptions, "formats" | "optimize">, { translucent = false } = {}): Decision {
  const chosen: ChosenImage[] = [];
  const skipped: SkippedVariant[] = [];
  const winners = new Map<OutputFormat, ChosenImage>();
  for (const slot of options.formats) {
    const [best, ...rest] = candidates.filter((c) => c.slot === slot).sort((a, b) => a.data.length - b.data.length || Number(a.lossless) - Number(b.lossless));
    if (!best) continue;
    for (const loser of rest) skipped.push(skip(loser, best.lossless ? "larger-than-lossless" : "larger-than-lossy"));
    winners.set(slot, { ...best, chosen: best.lossless ? "lossless-smaller" : slot === "jpeg" ? "fallback" : "configured" });
  }
  // A translucent image's JPEG is flattened on white: it does not stand in for the formats that keep alpha.
  const reference = translucent ? (winners.get("jpeg")?.format === "png" ? winners.get("jpeg") : undefined) : winners.get("jpeg");
  for (const slot of options.formats) {
    const winner = winners.get(slot);
    if (!winner) continue;
    if (reference && slot !== "jpeg") {
      if (winner.data.length > reference.data.length) {
        if (!options.optimize.keepLarger) {
          skipped.push(skip(winner, reference.format === "png" ? "larger-than-png" : "larger-than-jpeg"));
          continue;
        }
        winner.chosen = "kept-larger";
      } else if (winner.chosen === "configured") winner.chosen = "smallest";
    }
    chosen.push(winner);
  }
  return { chosen, skipped };
}

/** Longest side of the sample a graphic is recognised from (nearest neighbour: no new colours). */
const GRAPHIC_SAMPLE = 128;
/** A graphic: its most common colours cover this share of the sample (a photo's top colours cover a few per cent). */
export const GRAPHIC_TOP_COLOURS = 32;
export const GRAPHIC_COVERAGE = 0.9;

/**
 * Whether the pixels look like a graphic (flat colours and hard edges: a logo, a chart, a
 * screenshot) rather than a photo: the 32 most common colours of a nearest-neighbour sample
 * cover 90 % of it (resampled edges add colours, but few pixels). About a millisecond.
 */
export async function isGraphicLike(pixels: Pixels): Promise<boolean> {
  const { data, info } = await guardSharp("sampling the colours", () =>
    fromPixels(pixels).resize({ width: GRAPHIC_SAMPLE, height: GRAPHIC_SAMPLE, fit: "inside", withoutEnlargement: true, kernel: sharp.kernel.nearest }).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true }),
  );
  const counts = new Map<number, number>();
  for (let i = 0; i < data.length; i += info.channels) {
    let value = 0;
    for (let c = 0; c < info.channels; c++) value = value * 256 + data[i + c];
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const top = [...counts.values()].sort((a, b) => b - a).slice(0, GRAPHIC_TOP_COLOURS).reduce((sum, count) => sum + count, 0);
  return top >= GRAPHIC_COVERAGE * (data.length / info.channels);
}

/** Whether any pixel is not fully opaque: then a JPEG (flattened on white) is no stand-in for the other formats. */
async function isTranslucent(pixels: Pixels): Promise<boolean> {
  if (pixels.channels !== 2 && pixels.channels !== 4) return false;
  for (let i = pixels.channels - 1; i < pixels.data.length; i += pixels.channels) if (pixels.data[i] !== 255) return true;
  return false;
}

/**
 * Encodes decoded pixels to the configured formats (plus lossless alternatives when they look
 * like a graphic) and decides which files to store (`decideVariants`).
 */
export async function encodeDecided(pixels: Pixels, name: string, label: string, options: ProcessingOptions): Promise<Decision> {
  const variants = [...configuredVariants(options), ...((await isGraphicLike(pixels)) ? losslessVariants(options) : [])];
  const encode = (source: () => Sharp) => encodeVariants(source, pixels, variants, name, label, options);
  const translucent = await isTranslucent(pixels);
  if (pixels.icc && options.keepMetadata !== "none") {
    const data = await encodeIntermediate(pixels);
    return decideVariants(await encode(() => intermediateSource(data)), options, { translucent });
  }
  return decideVariants(await encode(() => fromPixels(pixels)), options, { translucent });
}
