import { encodeIntermediate } from "./intermediate";
import type { ProcessingOptions, Rendition } from "./options";
import { decodeSource, resizePixels, widthBox, type Pixels } from "./pixels";
import type { Intermediate } from "./types";

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
}

/**
 * Decodes once and cascades through the renditions, largest first.
 * @param onRendered called as soon as each rendition's pixels exist (largest first), so callers can start encoding early
 * @returns the renditions in configuration order
 * @throws {PipelineError} CORRUPT_IMAGE when the upload cannot be decoded; TOO_MANY_PIXELS
 */
export async function renderRenditions(
  input: Buffer,
  options: ProcessingOptions,
  onRendered?: (rendered: RenderedRendition) => void,
): Promise<RenderedRendition[]> {
  const largestFirst = [...options.renditions].sort((a, b) => b.width - a.width);
  let current = await decodeSource(input, options, widthBox(largestFirst[0].width));
  const byName = new Map<string, RenderedRendition>();
  for (const rendition of largestFirst) {
    current = await resizePixels(current, widthBox(rendition.width));
    const rendered = { rendition, pixels: current };
    byName.set(rendition.name, rendered);
    onRendered?.(rendered);
  }
  return options.renditions.map((rendition) => byName.get(rendition.name) as RenderedRendition);
}

/**
 * Resize step: one lossless intermediate per configured rendition.
 * @example
 * const items = await resizeImage(upload, options); // [{ name: "thumb", kind: "rendition", width: 320, ... }]
 * @throws {PipelineError} CORRUPT_IMAGE when the upload cannot be decoded; TOO_MANY_PIXELS
 */
export async function resizeImage(input: Buffer, options: ProcessingOptions): Promise<Intermediate[]> {
  const rendered = await renderRenditions(input, options);
  return Promise.all(
    rendered.map(async ({ rendition, pixels }) => ({
      name: rendition.name,
      kind: "rendition" as const,
      width: pixels.width,
      height: pixels.height,
      data: await encodeIntermediate(pixels),
    })),
  );
}
