import assert from "node:assert/strict";
import sharp from "sharp";
import { decodeIntermediate, encodeIntermediate, INTERMEDIATE_EXTENSION, readIntermediateHeader, type Pixels } from "../../../functions/core";
import { samplePhoto, sampleRandomBytes, sampleTruncated } from "../../../local/sampleImages";
import { rejectsWith } from "./helpers";

function noisePixels(width: number, height: number, channels: 1 | 2 | 3 | 4): Pixels {
  return { data: sampleRandomBytes(width * height * channels, width + channels), width, height, channels };
}

describe("the intermediate encoding", () => {
  for (const channels of [1, 2, 3, 4] as const) {
    it(`round-trips ${channels}-channel pixels exactly`, async () => {
      const pixels = noisePixels(97, 61, channels);

      const decoded = await decodeIntermediate(await encodeIntermediate(pixels));

      assert.deepEqual([decoded.width, decoded.height, decoded.channels], [97, 61, channels]);
      assert.ok(decoded.data.equals(pixels.data), "pixel-equal");
    });
  }

  it("carries an ICC profile and the rights tags, and leaves the pixel values alone", async () => {
    const p3 = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#336699" } }).withIccProfile("p3").png().toBuffer();
    const icc = (await sharp(p3).metadata()).icc as Buffer;
    const pixels: Pixels = { ...noisePixels(40, 30, 3), icc, rights: { copyright: "© Ünïcode Owner", artist: "A. Artist" } };

    const data = await encodeIntermediate(pixels);
    const decoded = await decodeIntermediate(data);

    assert.ok(decoded.data.equals(pixels.data), "values are not converted through the profile");
    assert.ok(decoded.icc?.equals(icc), "the same profile comes back");
    assert.deepEqual(decoded.rights, pixels.rights);
    assert.ok((await sharp(data).metadata()).hasProfile, "sharp sees the profile too");
  });

  it("is a PNG any tool can open, with the size in its header", async () => {
    const data = await encodeIntermediate(noisePixels(33, 22, 4));

    const metadata = await sharp(data).metadata();

    assert.equal(INTERMEDIATE_EXTENSION, "png");
    assert.deepEqual([metadata.format, metadata.width, metadata.height, metadata.channels], ["png", 33, 22, 4]);
    assert.deepEqual(readIntermediateHeader(data), { width: 33, height: 22, channels: 4 });
  });

  it("refuses bytes that are not an intermediate as CORRUPT_IMAGE", async () => {
    const jpeg = await samplePhoto({ width: 64, height: 48, seed: 30 });

    await rejectsWith(decodeIntermediate(jpeg), "CORRUPT_IMAGE");
  });

  it("refuses a truncated intermediate as CORRUPT_IMAGE", async () => {
    const data = await encodeIntermediate(noisePixels(200, 150, 3));

    await rejectsWith(decodeIntermediate(sampleTruncated(data, 0.6)), "CORRUPT_IMAGE");
  });
});
