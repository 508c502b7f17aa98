import sharp from "sharp";
import type { Metadata } from "sharp";
import { PipelineError } from "./errors";
import type { InputFormat, ProcessingOptions } from "./options";
import { sourceOptions } from "./pixels";
import { fromSharpError, sharpReason } from "./sharpErrors";
import { sniffFormat, UNDECODABLE_NAMES } from "./sniff";
import type { ImageInfo } from "./types";

/**
 * Validate reads the header only (sharp `metadata()`, ~0.3 ms for a 12 MP
 * JPEG) and checks it against `options.limits`. It does not decode pixels: a
 * file whose header is fine but whose pixel data is truncated or damaged passes
 * here and fails in Resize/ApplyFilters with CORRUPT_IMAGE (also permanent).
 * A decode check here would double the decode work of every good upload.
 */

/**
 * @example
 * const info = await validateImage(upload, defaultProcessingOptions());
 * // { format: "jpeg", width: 4000, height: 3000, frames: 1, ... }
 * @throws {PipelineError} EMPTY_INPUT, TOO_LARGE, UNSUPPORTED_FORMAT, TOO_MANY_PIXELS,
 *   TOO_MANY_FRAMES (also for any animation when `animated` is "reject", and for a kept animation
 *   over `limits.maxAnimatedPixels`), CORRUPT_IMAGE
 */
export async function validateImage(input: Buffer, options: ProcessingOptions): Promise<ImageInfo> {
  const { limits } = options;
  if (!Buffer.isBuffer(input) || input.length === 0) {
    throw new PipelineError("EMPTY_INPUT", "The upload is empty (0 bytes); upload the image file again.", { bytes: 0 });
  }
  if (input.length > limits.maxBytes) {
    throw new PipelineError(
      "TOO_LARGE",
      `The upload is ${input.length} bytes, over the limit of ${limits.maxBytes} bytes (limits.maxBytes); upload a smaller file or raise the limit.`,
      { bytes: input.length, limit: limits.maxBytes },
    );
  }
  rejectSniffed(input, limits.formats);

  const metadata = await readHeader(input, options);
  const format = inputFormat(metadata);
  if (format === undefined || !limits.formats.includes(format)) {
    const name = format ?? metadata.format;
    throw new PipelineError(
      "UNSUPPORTED_FORMAT",
      `The upload is ${name}, which is not an accepted format (limits.formats: ${limits.formats.join(", ")}); convert it to one of those.`,
      { format: name, allowed: limits.formats },
    );
  }

  const orientation = metadata.orientation && metadata.orientation >= 1 && metadata.orientation <= 8 ? metadata.orientation : undefined;
  const { width, height } = metadata.autoOrient ?? metadata;
  checkPixels(width, height, limits.maxPixels);

  const frames = Math.max(1, metadata.pages ?? 1);
  if (frames > limits.maxFrames) {
    throw new PipelineError(
      "TOO_MANY_FRAMES",
      `The image has ${frames} frames or pages, over the limit of ${limits.maxFrames} (limits.maxFrames); upload a shorter animation or a single image.`,
      { frames, limit: limits.maxFrames },
    );
  }
  const animated = isAnimated(format, frames, metadata);
  if (animated && options.animated === "keep") checkAnimatedPixels(width, height, frames, limits.maxAnimatedPixels);
  if (animated && options.animated === "reject") {
    throw new PipelineError(
      "TOO_MANY_FRAMES",
      `The image is animated (${frames} frames) and animated images are rejected (animated: "reject"); upload a still image or set animated to "first-frame".`,
      { frames, limit: 1, animated: true },
    );
  }

  return {
    format,
    width,
    height,
    ...(orientation ? { orientation } : {}),
    hasAlpha: metadata.hasAlpha,
    frames,
    ...(animated ? { animated: true } : {}),
    bytes: input.length,
    space: metadata.space,
  };
}

