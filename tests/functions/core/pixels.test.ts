import assert from "node:assert/strict";
import sharp from "sharp";
import { decodeSource, resizePixels, sourceOptions, squareBox, transformPixels, widthBox, type Pixels } from "../../../functions/core/pixels";
import { sampleCorruptJpeg, samplePhoto } from "../../../local/sampleImages";
import { assertColourNear, optionsWith, rejectsWith } from "./helpers";

/** The colour stored in the test images: P3 and sRGB readings of it differ by 10+ levels. */
const STORED = "#336699";

/** A Display P3 profile, as sharp writes it. */
async function p3Profile(): Promise<Buffer> {
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: STORED } }).withIccProfile("p3").png().toBuffer();
  return (await sharp(png).metadata()).icc as Buffer;
}

/** The JPEG with `profile` embedded as one APP2 ICC_PROFILE segment (ICC.1, annex B.4), whatever the profile's bytes are. */
function withIccSegment(jpeg: Buffer, profile: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from("ICC_PROFILE\0", "latin1"), Buffer.from([1, 1]), profile]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(payload.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe2]), length, payload, jpeg.subarray(2)]);
}

/** An 8x8 JPEG of the stored colour, in `space`, with `profile` embedded. */
async function jpegWithProfile(profile: Buffer, space: "srgb" | "b-w" = "srgb"): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: STORED } }).toColourspace(space).jpeg({ quality: 100 }).toBuffer();
  return withIccSegment(jpeg, profile);
}

const first = (pixels: Pixels) => [...pixels.data.subarray(0, pixels.channels)];

/** Solid grey pixels. */
function greyPixels(width: number, height: number): Pixels {
  return { data: Buffer.alloc(width * height, 90), width, height, channels: 1 };
}

