import sharp from "sharp";
import type { Matrix3x3, Sharp } from "sharp";
import { encodeIntermediate } from "./intermediate";
import type { FilterName, PlaceholderKind, ProcessingOptions } from "./options";
import { decodeSource, fromPixels, squareBox, transformPixels, widthBox, type Pixels } from "./pixels";
import { guardSharp } from "./sharpErrors";
import { encode as encodeBlurhash } from "blurhash";
import { rgbaToThumbHash } from "thumbhash";
import type { Intermediate, Placeholder, Previews } from "./types";
import { watermarkPixels, type PreparedWatermark } from "./watermark";

/**
 * Effects rendered at `options.filterWidth` (fit inside, never enlarge), and
 * the placeholder: a tiny blurred WebP inlined as a data URI.
 */

export type EffectName = Exclude<FilterName, "placeholder">;

/** Longest side of the placeholder: enough for a blurred preview, small enough to inline (< 1 KB). */
export const PLACEHOLDER_SIZE = 32;
const PLACEHOLDER_QUALITY = 50;

/** The classic sepia tone matrix (Microsoft's), applied to the colour bands; alpha is kept. */
const SEPIA: Matrix3x3 = [
  [0.393, 0.769, 0.189],
  [0.349, 0.686, 0.168],
  [0.272, 0.534, 0.131],
];

/** Rec. 601 luma in all three bands: greyscale that, unlike sharp's `grayscale()`, keeps alpha. */
const LUMA: Matrix3x3 = [
  [0.299, 0.587, 0.114],
  [0.299, 0.587, 0.114],
  [0.299, 0.587, 0.114],
];

const EFFECTS: Record<EffectName, (image: Sharp, pixels: Pixels) => Sharp> = {
  grayscale: (image) => image.recomb(LUMA),
  sepia: (image) => image.recomb(SEPIA),
  // Scales with the image so the look does not depend on filterWidth: sigma 8 at 1024 px.
  blur: (image, pixels) => image.blur(Math.max(0.5, Math.max(pixels.width, pixels.height) / 128)),
  sharpen: (image) => image.sharpen({ sigma: 1 }),
  normalize: (image) => image.normalise(),
};

export function isEffect(filter: FilterName): filter is EffectName {
  return filter !== "placeholder";
}

/** The configured effects, each once, in configuration order. */
export function configuredEffects(options: ProcessingOptions): EffectName[] {
  return [...new Set(options.filters.filter(isEffect))];
}

/** Renders each effect from the same base pixels, then the watermark (when given) on top of it. */
export async function renderEffects(base: Pixels, effects: readonly EffectName[], watermark?: PreparedWatermark): Promise<{ name: EffectName; pixels: Pixels }[]> {
  return Promise.all(
    effects.map(async (name) => {
      const pixels = await transformPixels(base, `applying the ${name} filter`, (image) => EFFECTS[name](image, base));
      return { name, pixels: await watermarkPixels(pixels, watermark) };
    }),
  );
}

/**
 * A tiny blurred WebP of the pixels as a data URI (typically 150-400 bytes).
 * @throws {PipelineError} CORRUPT_IMAGE/INTERNAL when sharp fails
 */
export async function renderPlaceholder(pixels: Pixels): Promise<Placeholder> {
  const { data, info } = await guardSharp("rendering the placeholder", () =>
    fromPixels(pixels).resize(squareBox(PLACEHOLDER_SIZE)).blur(0.8).webp({ quality: PLACEHOLDER_QUALITY, alphaQuality: PLACEHOLDER_QUALITY }).toBuffer({ resolveWithObject: true }),
  );
  return { dataUri: `data:image/webp;base64,${data.toString("base64")}`, width: info.width, height: info.height, bytes: data.length };
}

/** Longest side the hashes and the dominant colour are computed from: ThumbHash takes images up to 100x100. */
export const PREVIEW_SIZE = 100;

/**
 * ThumbHash and BlurHash strings and the dominant colour of the pixels (each only when
 * asked for): a few hundred microseconds from a 100 px image.
 * @throws {PipelineError} INTERNAL when sharp fails
 */
export async function renderPreviews(pixels: Pixels, kinds: readonly PlaceholderKind[]): Promise<Previews> {
  const small = fromPixels(pixels).resize(squareBox(PREVIEW_SIZE)).toColourspace("srgb").ensureAlpha();
  const { data, info } = await guardSharp("rendering the previews", () => small.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true }));
  const previews: Previews = {};
  if (kinds.includes("thumbhash")) previews.thumbhash = Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString("base64");
  // 4x3 components (3x4 upright): the BlurHash authors' suggested detail for a photo.
  if (kinds.includes("blurhash")) previews.blurhash = encodeBlurhash(new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, info.width >= info.height ? 4 : 3, info.width >= info.height ? 3 : 4);
  if (kinds.includes("color")) {
    const { dominant } = await guardSharp("finding the dominant colour", () => sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).stats());
    previews.color = `#${[dominant.r, dominant.g, dominant.b].map((value) => value.toString(16).padStart(2, "0")).join("")}`;
  }
  return previews;
}

/**
 * ApplyFilters step: one lossless intermediate (kind "effect", named after the
 * filter) per configured effect, plus the placeholder when configured.
 * With only a placeholder configured the upload is decoded straight to 32 px
 * (JPEG shrink-on-load), which costs a fraction of a full decode.
 * @example
 * const { effects, placeholder } = await filterImage(upload, options);
 * @param watermark the decoded mark, composited onto effects (never the placeholder or previews)
 * @throws {PipelineError} CORRUPT_IMAGE when the upload cannot be decoded; TOO_MANY_PIXELS
 */
export async function filterImage(input: Buffer, options: ProcessingOptions, watermark?: PreparedWatermark): Promise<{ effects: Intermediate[]; placeholder?: Placeholder; previews?: Previews }> {
  const effects = configuredEffects(options);
  const wantsPlaceholder = options.filters.includes("placeholder");
  const wantsPreviews = options.placeholders.length > 0;
  if (effects.length === 0 && !wantsPlaceholder && !wantsPreviews) return { effects: [] };

  const box = effects.length > 0 ? widthBox(options.filterWidth) : squareBox(wantsPreviews ? PREVIEW_SIZE : PLACEHOLDER_SIZE);
  const base = await decodeSource(input, options, box);
  const [rendered, placeholder, previews] = await Promise.all([
    renderEffects(base, effects, watermark),
    wantsPlaceholder ? renderPlaceholder(base) : undefined,
    wantsPreviews ? renderPreviews(base, options.placeholders) : undefined,
  ]);
  const intermediates = await Promise.all(
    rendered.map(async ({ name, pixels }) => ({ name, kind: "effect" as const, width: pixels.width, height: pixels.height, data: await encodeIntermediate(pixels) })),
  );
  return { effects: intermediates, ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}
