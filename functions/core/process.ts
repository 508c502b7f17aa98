import { configuredEffects, PLACEHOLDER_SIZE, PREVIEW_SIZE, renderEffects, renderPlaceholder, renderPreviews } from "./filters";
import { decideAcrossRenditions, decideVariants, encodeDecided, type Candidate, type ChosenImage, type Decision, type SkippedVariant } from "./optimize";
import type { OutputFormat, ProcessingOptions } from "./options";
import { decodeSource, resizePixels, squareBox, widthBox, type Pixels } from "./pixels";
import { renderRenditions, type RenderedRendition } from "./resize";
import type { CropBox, FocalPoint, ImageInfo, Placeholder, Previews } from "./types";
import { validateImage } from "./validate";
import { renderAnimatedRenditions } from "./animation";
import type { PreparedWatermark } from "./watermark";

/**
 * Everything in one process, for the benchmark, the demo and small deployments:
 * validate → renditions + effects → encodes, with decoded pixels passed in
 * memory. The upload is decoded once; effects and the placeholder are cut from the
 * renditions when one is large enough. Encodes start as soon as their pixels
 * exist and run concurrently, and Optimize's choice (`decideVariants`) is made per image, then
 * across the renditions of one shape (`decideAcrossRenditions`).
 *
 * The workflow steps use the same pieces split in two: `encodeRenditions` (Resize: one
 * decode, renditions, placeholder and previews, encoded and chosen) and `encodeEffects`
 * (ApplyFilters: one shrink-on-load decode at filterWidth, effects encoded and chosen).
 */

/** A file to store: an encoded, chosen image, with what it is and (crops) where it came from. */
export interface OutputFile extends ChosenImage {
  kind: "rendition" | "effect";
  crop?: CropBox;
}

/** A file left out by the choice, with what it would have been. */
export interface SkippedFile extends SkippedVariant {
  kind: "rendition" | "effect";
}

export interface EncodedOutputs {
  files: OutputFile[];
  skipped: SkippedFile[];
}

export interface ProcessedImage {
  info: ImageInfo;
  outputs: OutputFile[];
  skipped: SkippedFile[];
  placeholder?: Placeholder;
  previews?: Previews;
}

/**
 * @example
 * const { info, outputs, placeholder } = await processImage(upload, defaultProcessingOptions());
 * // outputs: thumb/medium/large × webp/jpeg, in configuration order
 * @param watermark the decoded mark (`prepareWatermark`), when `watermark` is configured
 * @throws {PipelineError} any validation code; CORRUPT_IMAGE when the pixel data cannot be decoded
 */
