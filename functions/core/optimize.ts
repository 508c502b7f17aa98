import sharp from "sharp";
import type { JpegOptions, Sharp, WebpOptions } from "sharp";
import { encodeIntermediate, intermediateSource, readIntermediateHeader } from "./intermediate";
import type { OutputFormat, ProcessingOptions, Rendition } from "./options";
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

/** mozjpeg (its quantisation tables and deringing) with the two costly searches as configured (#13). */
export const jpegSettings = (options: ProcessingOptions): JpegOptions => ({
  quality: options.quality.jpeg,
  mozjpeg: true,
  optimiseScans: options.optimize.jpegScanSearch,
  trellisQuantisation: options.optimize.jpegTrellis,
});

/** Lossy at the configured quality, or lossless; at the configured effort either way. */
export const webpSettings = (options: ProcessingOptions, lossless = false): WebpOptions =>
  lossless ? { lossless: true, effort: options.webpEffort } : { quality: options.quality.webp, effort: options.webpEffort };

function encoder(image: Sharp, variant: Variant, facts: SourceFacts, options: ProcessingOptions): Sharp {
  if (options.keepMetadata !== "none" && facts.icc) image.keepIccProfile();
  if (options.keepMetadata === "icc-copyright" && facts.rights) {
    const { copyright, artist } = facts.rights;
    image.withExif({ IFD0: { ...(copyright ? { Copyright: copyright } : {}), ...(artist ? { Artist: artist } : {}) } });
  }
  const hasAlpha = facts.channels === 2 || facts.channels === 4;
  switch (variant.format) {
    case "jpeg":
      return (hasAlpha ? image.flatten({ background: JPEG_BACKGROUND }) : image).jpeg(jpegSettings(options));
    case "webp":
      return image.webp(webpSettings(options, variant.lossless));
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

/**
 * Why a file was not stored: larger than the JPEG slot's file (a PNG there, or an animation's GIF),
 * or than its lossless/lossy alternative; or another rendition of the same shape has a file in the
 * same format that brings as much (`same-as-smaller-rendition`: same pixel size and bytes) or more
 * (`dominated-by-rendition`: at least its pixel size in no more bytes).
 */
export type SkipReason =
  | "larger-than-jpeg"
  | "larger-than-png"
  | "larger-than-gif"
  | "larger-than-lossless"
  | "larger-than-lossy"
  | "same-as-smaller-rendition"
  | "dominated-by-rendition";

export interface ChosenImage extends Candidate {
  chosen: ChoiceReason;
}

/** A stored file of the same image kind: its rendition or effect name and its format (one file per pair). */
export interface FileRef {
  name: string;
  format: StoredFormat;
}

export interface SkippedVariant {
  name: string;
  slot: OutputFormat;
  format: StoredFormat;
  lossless: boolean;
  bytes: number;
  reason: SkipReason;
  /** The stored file that serves in this one's place (of the same kind). */
  servedBy: FileRef;
}

export interface Decision {
  chosen: ChosenImage[];
  skipped: SkippedVariant[];
}

const refOf = (file: { name: string; format: StoredFormat }): FileRef => ({ name: file.name, format: file.format });

const skip = (candidate: Candidate, reason: SkipReason, servedBy: FileRef): SkippedVariant => ({
  name: candidate.name,
  slot: candidate.slot,
  format: candidate.format,
  lossless: candidate.lossless,
  bytes: candidate.data.length,
  reason,
  servedBy,
});

/**
 * Optimize decides (#14.7), for one image's encodes: per configured format the smaller of its
 * lossy file and a lossless alternative (graphics only); then a WebP/AVIF larger than the
 * JPEG slot's file (JPEG, PNG, or an animation's GIF) is dropped unless `keepLarger`, since the
 * `<img>` fallback already serves every browser in fewer bytes. The JPEG slot is kept here (only
 * `decideAcrossRenditions` may drop it). A `translucent` image is compared only with a PNG in that
 * slot (a JPEG loses its alpha). Pure: no encode happens here.
 * @returns the files to store, in configured format order, and what was left out, why, and which stored file serves it
 */
export function decideVariants(candidates: readonly Candidate[], options: Pick<ProcessingOptions, "formats"> & { optimize: Pick<ProcessingOptions["optimize"], "keepLarger"> }, { translucent = false } = {}): Decision {
  const winners = new Map<OutputFormat, { best: ChosenImage; rest: Candidate[] }>();
  for (const slot of options.formats) {
    const [best, ...rest] = candidates.filter((c) => c.slot === slot).sort((a, b) => a.data.length - b.data.length || Number(a.lossless) - Number(b.lossless));
    if (best) winners.set(slot, { best: { ...best, chosen: best.lossless ? "lossless-smaller" : slot === "jpeg" ? "fallback" : "configured" }, rest });
  }
  const jpegSlot = winners.get("jpeg")?.best;
  // A translucent image's JPEG is flattened on white: it does not stand in for the formats that keep alpha.
  const reference = translucent ? (jpegSlot?.format === "png" ? jpegSlot : undefined) : jpegSlot;
  // Per slot the file that is stored for it: its winner, or the reference when the winner is larger.
  const stored = new Map<OutputFormat, ChosenImage>();
  for (const [slot, { best: winner }] of winners) {
    if (!reference || slot === "jpeg" || winner.data.length <= reference.data.length) {
      if (reference && slot !== "jpeg" && winner.chosen === "configured") winner.chosen = "smallest";
      stored.set(slot, winner);
    } else if (options.optimize.keepLarger) {
      winner.chosen = "kept-larger";
      stored.set(slot, winner);
    } else stored.set(slot, reference);
  }
  const chosen: ChosenImage[] = [];
  const skipped: SkippedVariant[] = [];
  for (const [slot, { best, rest }] of winners) {
    const served = refOf(stored.get(slot) as ChosenImage);
    for (const loser of rest) skipped.push(skip(loser, best.lossless ? "larger-than-lossless" : "larger-than-lossy", served));
  }
  for (const [slot, { best }] of winners) {
    if (stored.get(slot) === best) chosen.push(best);
    else skipped.push(skip(best, `larger-than-${(reference as ChosenImage).format as "jpeg" | "png" | "gif"}`, refOf(reference as ChosenImage)));
  }
  return { chosen, skipped };
}

/**
 * What makes renditions the same picture at different sizes: all `inside` renditions show the
 * whole image; `cover`/`contain` ones share a shape with one aspect ratio, fit and position.
 * Responsive markup groups its sets by the same key.
 * @example renditionShape({ name: "square", width: 300, height: 300, fit: "cover", position: "attention" }) // "cover:1/1:attention"
 */
export function renditionShape(rendition: Pick<Rendition, "width" | "height" | "fit" | "position">): string {
  if (rendition.fit === "inside") return "original";
  const height = rendition.height ?? rendition.width;
  const divisor = gcd(rendition.width, height);
  return `${rendition.fit}:${rendition.width / divisor}/${height / divisor}:${rendition.position}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Optimize decides across renditions (#14.7): among the stored renditions of one shape, a file
 * is dominated when another file of the same format and slot has at least its width and height
 * in no more bytes; it is not stored, and the dominating file serves its rendition. Resize never
 * enlarges, so an upload narrower than several renditions gives them the same pixels: the
 * smallest rendition's file is kept (`same-as-smaller-rendition`) and the others point at it.
 * Skipped files that pointed at a file dropped here are pointed at its server. Effects are left
 * alone (each is a different picture); `optimize.keepLarger` keeps everything.
 * @returns the files still stored, in their order, and every skipped file (the new ones last)
 */
export function decideAcrossRenditions<F extends ChosenImage & { kind: string }, S extends SkippedVariant & { kind: F["kind"] }>(
  files: readonly F[],
  skipped: readonly S[],
  options: Pick<ProcessingOptions, "renditions"> & { optimize: Pick<ProcessingOptions["optimize"], "keepLarger"> },
): { files: F[]; skipped: S[] } {
  if (options.optimize.keepLarger) return { files: [...files], skipped: [...skipped] };
  // Smaller configured renditions first: they win exact ties.
  const order = new Map([...options.renditions].map((r, i) => [r.name, { shape: renditionShape(r), rank: r.width * options.renditions.length + i }]));
  const group = (file: F) => `${order.get(file.name)?.shape} ${file.slot} ${file.format}`;
  const rank = (file: F) => order.get(file.name)?.rank ?? 0;
  const dominates = (b: F, a: F) =>
    b !== a &&
    b.width >= a.width &&
    b.height >= a.height &&
    b.data.length <= a.data.length &&
    (b.width > a.width || b.height > a.height || b.data.length < a.data.length || rank(b) < rank(a));
  const renditions = files.filter((file) => file.kind === "rendition" && order.has(file.name));
  const servers = new Map<F, F>();
  for (const file of renditions) {
    // Domination is transitive, so an undominated file that dominates this one exists when any does: the closest such serves it.
    const better = renditions.filter((other) => group(other) === group(file) && dominates(other, file));
    const server = better
      .filter((b) => !better.some((c) => dominates(c, b)))
      .sort((a, b) => a.width - b.width || a.height - b.height || a.data.length - b.data.length || rank(a) - rank(b))[0];
    if (server) servers.set(file, server);
  }
  if (servers.size === 0) return { files: [...files], skipped: [...skipped] };
  const serverOf = (kind: string, ref: FileRef): FileRef => {
    for (const [dropped, server] of servers) if (dropped.kind === kind && dropped.name === ref.name && dropped.format === ref.format) return refOf(server);
    return ref;
  };
  const retargeted = skipped.map((entry) => ({ ...entry, servedBy: serverOf(entry.kind, entry.servedBy) }));
  const added = [...servers].map(([file, server]) => {
    const same = file.width === server.width && file.height === server.height && file.data.length === server.data.length;
    return { ...skip(file, same ? "same-as-smaller-rendition" : "dominated-by-rendition", refOf(server)), kind: file.kind } as S;
  });
  return { files: files.filter((file) => !servers.has(file)), skipped: [...retargeted, ...added] };
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