describe("decoded pixels", () => {
  describe("sourceOptions", () => {
    it("fails on warnings, except TIFF (libtiff warns on valid private tags), limits pixels, reads sequentially and orients", () => {
      const options = optionsWith({ limits: { maxPixels: 12345 } });

      assert.deepEqual(sourceOptions(options, "tiff"), { failOn: "error", limitInputPixels: 12345, sequentialRead: true, autoOrient: true });
      assert.deepEqual(sourceOptions(options, "jpeg"), { failOn: "warning", limitInputPixels: 12345, sequentialRead: true, autoOrient: true });
      assert.deepEqual(sourceOptions(options), { failOn: "warning", limitInputPixels: 12345, sequentialRead: true, autoOrient: true });
    });
  });

  describe("boxes", () => {
    it("widthBox fits inside the width and 16383 px, never enlarging; squareBox inside a square", () => {
      assert.deepEqual(widthBox(320), { width: 320, height: 16383, fit: "inside", withoutEnlargement: true });
      assert.deepEqual(squareBox(32), { width: 32, height: 32, fit: "inside", withoutEnlargement: true });
    });
  });

  describe("resizePixels", () => {
    it("returns pixels exactly the box's size unchanged, the same object", async () => {
      const pixels = greyPixels(10, 10);

      assert.equal(await resizePixels(pixels, squareBox(10)), pixels);
      assert.equal(await resizePixels(pixels, { width: 10 }), pixels, "no height: only the width bounds");
      assert.equal(await resizePixels(greyPixels(10, 500), { width: 10 }).then((p) => p.height), 500);
    });

    it("downscales pixels one over the box in either side", async () => {
      const wide = await resizePixels(greyPixels(11, 10), squareBox(10));
      const tall = await resizePixels(greyPixels(10, 11), squareBox(10));

      assert.deepEqual([wide.width, wide.height], [10, 9]);
      assert.deepEqual([tall.width, tall.height], [9, 10]);
      assert.deepEqual(first(tall), [90, 90, 90], "the values are resampled, not invented");
    });

    it("says what it was doing when the pixels cannot be read", async () => {
      const broken: Pixels = { data: Buffer.alloc(10), width: 40, height: 40, channels: 3 };

      await rejectsWith(resizePixels(broken, widthBox(20)), "CORRUPT_IMAGE");
      await assert.rejects(resizePixels(broken, widthBox(20)), /while resizing to 20x16383/);
    });
  });

  describe("transformPixels", () => {
    it("keeps the profile and rights, and takes the new size and channels from the result", async () => {
      const icc = Buffer.from("profile bytes");
      const pixels: Pixels = { ...greyPixels(6, 4), icc, rights: { copyright: "(c) Owner" } };

      const turned = await transformPixels(pixels, "turning", (image) => image.rotate(90).toColourspace("srgb"));

      assert.deepEqual([turned.width, turned.height, turned.channels], [4, 6, 3]);
      assert.equal(turned.data.length, 4 * 6 * 3, "8-bit values");
      assert.equal(turned.icc, icc);
      assert.deepEqual(turned.rights, { copyright: "(c) Owner" });
    });
  });

  describe("decodeSource", () => {
    it("keeps an RGB profile of an RGB image with keepMetadata icc, values as stored; converts it to sRGB without", async () => {
      const input = await jpegWithProfile(await p3Profile());

      const kept = await decodeSource(input, optionsWith({ keepMetadata: "icc" }), widthBox(100));
      const converted = await decodeSource(input, optionsWith(), widthBox(100));

      assert.equal(kept.icc?.length, 480);
      assertColourNear(first(kept), { r: 0x33, g: 0x66, b: 0x99 }, 3, "stored values");
      assert.equal(converted.icc, undefined);
      // #336699 read as P3 is about (26, 105, 157) in sRGB.
      assertColourNear(first(converted), { r: 26, g: 105, b: 157 }, 4, "converted to sRGB");
    });

    it("keeps a 16-bit image's RGB profile too, as 8-bit values", async () => {
      const input = await sharp({ create: { width: 8, height: 8, channels: 3, background: STORED } }).withIccProfile("p3").toColourspace("rgb16").png().toBuffer();

      const kept = await decodeSource(input, optionsWith({ keepMetadata: "icc" }), widthBox(100));

      assert.equal(kept.icc?.length, 480);
      assert.equal(kept.data.length, 8 * 8 * 3);
    });

    it("leaves a 16-bit image without a profile as sRGB values, unconverted", async () => {
      const input = await sharp({ create: { width: 8, height: 8, channels: 3, background: STORED } }).toColourspace("rgb16").png().toBuffer();

      const pixels = await decodeSource(input, optionsWith(), widthBox(100));

      assertColourNear(first(pixels), { r: 0x33, g: 0x66, b: 0x99 }, 1, "as stored");
    });

    it("keeps a profile of 128 bytes (an ICC header) but not one shorter", async () => {
      const p3 = await p3Profile();

      const header = await decodeSource(await jpegWithProfile(p3.subarray(0, 128)), optionsWith({ keepMetadata: "icc" }), widthBox(100));
      const shorter = await decodeSource(await jpegWithProfile(p3.subarray(0, 127)), optionsWith({ keepMetadata: "icc" }), widthBox(100));

      assert.equal(header.icc?.length, 128);
      assert.equal(shorter.icc, undefined);
    });

    it("never keeps a profile whose header names another colour space, nor an RGB profile on a grey image", async () => {
      const p3 = await p3Profile();
      const greyHeader = Buffer.concat([p3.subarray(0, 16), Buffer.from("GRAY", "latin1"), p3.subarray(20)]);

      const mislabelled = await decodeSource(await jpegWithProfile(greyHeader), optionsWith({ keepMetadata: "icc" }), widthBox(100));
      const grey = await decodeSource(await jpegWithProfile(p3, "b-w"), optionsWith({ keepMetadata: "icc" }), widthBox(100));

      assert.equal(mislabelled.icc, undefined);
      assert.equal(grey.icc, undefined);
    });

    it("reads copyright and artist only with keepMetadata icc-copyright, and only when one is there", async () => {
      const photo = (exif: Record<string, string>) =>
        sharp({ create: { width: 8, height: 8, channels: 3, background: STORED } }).withExif({ IFD0: exif }).jpeg().toBuffer();
      const both = await photo({ Copyright: "(c) Owner", Artist: "A. Artist" });
      const artistOnly = await photo({ Artist: "A. Artist" });
      const neither = await photo({ Make: "SampleCam" });

      const rights = async (input: Buffer, keepMetadata: "icc" | "icc-copyright") => (await decodeSource(input, optionsWith({ keepMetadata }), widthBox(100))).rights;

      assert.deepEqual(await rights(both, "icc-copyright"), { copyright: "(c) Owner", artist: "A. Artist" });
      assert.deepEqual(await rights(artistOnly, "icc-copyright"), { artist: "A. Artist" });
      assert.equal(await rights(both, "icc"), undefined);
      const none = await decodeSource(neither, optionsWith({ keepMetadata: "icc-copyright" }), widthBox(100));
      assert.equal("rights" in none, false);
    });

    it("reports damaged pixel data as CORRUPT_IMAGE, saying it was decoding the upload", async () => {
      const corrupt = sampleCorruptJpeg(await samplePhoto({ width: 200, height: 150, seed: 70 }));

      await rejectsWith(decodeSource(corrupt, optionsWith(), widthBox(100)), "CORRUPT_IMAGE");
      await assert.rejects(decodeSource(corrupt, optionsWith(), widthBox(100)), /while decoding the upload/);
    });
  });
});
