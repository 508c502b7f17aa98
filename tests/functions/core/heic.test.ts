import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import { processImage, resizeImage, validateImage } from "../../../functions/core";
import { decodeHeic, isHeic } from "../../../functions/core/heic";
import { assertColourNear, optionsWith, pixelAt, rejectsWith } from "./helpers";

/** Committed HEIC files (no HEVC encoder is available as a package); tests/fixtures/heic/README.md says how they were made. */
const fixture = (name: string): Buffer => readFileSync(path.join(__dirname, "..", "..", "fixtures", "heic", name));

const RED = { r: 255, g: 0, b: 0 };
const GREEN = { r: 0, g: 255, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };

/** The same file with its primary item (`pitm`, version 0: a 16-bit item id) pointing at another image. */
function withPrimaryItem(heic: Buffer, itemId: number): Buffer {
  const copy = Buffer.from(heic);
  const at = copy.indexOf("pitm");
  assert.equal(copy[at + 4], 0, "a version-0 pitm box");
  copy.writeUInt16BE(itemId, at + 8);
  return copy;
}

/** The one JPEG rendition of a single-rendition run. */
async function jpegOf(input: Buffer, overrides: Parameters<typeof optionsWith>[0] = {}): Promise<Buffer> {
  const { outputs } = await processImage(input, optionsWith({ renditions: ["only:400"], formats: ["jpeg"], filters: [], ...overrides }));
  assert.equal(outputs.length, 1);
  return outputs[0].data;
}

