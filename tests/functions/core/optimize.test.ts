import assert from "node:assert/strict";
import sharp from "sharp";
import { encodeIntermediate, optimizeImage, resizeImage, type Intermediate, type ProcessingOptions } from "../../../functions/core";
import { readRights } from "../../../functions/core/exif";
import { SAMPLE_EXIF, sampleAlphaPng, samplePhoto, samplePhotoWithGps, sampleRandomBytes } from "../../../local/sampleImages";
import { GPS_IFD_POINTER, ifd0Tags, optionsWith, pixelAt, rejectsWith } from "./helpers";

const allFormats = optionsWith({ renditions: ["full:2048"], formats: ["jpeg", "webp", "avif"], avifEffort: 0 });

async function onlyRendition(input: Buffer, options: ProcessingOptions): Promise<Intermediate> {
  const [item] = await resizeImage(input, options);
  return item;
}

describe("optimizeImage", () => {
  it("encodes every configured format with the right content type, extension and size", async () => {
    const item = await onlyRendition(await samplePhoto({ width: 300, height: 200, seed: 40 }), allFormats);

    const encoded = await optimizeImage(item.data, "full", "rendition", allFormats);

    assert.deepEqual(
      encoded.map(({ name, format, width, height, contentType, extension }) => ({ name, format, width, height, contentType, extension })),
      [
        { name: "full", format: "jpeg", width: 300, height: 200, contentType: "image/jpeg", extension: "jpg" },
        { name: "full", format: "webp", width: 300, height: 200, contentType: "image/webp", extension: "webp" },
        { name: "full", format: "avif", width: 300, height: 200, contentType: "image/avif", extension: "avif" },
      ],
    );
    for (const output of encoded) {
      const metadata = await sharp(output.data).metadata();
      assert.equal(metadata.format === "heif" ? "avif" : metadata.format, output.format);
      assert.deepEqual([metadata.width, metadata.height], [output.width, output.height]);
    }
  });

  it("keeps alpha in WebP and AVIF and flattens JPEG onto white", async () => {
    const item = await onlyRendition(await sampleAlphaPng(200, 150), allFormats);

    const encoded = await optimizeImage(item.data, "full", "rendition", allFormats);
    const byFormat = Object.fromEntries(encoded.map((output) => [output.format, output.data]));

    for (const format of ["webp", "avif"]) {
      const metadata = await sharp(byFormat[format]).metadata();
      assert.equal(metadata.hasAlpha, true, `${format} keeps alpha`);
      assert.ok((await pixelAt(byFormat[format], 0, 0))[3] < 16, `${format} corner stays transparent`);
    }
    const jpeg = await sharp(byFormat.jpeg).metadata();
    assert.deepEqual([jpeg.hasAlpha, jpeg.channels], [false, 3]);
    assert.ok((await pixelAt(byFormat.jpeg, 0, 0)).every((value) => value >= 245), "the transparent corner is white in JPEG");
  });

  for (const channels of [4, 2] as const) {
    it(`flattens fully transparent black onto white in JPEG (${channels === 4 ? "RGBA" : "grey + alpha"})`, async () => {
      const transparentBlack = await encodeIntermediate({ data: Buffer.alloc(16 * 16 * channels), width: 16, height: 16, channels });

      const [jpeg] = await optimizeImage(transparentBlack, "full", "rendition", optionsWith({ formats: ["jpeg"] }));

      assert.ok((await pixelAt(jpeg!.data, 8, 8)).every((value) => value >= 245), "white, not the black under the transparency");
    });
  }

  it("follows the configured quality of each format: lower quality, smaller file", async () => {
    const item = await onlyRendition(await samplePhoto({ width: 300, height: 200, seed: 41 }), allFormats);
    const sizes = async (quality: number) => {
      const encoded = await optimizeImage(item.data, "full", "rendition", optionsWith({ formats: ["jpeg", "webp", "avif"], avifEffort: 0, quality: { jpeg: quality, webp: quality, avif: quality } }));
      return Object.fromEntries(encoded.map((output) => [output.format, output.data.length]));
    };

    const [low, high] = [await sizes(20), await sizes(95)];

    for (const format of ["jpeg", "webp", "avif"]) assert.ok(low[format]! * 1.5 < high[format]!, `${format}: ${low[format]} bytes at 20, ${high[format]} at 95`);
  });

  it("writes no EXIF, GPS, XMP or ICC by default", async () => {
    const input = await samplePhotoWithGps(320, 240);
    assert.ok((await sharp(input).metadata()).exif, "the sample does carry EXIF");
    const item = await onlyRendition(input, allFormats);

    const encoded = await optimizeImage(item.data, "full", "rendition", allFormats);

    for (const output of encoded) {
      const metadata = await sharp(output.data).metadata();
      assert.equal(metadata.exif, undefined, `${output.format} has no EXIF`);
      assert.equal(metadata.xmp, undefined, `${output.format} has no XMP`);
      assert.equal(metadata.icc, undefined, `${output.format} has no ICC profile`);
    }
  });

  it("keeps only Copyright and Artist, never GPS, with keepMetadata icc-copyright", async () => {
    const options = optionsWith({ ...allFormats, keepMetadata: "icc-copyright" });
    const item = await onlyRendition(await samplePhotoWithGps(320, 240), options);

    const encoded = await optimizeImage(item.data, "full", "rendition", options);

    for (const output of encoded) {
      const exif = (await sharp(output.data).metadata()).exif;
      assert.ok(exif, `${output.format} has EXIF`);
      assert.deepEqual(readRights(exif), { copyright: SAMPLE_EXIF.IFD0.Copyright, artist: SAMPLE_EXIF.IFD0.Artist });
      assert.ok(!ifd0Tags(exif).includes(GPS_IFD_POINTER), `${output.format} has no GPS`);
      assert.ok(!exif.includes("SampleCam"), `${output.format} has no camera make`);
    }
  });

  it("keeps a Display P3 profile and its untouched values with keepMetadata icc", async () => {
    const options = optionsWith({ ...allFormats, keepMetadata: "icc" });
    const p3 = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 220, g: 40, b: 40 } } }).withIccProfile("p3").png().toBuffer();
    const source = await sharp(p3).metadata();
    const storedValues = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    const item = await onlyRendition(p3, options);

    const encoded = await optimizeImage(item.data, "full", "rendition", options);

    for (const output of encoded) {
      const metadata = await sharp(output.data).metadata();
      assert.ok(metadata.icc?.equals(source.icc as Buffer), `${output.format} carries the source profile`);
      const [r, g, b] = await pixelAt(output.data, 10, 10, { stored: true });
      assert.ok(Math.abs(r - storedValues[0]) <= 6 && Math.abs(g - storedValues[1]) <= 6 && Math.abs(b - storedValues[2]) <= 6, `${output.format} values stay in P3`);
    }
  });

  it("converts a Display P3 image to sRGB values without a profile by default", async () => {
    const colour = { r: 220, g: 40, b: 40 };
    const p3 = await sharp({ create: { width: 64, height: 48, channels: 3, background: colour } }).withIccProfile("p3").png().toBuffer();
    const item = await onlyRendition(p3, allFormats);

    const [jpeg] = await optimizeImage(item.data, "full", "rendition", allFormats);

    assert.equal((await sharp(jpeg.data).metadata()).icc, undefined);
    const [r, g, b] = await pixelAt(jpeg.data, 10, 10);
    assert.ok(Math.abs(r - colour.r) <= 8 && Math.abs(g - colour.g) <= 8 && Math.abs(b - colour.b) <= 8, `sRGB again: ${[r, g, b]}`);
  });

  it("rejects bytes that are not an intermediate as CORRUPT_IMAGE", async () => {
    await rejectsWith(optimizeImage(sampleRandomBytes(), "full", "rendition", allFormats), "CORRUPT_IMAGE");
  });

  it("writes JPEG with mozjpeg's settings: progressive scans", async () => {
    const options = optionsWith({ renditions: ["full:300"], formats: ["jpeg"] });
    const item = await onlyRendition(await samplePhoto({ width: 300, height: 200, seed: 40 }), options);

    const [jpeg] = await optimizeImage(item.data, "full", "rendition", options);

    assert.equal((await sharp(jpeg.data).metadata()).isProgressive, true);
  });
});
