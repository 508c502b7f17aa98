/**
 * The image core: Buffer in, Buffer out, sharp and nothing cloud. The workflow
 * steps call validateImage → encodeRenditions ∥ encodeEffects (encoded, chosen files);
 * processImage does all of it in one process. resizeImage/filterImage/optimizeImage are
 * the earlier design through lossless intermediates, kept for the benchmark's before/after.
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
export { filterImage, configuredEffects, PLACEHOLDER_SIZE, type EffectName } from "./filters";
export {
  optimizeImage,
  decideVariants,
  decideAcrossRenditions,
  renditionShape,
  encodeDecided,
  isGraphicLike,
  OUTPUT_TYPES,
  STORED_TYPES,
  ENCODED_TYPES,
  jpegSettings,
  webpSettings,
  GRAPHIC_COVERAGE,
  GRAPHIC_TOP_COLOURS,
  type Candidate,
  type ChoiceReason,
  type ChosenImage,
  type Decision,
  type FileRef,
  type SkippedVariant,
  type SkipReason,
  type StoredFormat,
} from "./optimize";
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
export { processImage, encodeRenditions, encodeEffects, encodeAnimatedRenditions, type ProcessedImage, type OutputFile, type SkippedFile, type EncodedOutputs } from "./process";
export { MAX_DIMENSION, type Pixels } from "./pixels";
export type { Rights } from "./exif";