/** Refuses SVG (when not allowed) before any parser runs, and formats this build cannot decode. */
function rejectSniffed(input: Buffer, allowed: readonly InputFormat[]): void {
  const sniffed = sniffFormat(input);
  if (sniffed === undefined) return;
  if (sniffed === "svg") {
    if (allowed.includes("svg")) return;
    throw new PipelineError(
      "UNSUPPORTED_FORMAT",
      `The upload is SVG, which is not accepted (limits.formats: ${allowed.join(", ")}); rasterise it to PNG, or add "svg" to limits.formats if you trust its source.`,
      { format: "svg", allowed },
    );
  }
  if (sniffed === "heic") {
    // Decoded by libheif's WebAssembly build (./heic.ts) when accepted.
    if (allowed.includes("heif")) return;
    throw new PipelineError(
      "UNSUPPORTED_FORMAT",
      `The upload is HEIC, which is not accepted (limits.formats: ${allowed.join(", ")}); convert it to JPEG, or add "heif" to limits.formats.`,
      { format: "heif", allowed },
    );
  }
  throw new PipelineError(
    "UNSUPPORTED_FORMAT",
    `The upload is ${UNDECODABLE_NAMES[sniffed]}, which this pipeline cannot decode; convert it to JPEG, PNG, WebP or AVIF.`,
    { format: sniffed, allowed },
  );
}

/** sharp's header read, with the pixel limit applied by sharp itself (no pixel is decoded). */
async function readHeader(input: Buffer, options: ProcessingOptions): Promise<Metadata> {
  try {
    return await sharp(input, sourceOptions(options)).metadata();
  } catch (error) {
    const reason = sharpReason(error);
    if (/exceeds pixel limit/i.test(reason)) {
      throw await tooManyPixelsFromHeader(input, options.limits.maxPixels, error);
    }
    if (/unsupported image format/i.test(reason)) {
      throw new PipelineError(
        "CORRUPT_IMAGE",
        `The upload is not a recognisable image (no known format signature); it is damaged or not an image. Accepted formats: ${options.limits.formats.join(", ")}.`,
        { reason },
        { cause: error },
      );
    }
    throw fromSharpError(error, "reading the image header", options.limits);
  }
}

/** Re-reads the header without the limit only to say how large the image claims to be. */
async function tooManyPixelsFromHeader(input: Buffer, maxPixels: number, original: unknown): Promise<PipelineError> {
  const claimed = await sharp(input, { limitInputPixels: false })
    .metadata()
    .then(
      (metadata) => ({ width: metadata.width, height: metadata.height }),
      () => undefined,
    );
  if (!claimed) return fromSharpError(original, "reading the image header", { maxPixels });
  return tooManyPixels(claimed.width, claimed.height, maxPixels);
}

/** Every frame of a kept animation is decoded: the whole sequence is bounded, from the header alone. */
function checkAnimatedPixels(width: number, height: number, frames: number, maxAnimatedPixels: number): void {
  const pixels = width * height * frames;
  if (pixels <= maxAnimatedPixels) return;
  throw new PipelineError(
    "TOO_MANY_FRAMES",
    `The animation is ${width}x${height} with ${frames} frames (${pixels} pixels in all), over the limit of ${maxAnimatedPixels} (limits.maxAnimatedPixels); upload a shorter or smaller animation, raise the limit, or set animated to "first-frame".`,
    { width, height, frames, pixels, limit: maxAnimatedPixels },
  );
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) throw tooManyPixels(width, height, maxPixels);
}

function tooManyPixels(width: number, height: number, maxPixels: number): PipelineError {
  const pixels = width * height;
  return new PipelineError(
    "TOO_MANY_PIXELS",
    `The image is ${width}x${height} (${pixels} pixels), over the limit of ${maxPixels} pixels (limits.maxPixels); downscale it before uploading or raise the limit.`,
    { width, height, pixels, limit: maxPixels },
  );
}

/** sharp reports AVIF and HEIC both as "heif"; the compression tells them apart. */
function inputFormat(metadata: Metadata): InputFormat | undefined {
  switch (metadata.format) {
    case "jpeg":
    case "png":
    case "webp":
    case "gif":
    case "tiff":
    case "svg":
    case "jp2":
      return metadata.format;
    case "heif":
      return metadata.compression === "hevc" ? "heif" : "avif";
    default:
      return undefined;
  }
}

/** Frames of an animation; TIFF pages and HEIF image collections are not animations. */
export function isAnimated(format: InputFormat, frames: number, metadata: Metadata): boolean {
  if (frames <= 1) return false;
  return format === "gif" || format === "webp" || (Array.isArray(metadata.delay) && metadata.delay.length > 1);
}
