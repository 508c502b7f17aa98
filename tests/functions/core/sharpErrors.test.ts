import assert from "node:assert/strict";
import { PipelineError } from "../../../functions/core/errors";
import { fromSharpError, guardSharp, sharpReason } from "../../../functions/core/sharpErrors";

describe("sharp failures as pipeline errors", () => {
  it("keeps the first non-empty line of sharp's message, trimmed and at most 200 characters", () => {
    assert.equal(sharpReason(new Error("\n  VipsJpeg: Premature end of input file  \nvips2png: unable to write")), "VipsJpeg: Premature end of input file");
    assert.equal(sharpReason("a plain string"), "a plain string");
    assert.equal(sharpReason(new Error(" \n ")), "unknown error");
    assert.equal(sharpReason(new Error("x".repeat(300))).length, 200);
  });

  const cases: [string, string, boolean][] = [
    ["Input image exceeds pixel limit", "TOO_MANY_PIXELS", true],
    ["Expected positive integer for width but received 0 of type number", "INTERNAL", false],
    ["Unsupported output format bmp", "INTERNAL", false],
    ["vips_malloc: out of memory --- size == 100MB", "INTERNAL", false],
    ["Processed image is too large for the webp format", "TOO_LARGE", true],
    ["Image too large", "TOO_LARGE", true],
    ["heifsave: exceeds the maximum size", "TOO_LARGE", true],
    ["vips: timeout", "TIMEOUT", false],
    ["VipsJpeg: Premature end of input file", "CORRUPT_IMAGE", true],
  ];
  for (const [reason, code, permanent] of cases) {
    it(`maps "${reason}" to ${code}`, () => {
      const cause = new Error(reason);

      const error = fromSharpError(cause, "decoding the upload", { maxPixels: 1000 });

      assert.deepEqual([error.code, error.permanent], [code, permanent]);
      assert.match(error.message, /while decoding the upload/);
      assert.equal(error.details.reason, reason);
      assert.equal(error.details.doing, "decoding the upload");
      assert.equal(error.cause, cause);
    });
  }

  it("quotes the pixel limit when it is known, and not otherwise", () => {
    const withLimit = fromSharpError(new Error("Input image exceeds pixel limit"), "resizing", { maxPixels: 1000 });
    const without = fromSharpError(new Error("Input image exceeds pixel limit"), "resizing");

    assert.match(withLimit.message, /more pixels than the limit of 1000 \(limits\.maxPixels\) while resizing/);
    assert.equal(withLimit.details.limit, 1000);
    assert.match(without.message, /more pixels than the limit while resizing/);
  });

  it("returns a PipelineError unchanged", () => {
    const typed = new PipelineError("NOT_FOUND", "gone");

    assert.equal(fromSharpError(typed, "anything"), typed);
  });

  it("guards a sharp call: its value when it works, a mapped error when it throws", async () => {
    assert.equal(await guardSharp("encoding", async () => 42), 42);
    await assert.rejects(
      guardSharp("encoding thumb as webp", async () => {
        throw new Error("VipsJpeg: Corrupt JPEG data");
      }),
      (error: PipelineError) => error.code === "CORRUPT_IMAGE" && /while encoding thumb as webp/.test(error.message),
    );
  });

  it("words each mapped failure as a sentence with the way out", () => {
    const message = (reason: string, limits?: { maxPixels?: number }) => fromSharpError(new Error(reason), "encoding thumb as webp", limits).message;

    assert.equal(
      message("Input image exceeds pixel limit", { maxPixels: 1000 }),
      "The image has more pixels than the limit of 1000 (limits.maxPixels) while encoding thumb as webp; downscale it before uploading or raise limits.maxPixels.",
    );
    assert.equal(
      message("Input image exceeds pixel limit", {}),
      "The image has more pixels than the limit while encoding thumb as webp; downscale it before uploading or raise limits.maxPixels.",
    );
    assert.equal(message("Expected boolean for x but received 1"), "The image core passed sharp an invalid parameter while encoding thumb as webp; this is a bug, please report it.");
    assert.equal(message("cannot allocate 2 GB"), "Ran out of memory while encoding thumb as webp; give the function more memory or lower limits.maxPixels.");
    assert.equal(
      message("Processed image is too large for the webp format"),
      "The output is too large for its format while encoding thumb as webp (Processed image is too large for the webp format); use smaller renditions or a different format.",
    );
    assert.equal(message("operation timeout"), "Timed out while encoding thumb as webp; give the function more time or memory.");
    assert.equal(
      message("VipsJpeg: Premature end of input file"),
      "The image could not be decoded while encoding thumb as webp (VipsJpeg: Premature end of input file); the file is truncated, damaged or not really an image. Re-export it from the original and upload it again.",
    );
  });

  it("matches sharp's parameter errors only at the start of the reason, and memory and size phrases anywhere", () => {
    const code = (reason: string) => fromSharpError(new Error(reason), "resizing").code;

    assert.equal(code("libvips: Expected x but received y"), "CORRUPT_IMAGE", "not sharp's own parameter check");
    assert.equal(code("Memory allocation failed"), "INTERNAL");
    assert.equal(code("png: image too large"), "TOO_LARGE");
    assert.equal(code("gifsave: width exceeds the maximum of 65535"), "TOO_LARGE");
    assert.equal(code("UNSUPPORTED OUTPUT FORMAT jxl"), "INTERNAL", "any case");
  });
});
