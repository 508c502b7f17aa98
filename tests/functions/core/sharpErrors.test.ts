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
});
