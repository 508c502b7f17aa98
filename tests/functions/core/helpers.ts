import assert from "node:assert/strict";
import sharp from "sharp";
import { PipelineError, processingOptionsSchema, type ErrorCode, type ProcessingOptions, type ProcessingOptionsInput } from "../../../functions/core";

/** Fully resolved options with a few overrides. */
export function optionsWith(overrides: ProcessingOptionsInput = {}): ProcessingOptions {
  return processingOptionsSchema.parse(overrides);
}

/** Asserts the promise rejects with a PipelineError of `code` whose message reads as advice, not a stack. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PipelineError, `expected a PipelineError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.doesNotMatch(error.message, /\n\s+at /, "no stack trace in the message");
    assert.ok(error.message.length > 20, "the message explains the problem");
    return true;
  });
}

/** RGB(A) of one pixel of any image sharp reads; `stored` reads the values as stored, not converted to sRGB through a profile. */
export async function pixelAt(image: Buffer, x: number, y: number, { stored = false } = {}): Promise<number[]> {
  const { data, info } = await sharp(image, { ignoreIcc: stored }).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + info.channels)];
}

export function assertColourNear(actual: number[], expected: { r: number; g: number; b: number }, tolerance: number, what: string): void {
  const [r, g, b] = actual;
  const worst = Math.max(Math.abs(r - expected.r), Math.abs(g - expected.g), Math.abs(b - expected.b));
  assert.ok(worst <= tolerance, `${what}: expected about ${JSON.stringify(expected)}, got [${actual.join(", ")}]`);
}

/** Tag numbers in IFD0 of a raw EXIF block (sharp's `metadata().exif`). */
export function ifd0Tags(exif: Buffer): number[] {
  const tiff = exif.subarray(0, 6).toString("latin1") === "Exif\0\0" ? exif.subarray(6) : exif;
  const little = tiff.toString("latin1", 0, 2) === "II";
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd0 = u32(4);
  return Array.from({ length: u16(ifd0) }, (_, i) => u16(ifd0 + 2 + i * 12));
}

/** EXIF tag of the pointer to the GPS IFD. */
export const GPS_IFD_POINTER = 0x8825;
