import { configuredEffects, PLACEHOLDER_SIZE, PREVIEW_SIZE, renderEffects, renderPlaceholder, renderPreviews } from "./filters";
import { encodePixels } from "./optimize";
import type { ProcessingOptions } from "./options";
import { decodeSource, resizePixels, widthBox, type Pixels } from "./pixels";
import { renderRenditions, type RenderedRendition } from "./resize";
import type { EncodedImage, FocalPoint, ImageInfo, Placeholder, Previews } from "./types";
import { validateImage } from "./validate";
import { renderAnimatedRenditions } from "./animation";
import { filterImage } from "./filters";
import { optimizeImage } from "./optimize";
import type { PreparedWatermark } from "./watermark";

/**
 * Everything in one process, for the benchmark, the demo and small deployments:
 * validate → renditions + effects → encodes, with decoded pixels passed in
 * memory (no intermediate encoding; the workflow steps use it between functions).
 * The upload is decoded once; effects and the placeholder are cut from the
 * renditions when one is large enough. Encodes start as soon as their pixels
 * exist and run concurrently.
 */

export interface ProcessedImage {
  info: ImageInfo;
  outputs: EncodedImage[];
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
  if (info.animated && options.animated === "keep") return processAnimated(input, info, options, watermark);
  const pending = new Map<string, Promise<EncodedImage[]>>();
  const encode = (key: string, pixels: Pixels, name: string, label: string) => {
    const encoded = encodePixels(pixels, name, label, options);
    encoded.catch(() => undefined); // awaited below; this only stops an early failure counting as unhandled
    pending.set(key, encoded);
  };

  const renditions = await renderRenditions(input, options, ({ rendition, pixels }) => encode(`rendition:${rendition.name}`, pixels, rendition.name, `rendition ${rendition.name}`), focal, watermark);

  const effects = configuredEffects(options);
  let placeholder: Placeholder | undefined;
  if (effects.length > 0 || options.filters.includes("placeholder")) {
    const [effectBase, placeholderBase] = await filterBases(input, options, renditions, effects.length > 0);
    const [rendered, renderedPlaceholder] = await Promise.all([
      renderEffects(effectBase, effects, watermark),
      options.filters.includes("placeholder") ? renderPlaceholder(placeholderBase) : undefined,
    ]);
    for (const { name, pixels } of rendered) encode(`effect:${name}`, pixels, name, `effect ${name}`);
    placeholder = renderedPlaceholder;
  }

  const previews = options.placeholders.length > 0 ? await renderPreviews(previewBase(renditions), options.placeholders) : undefined;

  const order = [...options.renditions.map((r) => `rendition:${r.name}`), ...effects.map((name) => `effect:${name}`)];
  const outputs = (await Promise.all(order.map((key) => pending.get(key) as Promise<EncodedImage[]>))).flat();
  return { info, outputs, ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}

/** The smallest whole-image level the previews can be computed from (ThumbHash wants up to 100 px). */
function previewBase(renditions: RenderedRendition[]): Pixels {
  const smallestFirst = renditions.map((r) => r.level).sort((a, b) => a.width - b.width);
  return smallestFirst.find((p) => p.width >= PREVIEW_SIZE || p.height >= PREVIEW_SIZE) ?? smallestFirst[smallestFirst.length - 1];
}

/**
 * The pixels effects start from (filterWidth) and the placeholder starts from:
 * the smallest rendition that is at least as large, else one more decode.
 */
async function filterBases(input: Buffer, options: ProcessingOptions, renditions: RenderedRendition[], wantsEffects: boolean): Promise<[Pixels, Pixels]> {
  const smallestFirst = renditions.map((r) => r.level).sort((a, b) => a.width - b.width);
  const largest = smallestFirst[smallestFirst.length - 1];
  const placeholderBase = smallestFirst.find((p) => p.width >= PLACEHOLDER_SIZE || p.height >= PLACEHOLDER_SIZE) ?? largest;
  if (!wantsEffects) return [placeholderBase, placeholderBase];
  // A rendition smaller than filterWidth but equal to the source (never enlarged) also serves.
  const sourceWidth = largest.width < options.renditions.reduce((max, r) => Math.max(max, r.width), 0) ? largest.width : Infinity;
  const target = Math.min(options.filterWidth, sourceWidth);
  const from = smallestFirst.find((p) => p.width >= target);
  const effectBase = from ? await resizePixels(from, widthBox(options.filterWidth)) : await decodeSource(input, options, widthBox(options.filterWidth));
  return [effectBase, placeholderBase];
}

/**
 * `animated: keep`: renditions stay animated (./animation.ts); effects, the placeholder and the
 * previews are stills of the first frame, as the workflow's ApplyFilters renders them.
 */
async function processAnimated(input: Buffer, info: ImageInfo, options: ProcessingOptions, watermark: PreparedWatermark | undefined): Promise<ProcessedImage> {
  const [renditions, filtered] = await Promise.all([renderAnimatedRenditions(input, options, watermark), filterImage(input, options, watermark)]);
  const effects = await Promise.all(filtered.effects.map((effect) => optimizeImage(effect.data, effect.name, "effect", options)));
  const { placeholder, previews } = filtered;
  return { info, outputs: [...renditions, ...effects.flat()], ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}
