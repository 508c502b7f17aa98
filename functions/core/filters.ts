import type { Matrix3x3, Sharp } from "sharp";
import { encodeIntermediate } from "./intermediate";
import type { FilterName, ProcessingOptions } from "./options";
import { decodeSource, fromPixels, squareBox, transformPixels, widthBox, type Pixels } from "./pixels";
import { guardSharp } from "./sharpErrors";
import type { Intermediate, Placeholder } from "./types";

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

/** Renders each effect from the same base pixels. */
export async function renderEffects(base: Pixels, effects: readonly EffectName[]): Promise<{ name: EffectName; pixels: Pixels }[]> {
  return Promise.all(
    effects.map(async (name) => ({ name, pixels: await transformPixels(base, `applying the ${name} filter`, (image) => EFFECTS[name](image, base)) })),
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

/**
 * ApplyFilters step: one lossless intermediate (kind "effect", named after the
 * filter) per configured effect, plus the placeholder when configured.
 * With only a placeholder configured the upload is decoded straight to 32 px
 * (JPEG shrink-on-load), which costs a fraction of a full decode.
 * @example
 * const { effects, placeholder } = await filterImage(upload, options);
 * @throws {PipelineError} CORRUPT_IMAGE when the upload cannot be decoded; TOO_MANY_PIXELS
 */
export async function filterImage(input: Buffer, options: ProcessingOptions): Promise<{ effects: Intermediate[]; placeholder?: Placeholder }> {
  const effects = configuredEffects(options);
  const wantsPlaceholder = options.filters.includes("placeholder");
  if (effects.length === 0 && !wantsPlaceholder) return { effects: [] };

  const base = await decodeSource(input, options, effects.length > 0 ? widthBox(options.filterWidth) : squareBox(PLACEHOLDER_SIZE));
  const [rendered, placeholder] = await Promise.all([renderEffects(base, effects), wantsPlaceholder ? renderPlaceholder(base) : undefined]);
  const intermediates = await Promise.all(
    rendered.map(async ({ name, pixels }) => ({ name, kind: "effect" as const, width: pixels.width, height: pixels.height, data: await encodeIntermediate(pixels) })),
  );
  return placeholder ? { effects: intermediates, placeholder } : { effects: intermediates };
}
