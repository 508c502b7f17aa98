/**
 * The image core: Buffer in, Buffer out, sharp and nothing cloud. The workflow
 * steps call validateImage → resizeImage + filterImage → optimizeImage;
 * processImage does all of it in one process.
 *
 * No sharp globals are set here: `sharp.cache(false)` and `sharp.concurrency(1)`
 * made no measurable difference (`npm run bench`, "Settings"). What does matter
 * is the environment: MALLOC_ARENA_MAX=2 cut the core's peak RSS from 290 to
 * 185 MB on 12 MP images at the same speed: set it in the functions' environment.
 */

export * from "./errors";
export * from "./options";
export * from "./types";
export { validateImage } from "./validate";
export { resizeImage, renderRenditions, parseFocalPoint, type RenderedRendition } from "./resize";
export { filterImage, PLACEHOLDER_SIZE, type EffectName } from "./filters";
export { optimizeImage, OUTPUT_TYPES, ENCODED_TYPES } from "./optimize";
export { renderAnimatedRenditions, animatedFormats } from "./animation";
export { prepareWatermark, watermarkPixels, markPlacement, type PreparedWatermark, type PlacedMark } from "./watermark";
export {
  encodeIntermediate,
  decodeIntermediate,
  readIntermediateHeader,
  INTERMEDIATE_CONTENT_TYPE,
  INTERMEDIATE_EXTENSION,
  type IntermediateHeader,
} from "./intermediate";
export { processImage, type ProcessedImage } from "./process";
export { MAX_DIMENSION, type Pixels } from "./pixels";
export type { Rights } from "./exif";