export async function processImage(input: Buffer, options: ProcessingOptions, focal?: FocalPoint, watermark?: PreparedWatermark): Promise<ProcessedImage> {
  const info = await validateImage(input, options);
  if (info.animated && options.animated === "keep") return processAnimated(input, info, options, watermark, focal);
  const pending = new Pending(options);
  const { renditions, placeholder, previews } = await renderAndEncodeRenditions(input, options, pending, focal, watermark);
  const effects = configuredEffects(options);
  if (effects.length > 0) {
    const effectBase = await filterBase(input, options, renditions);
    for (const { name, pixels } of await renderEffects(effectBase, effects, watermark)) pending.encode("effect", name, pixels);
  }
  const { files, skipped } = await pending.settle(effects);
  return { info, outputs: files, skipped, ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}

/**
 * Resize's part: one decode, the renditions (encoded, chosen), and the placeholder and
 * previews cut from the smallest rendition large enough for them.
 * @throws {PipelineError} CORRUPT_IMAGE when the upload cannot be decoded; TOO_MANY_PIXELS
 */
export async function encodeRenditions(input: Buffer, options: ProcessingOptions, focal?: FocalPoint, watermark?: PreparedWatermark): Promise<EncodedOutputs & { placeholder?: Placeholder; previews?: Previews }> {
  const pending = new Pending(options);
  const { placeholder, previews } = await renderAndEncodeRenditions(input, options, pending, focal, watermark);
  return { ...(await pending.settle([])), ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}

/**
 * ApplyFilters' part: the upload decoded straight to filterWidth (JPEG/WebP shrink-on-load
 * in the same pipeline), each configured effect encoded and chosen. Nothing to do, and no
 * decode, without effects.
 * @throws {PipelineError} CORRUPT_IMAGE when the upload cannot be decoded; TOO_MANY_PIXELS
 */
export async function encodeEffects(input: Buffer, options: ProcessingOptions, watermark?: PreparedWatermark): Promise<EncodedOutputs> {
  const effects = configuredEffects(options);
  if (effects.length === 0) return { files: [], skipped: [] };
  const pending = new Pending(options);
  const base = await decodeSource(input, options, widthBox(options.filterWidth));
  for (const { name, pixels } of await renderEffects(base, effects, watermark)) pending.encode("effect", name, pixels);
  return pending.settle(effects);
}

/** Encodes started as soon as their pixels exist, collected in configuration order. */
class Pending {
  private readonly started = new Map<string, Promise<Decision>>();
  private readonly crops = new Map<string, CropBox>();
  constructor(private readonly options: ProcessingOptions) {}

  encode(kind: OutputFile["kind"], name: string, pixels: Pixels, crop?: CropBox): void {
    const decided = encodeDecided(pixels, name, `${kind} ${name}`, this.options);
    decided.catch(() => undefined); // awaited in settle; this only stops an early failure counting as unhandled
    this.started.set(`${kind}:${name}`, decided);
    if (crop) this.crops.set(`${kind}:${name}`, crop);
  }

  async settle(effects: readonly string[]): Promise<EncodedOutputs> {
    const order = [...this.options.renditions.map((r) => ["rendition", r.name] as const), ...effects.map((name) => ["effect", name] as const)].filter(([kind, name]) => this.started.has(`${kind}:${name}`));
    const decisions = await Promise.all(order.map(([kind, name]) => this.started.get(`${kind}:${name}`) as Promise<Decision>));
    const files: OutputFile[] = [];
    const skipped: SkippedFile[] = [];
    decisions.forEach((decision, i) => {
      const [kind, name] = order[i];
      const crop = this.crops.get(`${kind}:${name}`);
      files.push(...decision.chosen.map((file) => ({ ...file, kind, ...(crop ? { crop } : {}) })));
      skipped.push(...decision.skipped.map((file) => ({ ...file, kind })));
    });
    return decideAcrossRenditions(files, skipped, this.options);
  }
}

async function renderAndEncodeRenditions(
  input: Buffer,
  options: ProcessingOptions,
  pending: Pending,
  focal?: FocalPoint,
  watermark?: PreparedWatermark,
): Promise<{ renditions: RenderedRendition[]; placeholder?: Placeholder; previews?: Previews }> {
  // Each rendition's `level` stays unmarked: the placeholder, previews and effects start from it.
  const renditions = await renderRenditions(input, options, ({ rendition, pixels, crop }) => pending.encode("rendition", rendition.name, pixels, crop), focal, watermark);
  const [placeholder, previews] = await Promise.all([
    options.filters.includes("placeholder") ? renderPlaceholder(placeholderBase(renditions)) : undefined,
    options.placeholders.length > 0 ? renderPreviews(previewBase(renditions), options.placeholders) : undefined,
  ]);
  return { renditions, ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}

/** The smallest whole-image level the placeholder can be cut from. */
function placeholderBase(renditions: RenderedRendition[]): Pixels {
  const smallestFirst = renditions.map((r) => r.level).sort((a, b) => a.width - b.width);
  return smallestFirst.find((p) => p.width >= PLACEHOLDER_SIZE || p.height >= PLACEHOLDER_SIZE) ?? smallestFirst[smallestFirst.length - 1];
}

/** The smallest whole-image level the previews can be computed from (ThumbHash wants up to 100 px). */
function previewBase(renditions: RenderedRendition[]): Pixels {
  const smallestFirst = renditions.map((r) => r.level).sort((a, b) => a.width - b.width);
  return smallestFirst.find((p) => p.width >= PREVIEW_SIZE || p.height >= PREVIEW_SIZE) ?? smallestFirst[smallestFirst.length - 1];
}

/** The pixels effects start from (filterWidth): the smallest rendition that is at least as large, else one more decode. */
async function filterBase(input: Buffer, options: ProcessingOptions, renditions: RenderedRendition[]): Promise<Pixels> {
  const smallestFirst = renditions.map((r) => r.level).sort((a, b) => a.width - b.width);
  const largest = smallestFirst[smallestFirst.length - 1];
  // A rendition smaller than filterWidth but equal to the source (never enlarged) also serves.
  const sourceWidth = largest.width < options.renditions.reduce((max, r) => Math.max(max, r.width), 0) ? largest.width : Infinity;
  const target = Math.min(options.filterWidth, sourceWidth);
  const from = smallestFirst.find((p) => p.width >= target);
  return from ? resizePixels(from, widthBox(options.filterWidth)) : decodeSource(input, options, widthBox(options.filterWidth));
}

/**
 * `animated: keep`: renditions stay animated (./animation.ts); effects, the placeholder and the
 * previews are stills of the first frame, as the workflow's Resize and ApplyFilters render them.
 */
async function processAnimated(input: Buffer, info: ImageInfo, options: ProcessingOptions, watermark: PreparedWatermark | undefined, focal: FocalPoint | undefined): Promise<ProcessedImage> {
  const [renditions, effects] = await Promise.all([encodeAnimatedRenditions(input, options, watermark, focal), encodeEffects(input, options, watermark)]);
  const { placeholder, previews } = renditions;
  return { info, outputs: [...renditions.files, ...effects.files], skipped: [...renditions.skipped, ...effects.skipped], ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}

/**
 * Resize's part for an animated upload with `animated: keep`: the animated renditions (WebP, and
 * GIF in JPEG's place; no AVIF), chosen as stills are (a WebP larger than the GIF is not stored
 * unless `optimize.keepLarger`, nor a file another rendition's file dominates), and the
 * placeholder and previews from the first frame.
 * @throws {PipelineError} CORRUPT_IMAGE when the upload cannot be decoded; TOO_MANY_PIXELS
 */
export async function encodeAnimatedRenditions(
  input: Buffer,
  options: ProcessingOptions,
  watermark?: PreparedWatermark,
  focal?: FocalPoint,
): Promise<EncodedOutputs & { placeholder?: Placeholder; previews?: Previews }> {
  const wantsPlaceholder = options.filters.includes("placeholder");
  const wantsPreviews = options.placeholders.length > 0;
  const [animated, base] = await Promise.all([
    renderAnimatedRenditions(input, options, watermark, focal),
    wantsPlaceholder || wantsPreviews ? decodeSource(input, options, squareBox(wantsPreviews ? PREVIEW_SIZE : PLACEHOLDER_SIZE)) : undefined,
  ]);
  const [placeholder, previews] = await Promise.all([
    base && wantsPlaceholder ? renderPlaceholder(base) : undefined,
    base && wantsPreviews ? renderPreviews(base, options.placeholders) : undefined,
  ]);
  // A GIF stands in JPEG's place, and a WebP in AVIF's when AVIF is the only format (./animation.ts).
  const slotOf = (format: string): OutputFormat => (format === "gif" ? "jpeg" : options.formats.includes(format as OutputFormat) ? (format as OutputFormat) : "avif");
  const files: OutputFile[] = [];
  const skipped: SkippedFile[] = [];
  for (const rendition of options.renditions) {
    const candidates = animated.filter((image) => image.name === rendition.name).map((image): Candidate => ({ ...image, slot: slotOf(image.format), lossless: false }));
    // The GIF stands in for the WebP as a JPEG does for a still (it keeps transparency, on/off only).
    const decision = decideVariants(candidates, { formats: [...new Set(candidates.map((c) => c.slot))], optimize: options.optimize });
    files.push(...decision.chosen.map((file): OutputFile => ({ ...file, kind: "rendition" })));
    skipped.push(...decision.skipped.map((file): SkippedFile => ({ ...file, kind: "rendition" })));
  }
  return { ...decideAcrossRenditions(files, skipped, options), ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}
