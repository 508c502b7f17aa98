import { PipelineError } from "./errors";

/**
 * The one place where sharp/libvips failures become PipelineErrors. Callers
 * say what they were doing; the user gets a sentence with the problem and the
 * way out, the libvips reason goes to `details.reason` (first line only, no stack).
 */

const MAX_REASON = 200;

/** First line of a libvips message, without the loader prefix noise, bounded. */
export function sharpReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split("\n").find((line) => line.trim().length > 0) ?? "unknown error";
  return firstLine.trim().slice(0, MAX_REASON);
}

/**
 * @param error what sharp threw (or a PipelineError, returned unchanged)
 * @param doing what the core was doing, e.g. "decoding the upload", "encoding thumb as webp"
 * @param limits the limits in force, quoted in the message when one was hit
 */
export function fromSharpError(error: unknown, doing: string, limits?: { maxPixels?: number }): PipelineError {
  if (error instanceof PipelineError) return error;
  const reason = sharpReason(error);
  const details = { reason, doing };
  const cause = { cause: error };

  if (/exceeds pixel limit/i.test(reason)) {
    const limit = limits?.maxPixels;
    return new PipelineError(
      "TOO_MANY_PIXELS",
      `The image has more pixels than the limit${limit ? ` of ${limit} (limits.maxPixels)` : ""} while ${doing}; downscale it before uploading or raise limits.maxPixels.`,
      { ...details, limit },
      cause,
    );
  }
  if (/^Expected .+ but received/.test(reason) || /^Unsupported output format/i.test(reason)) {
    // sharp's parameter checks: a bug in the core, not a property of the image.
    return new PipelineError("INTERNAL", `The image core passed sharp an invalid parameter while ${doing}; this is a bug, please report it.`, details, cause);
  }
  if (/out of memory|memory allocation failed|cannot allocate/i.test(reason)) {
    return new PipelineError("INTERNAL", `Ran out of memory while ${doing}; give the function more memory or lower limits.maxPixels.`, details, cause);
  }
  if (/too large for the \w+ format|image too large|exceeds.*maximum/i.test(reason)) {
    return new PipelineError("TOO_LARGE", `The output is too large for its format while ${doing} (${reason}); use smaller renditions or a different format.`, details, cause);
  }
  if (/timeout/i.test(reason)) {
    return new PipelineError("TIMEOUT", `Timed out while ${doing}; give the function more time or memory.`, details, cause);
  }
  return new PipelineError(
    "CORRUPT_IMAGE",
    `The image could not be decoded while ${doing} (${reason}); the file is truncated, damaged or not really an image. Re-export it from the original and upload it again.`,
    details,
    cause,
  );
}

/** Runs a sharp operation and maps any failure with `fromSharpError`. */
export async function guardSharp<T>(doing: string, run: () => Promise<T>, limits?: { maxPixels?: number }): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw fromSharpError(error, doing, limits);
  }
}