describe("HEIC input (libheif WebAssembly)", () => {
  it("is accepted by default and validated from its header: format heif, upright size, frames", async () => {
    const info = await validateImage(fixture("irot-p3.heic"), optionsWith());

    assert.equal(info.format, "heif");
    assert.deepEqual([info.width, info.height, info.frames], [64, 96, 1]);
  });

  it("is decoded upright: the irot rotation is applied (90° clockwise here)", async () => {
    const jpeg = await jpegOf(fixture("irot-p3.heic"));

    const { width, height } = await sharp(jpeg).metadata();
    assert.deepEqual([width, height], [64, 96]);
    assertColourNear(await pixelAt(jpeg, 60, 4), GREEN, 16, "the green block, top-right after the turn");
    assertColourNear(await pixelAt(jpeg, 10, 30), RED, 16, "red, the top half after the turn");
    assertColourNear(await pixelAt(jpeg, 30, 90), BLUE, 16, "blue, the bottom half after the turn");
  });

  it("does not apply a HEIF file's EXIF orientation on top (informational in HEIF, as libheif and libvips treat it)", async () => {
    const jpeg = await jpegOf(fixture("exif-orientation-only.heic"));

    const { width, height } = await sharp(jpeg).metadata();
    assert.deepEqual([width, height], [96, 64]);
    assertColourNear(await pixelAt(jpeg, 4, 4), GREEN, 16, "the green block stays top-left");
  });

  it("converts through the file's ICC profile (Display P3) to sRGB, and keeps the profile with keepMetadata icc", async () => {
    const converted = await jpegOf(fixture("irot-p3.heic"));
    const kept = await jpegOf(fixture("irot-p3.heic"), { keepMetadata: "icc" });

    // Stored in P3, sRGB red is about (234, 51, 34): a decoder ignoring the profile gives that.
    assertColourNear(await pixelAt(converted, 10, 30, { stored: true }), RED, 16, "sRGB red after conversion");
    assert.equal((await sharp(converted).metadata()).icc, undefined, "no profile by default");
    assert.ok((await sharp(kept).metadata()).icc, "the profile is attached with keepMetadata icc");
    assertColourNear(await pixelAt(kept, 10, 30, { stored: true }), { r: 234, g: 51, b: 34 }, 16, "P3 values kept as stored");
  });

  it("takes the primary image of a multi-image file, wherever it is", async () => {
    const twoImages = fixture("two-images.heic");
    const secondPrimary = withPrimaryItem(twoImages, 4);

    const first = await jpegOf(twoImages);
    const second = await jpegOf(secondPrimary);

    assert.deepEqual([(await sharp(first).metadata()).width, (await sharp(first).metadata()).height], [64, 48]);
    assertColourNear(await pixelAt(first, 10, 10), { r: 0x20, g: 0x40, b: 0xe0 }, 16, "the first image, primary as written");
    assert.deepEqual([(await sharp(second).metadata()).width, (await sharp(second).metadata()).height], [40, 56]);
    assertColourNear(await pixelAt(second, 10, 10), { r: 0xf0, g: 0xd0, b: 0x20 }, 16, "the second image once it is primary");
    const info = await validateImage(secondPrimary, optionsWith());
    assert.deepEqual([info.width, info.height, info.frames], [40, 56, 2]);
  });

  it("checks the pixel limit from the header, before any HEVC data is decoded", async () => {
    const options = optionsWith({ limits: { maxPixels: 64 * 96 - 1 } });

    await rejectsWith(validateImage(fixture("irot-p3.heic"), options), "TOO_MANY_PIXELS");
    await rejectsWith(resizeImage(fixture("irot-p3.heic"), options), "TOO_MANY_PIXELS");
  });

  it("is refused with UNSUPPORTED_FORMAT, naming the way in, when heif is not in limits.formats", async () => {
    await assert.rejects(validateImage(fixture("irot-p3.heic"), optionsWith({ limits: { formats: ["jpeg", "png"] } })), (error: Error & { code?: string }) => {
      assert.equal(error.code, "UNSUPPORTED_FORMAT");
      assert.match(error.message, /HEIC.*add "heif" to limits\.formats/);
      return true;
    });
  });

  it("reports a HEIC whose coded data is cut off as CORRUPT_IMAGE", async () => {
    const whole = fixture("irot-p3.heic");
    const truncated = whole.subarray(0, whole.length - 300);

    await rejectsWith(resizeImage(truncated, optionsWith()), "CORRUPT_IMAGE");
  });

  describe("decodeHeic", () => {
    /** The HEIC's message when it cannot be decoded, checked for its code and the way out. */
    async function corruptMessage(promise: Promise<unknown>): Promise<string> {
      let message = "";
      await assert.rejects(promise, (error: Error & { code?: string }) => {
        assert.equal(error.code, "CORRUPT_IMAGE");
        message = error.message;
        return true;
      });
      assert.match(message, /^The HEIC image could not be decoded \(.+\); the file is truncated or damaged\. Re-export it from the original and upload it again\.$/);
      return message;
    }

    it("tells HEIC from AVIF and other formats by the compression sharp reports", () => {
      assert.equal(isHeic({ format: "heif", compression: "hevc" }), true);
      assert.equal(isHeic({ format: "heif", compression: "av1" }), false);
      assert.equal(isHeic({ format: "jpeg", compression: "hevc" }), false);
    });

    it("decodes to an RGB PNG (no alpha channel in the file), the values as stored, with the file's profile", async () => {
      const heic = fixture("irot-p3.heic");
      const metadata = await sharp(heic).metadata();

      const png = await decodeHeic(heic, metadata, 64 * 96);

      const decoded = await sharp(png).metadata();
      assert.deepEqual([decoded.format, decoded.width, decoded.height, decoded.channels], ["png", 64, 96, 3]);
      assert.equal(decoded.icc?.length, 480, "the Display P3 profile travels with the pixels");
      assertColourNear(await pixelAt(png, 10, 30, { stored: true }), { r: 234, g: 51, b: 34 }, 16, "red as stored in P3");
    });

    it("adds no profile when the header has none", async () => {
      const heic = fixture("irot-p3.heic");
      const metadata = await sharp(heic).metadata();

      const png = await decodeHeic(heic, { ...metadata, icc: undefined }, 64 * 96);

      assert.equal((await sharp(png).metadata()).icc, undefined);
    });

    it("refuses more pixels than maxPixels before decoding, and takes exactly maxPixels", async () => {
      const heic = fixture("irot-p3.heic");
      const metadata = await sharp(heic).metadata();

      await assert.rejects(decodeHeic(heic, metadata, 6143), (error: Error & { code?: string; details?: unknown }) => {
        assert.equal(error.code, "TOO_MANY_PIXELS");
        assert.equal(error.message, "The image is 64x96 (6144 pixels), over the limit of 6143 pixels (limits.maxPixels); downscale it before uploading or raise the limit.");
        assert.deepEqual(error.details, { width: 64, height: 96, pixels: 6144, limit: 6143 });
        return true;
      });
      assert.equal((await sharp(await decodeHeic(heic, metadata, 6144)).metadata()).width, 64);
    });

    it("reports a file libheif finds no image in, and HEVC data it cannot decode, as CORRUPT_IMAGE with the reason", async () => {
      const heic = fixture("irot-p3.heic");
      const metadata = await sharp(heic).metadata();
      const damaged = Buffer.from(heic);
      damaged.fill(0xff, damaged.indexOf("mdat") + 8);

      assert.match(await corruptMessage(decodeHeic(Buffer.from("not a HEIC file at all"), metadata, 1e6)), /\(libheif found no image in it\)/);
      assert.match(await corruptMessage(decodeHeic(damaged, metadata, 1e6)), /\(libheif could not decode its HEVC data\)/);
    });
  });
});
