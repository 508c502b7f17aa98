import assert from "node:assert/strict";
import sharp from "sharp";
import { decodeIntermediate, INTERMEDIATE_CONTENT_TYPE, resizeImage } from "../../../functions/core";
import {
  ANIMATED_FRAME_COLOURS,
  MARKER,
  sampleAlphaPng,
  sampleAnimated,
  sampleCmykJpeg,
  sampleCorruptJpeg,
  sampleOriented,
  samplePhoto,
  sampleRandomBytes,
  sampleTruncated,
} from "../../../local/sampleImages";
import { assertColourNear, optionsWith, rejectsWith } from "./helpers";

const fullSize = optionsWith({ renditions: [{ name: "full", width: 2048 }] });

/** RGB at (x, y) of decoded intermediate pixels. */
function rgbAt(pixels: { data: Buffer; width: number; channels: number }, x: number, y: number): number[] {
  const offset = (y * pixels.width + x) * pixels.channels;
  return [...pixels.data.subarray(offset, offset + 3)];
}

describe("resizeImage", () => {
  for (let orientation = 1; orientation <= 8; orientation++) {
    it(`turns EXIF orientation ${orientation} upright: wide, marker top-left`, async () => {
      const input = await sampleOriented(orientation);

      const [full] = await resizeImage(input, fullSize);
      const pixels = await decodeIntermediate(full.data);

      assert.deepEqual([full.width, full.height], [MARKER.width, MARKER.height]);
      assertColourNear(rgbAt(pixels, 5, 5), MARKER.marker, 16, "top-left corner");
      assertColourNear(rgbAt(pixels, MARKER.width - 5, 5), MARKER.background, 16, "top-right corner");
      assertColourNear(rgbAt(pixels, 5, MARKER.height - 5), MARKER.background, 16, "bottom-left corner");
      assertColourNear(rgbAt(pixels, MARKER.width - 5, MARKER.height - 5), MARKER.background, 16, "bottom-right corner");
    });
  }

  it("renders one intermediate per configured rendition, in configuration order, fitted to the width", async () => {
    const input = await samplePhoto({ width: 1600, height: 1200, seed: 8 });
    const options = optionsWith({ renditions: ["thumb:320", "large:2048", "medium:1024"] });

    const items = await resizeImage(input, options);

    assert.deepEqual(
      items.map(({ name, kind, width, height }) => ({ name, kind, width, height })),
      [
        { name: "thumb", kind: "rendition", width: 320, height: 240 },
        { name: "large", kind: "rendition", width: 1600, height: 1200 },
        { name: "medium", kind: "rendition", width: 1024, height: 768 },
      ],
    );
    for (const item of items) {
      const metadata = await sharp(item.data).metadata();
      assert.deepEqual([metadata.width, metadata.height], [item.width, item.height], `${item.name} header matches`);
    }
    assert.equal(INTERMEDIATE_CONTENT_TYPE, "image/png");
  });

  it("sizes a portrait image by its width", async () => {
    const input = await samplePhoto({ width: 600, height: 900, seed: 9 });

    const [thumb] = await resizeImage(input, optionsWith({ renditions: ["thumb:320"] }));

    assert.deepEqual([thumb.width, thumb.height], [320, 480]);
  });

  it("never enlarges an image smaller than every rendition", async () => {
    const input = await samplePhoto({ width: 200, height: 100, seed: 10 });

    const items = await resizeImage(input, optionsWith());

    assert.deepEqual(
      items.map((item) => [item.width, item.height]),
      [
        [200, 100],
        [200, 100],
        [200, 100],
      ],
    );
  });

  it("converts a CMYK JPEG with an embedded profile to sRGB with the right colour", async () => {
    const colour = { r: 200, g: 180, b: 150 };
    const input = await sampleCmykJpeg(colour);
    assert.equal((await sharp(input).metadata()).space, "cmyk");

    const [full] = await resizeImage(input, fullSize);
    const pixels = await decodeIntermediate(full.data);

    assert.equal(pixels.channels, 3);
    assert.equal((await sharp(full.data).metadata()).space, "srgb");
    assertColourNear(rgbAt(pixels, 10, 10), colour, 10, "CMYK converted through its profile");
  });

  it("converts a CMYK JPEG without a profile to sRGB with the right colour", async () => {
    const colour = { r: 200, g: 180, b: 150 };
    const input = await sharp({ create: { width: 64, height: 48, channels: 3, background: colour } }).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();

    const [full] = await resizeImage(input, fullSize);

    assertColourNear(rgbAt(await decodeIntermediate(full.data), 10, 10), colour, 10, "CMYK converted through the generic profile");
  });

  it("converts a 16-bit PNG with a Display P3 profile to the right sRGB colour", async () => {
    const colour = { r: 200, g: 120, b: 60 };
    const input = await sharp({ create: { width: 64, height: 48, channels: 3, background: colour } }).withIccProfile("p3").toColourspace("rgb16").png().toBuffer();
    const metadata = await sharp(input).metadata();
    assert.deepEqual([metadata.space, metadata.depth, metadata.hasProfile], ["rgb16", "ushort", true]);

    const [full] = await resizeImage(input, fullSize);

    assertColourNear(rgbAt(await decodeIntermediate(full.data), 10, 10), colour, 6, "P3 converted to sRGB");
  });

  it("keeps the alpha channel", async () => {
    const input = await sampleAlphaPng(400, 300);

    const [full] = await resizeImage(input, fullSize);
    const pixels = await decodeIntermediate(full.data);

    assert.equal(pixels.channels, 4);
    assert.equal(pixels.data[3], 0, "the top-left corner stays transparent");
  });

  it("renders the first frame of an animated GIF", async () => {
    const input = await sampleAnimated("gif", 3, 120, 80);

    const [full] = await resizeImage(input, fullSize);
    const pixels = await decodeIntermediate(full.data);

    assert.deepEqual([full.width, full.height], [120, 80]);
    assertColourNear(rgbAt(pixels, 60, 40), ANIMATED_FRAME_COLOURS[0], 8, "first frame");
  });

  it("rejects a truncated JPEG as CORRUPT_IMAGE", async () => {
    const input = sampleTruncated(await samplePhoto({ width: 800, height: 600, seed: 11 }));

    await rejectsWith(resizeImage(input, optionsWith()), "CORRUPT_IMAGE");
  });

  it("rejects a JPEG with damaged pixel data as CORRUPT_IMAGE", async () => {
    const input = sampleCorruptJpeg(await samplePhoto({ width: 800, height: 600, seed: 12 }));

    await rejectsWith(resizeImage(input, optionsWith()), "CORRUPT_IMAGE");
  });

  it("rejects a truncated PNG as CORRUPT_IMAGE", async () => {
    const input = sampleTruncated(await samplePhoto({ width: 400, height: 300, seed: 13, format: "png" }));

    await rejectsWith(resizeImage(input, optionsWith()), "CORRUPT_IMAGE");
  });

  it("rejects random bytes as CORRUPT_IMAGE", async () => {
    await rejectsWith(resizeImage(sampleRandomBytes(), optionsWith()), "CORRUPT_IMAGE");
  });

  it("rejects an image over limits.maxPixels as TOO_MANY_PIXELS, even without Validate", async () => {
    const input = await samplePhoto({ width: 400, height: 300, seed: 14 });

    await rejectsWith(resizeImage(input, optionsWith({ limits: { maxPixels: 1000 } })), "TOO_MANY_PIXELS");
  });
});
