import assert from "node:assert/strict";
import sharp from "sharp";
import { decodeIntermediate, encodeIntermediate, INTERMEDIATE_EXTENSION, readIntermediateHeader, type Pixels } from "../../../functions/core";
import { intermediateSource } from "../../../functions/core/intermediate";
import { deflateSync } from "node:zlib";
import { iccpChunk, insertAfterIhdr, itxtChunk, pngChunk } from "../../../functions/core/png";
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

  describe("readIntermediateHeader", () => {
    const solid = (space?: "rgb16" | "b-w") => {
      const image = sharp({ create: { width: 5, height: 4, channels: 3, background: "#123456" } });
      return (space ? image.toColourspace(space) : image).png().toBuffer();
    };
    const refusal = (data: Buffer) => () => readIntermediateHeader(data);
    const NOT_AN_INTERMEDIATE = {
      code: "CORRUPT_IMAGE",
      message: "The intermediate image is not an 8-bit PNG written by the image core; it was damaged in storage or written by something else. Run the job again from the upload.",
    };

    it("reads grey as one channel and RGB as three", async () => {
      assert.deepEqual(readIntermediateHeader(await solid("b-w")), { width: 5, height: 4, channels: 1 });
      assert.deepEqual(readIntermediateHeader(await solid()), { width: 5, height: 4, channels: 3 });
    });

    it("refuses 16-bit and palette PNGs, and a PNG whose first chunk is not IHDR, saying what to do", async () => {
      const rgb = await solid();
      const textFirst = Buffer.concat([rgb.subarray(0, 8), itxtChunk("Author", "Ann"), rgb.subarray(8)]);

      assert.throws(refusal(await solid("rgb16")), NOT_AN_INTERMEDIATE);
      assert.throws(refusal(await sharp(rgb).png({ palette: true }).toBuffer()), NOT_AN_INTERMEDIATE);
      assert.throws(refusal(textFirst), NOT_AN_INTERMEDIATE);
    });

    it("refuses an IHDR of the wrong length", async () => {
      const rgb = await solid();
      const longIhdr = Buffer.concat([rgb.subarray(0, 8), pngChunk("IHDR", Buffer.concat([rgb.subarray(16, 29), Buffer.from([0])])), rgb.subarray(33)]);

      assert.throws(refusal(longIhdr), NOT_AN_INTERMEDIATE);
    });

    it("reads copyright and artist from their iTXt keywords, ignoring other text", async () => {
      const rgb = await solid();

      const both = readIntermediateHeader(insertAfterIhdr(rgb, [itxtChunk("Copyright", "(c) Owner"), itxtChunk("Comment", "ignored"), itxtChunk("Author", "Ann")]));
      const artistOnly = readIntermediateHeader(insertAfterIhdr(rgb, [itxtChunk("Author", "Ann")]));
      const otherText = readIntermediateHeader(insertAfterIhdr(rgb, [itxtChunk("Comment", "ignored")]));

      assert.deepEqual(both.rights, { copyright: "(c) Owner", artist: "Ann" });
      assert.deepEqual(artistOnly.rights, { artist: "Ann" });
      assert.equal(otherText.rights, undefined);
    });

    it("reads the profile of an iCCP chunk, and drops one without a name, compressed otherwise, or damaged", async () => {
      const rgb = await solid();
      const deflated = deflateSync(Buffer.from("profile"));
      const icc = (chunk: Buffer) => readIntermediateHeader(insertAfterIhdr(rgb, [chunk])).icc;

      assert.equal(icc(iccpChunk(Buffer.from("profile"), "p"))?.toString(), "profile");
      assert.equal(icc(pngChunk("iCCP", Buffer.concat([Buffer.from([0, 0]), deflated]))), undefined, "no name");
      assert.equal(icc(pngChunk("iCCP", Buffer.concat([Buffer.from("p\0\x01", "latin1"), deflated]))), undefined, "compression method 1");
      assert.equal(icc(pngChunk("iCCP", Buffer.from("p\0\0not deflate", "latin1"))), undefined, "damaged");
    });
  });

  it("is stored uncompressed, as true colour even when few colours would fit a palette", async () => {
    const flat: Pixels = { data: Buffer.alloc(100 * 100 * 3, 0x80), width: 100, height: 100, channels: 3 };

    const data = await encodeIntermediate(flat);

    assert.ok(data.length > 30000, `${data.length} bytes for 30000 bytes of pixels`);
    assert.deepEqual(readIntermediateHeader(data), { width: 100, height: 100, channels: 3 });
    assert.ok((await decodeIntermediate(data)).data.equals(flat.data));
  });

  it("reads through its profile to sRGB by default, and the stored values with ignoreIcc", async () => {
    const p3 = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#336699" } }).withIccProfile("p3").png().toBuffer();
    const icc = (await sharp(p3).metadata()).icc as Buffer;
    const data = await encodeIntermediate({ data: Buffer.from([0x33, 0x66, 0x99]), width: 1, height: 1, channels: 3, icc });

    const converted = [...(await intermediateSource(data).raw().toBuffer())];
    const stored = [...(await intermediateSource(data, { ignoreIcc: true }).raw().toBuffer())];

    assert.deepEqual(stored, [0x33, 0x66, 0x99]);
    // #336699 read as Display P3 is about (26, 105, 157) in sRGB.
    assert.ok(Math.abs(converted[0] - 26) <= 4 && Math.abs(converted[1] - 105) <= 4 && Math.abs(converted[2] - 157) <= 4, `converted ${converted.join(", ")}`);
  });

  it("says it was decoding the intermediate when the pixel data is cut off", async () => {
    const data = await encodeIntermediate(noisePixels(200, 150, 3));

    await assert.rejects(decodeIntermediate(sampleTruncated(data, 0.6)), /while decoding the intermediate/);
  });

  it("refuses a PNG with no chunk before its IDAT, with the size in the details", () => {
    const idatFirst = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), pngChunk("IDAT", Buffer.alloc(2)), pngChunk("IEND", Buffer.alloc(0))]);

    assert.throws(() => readIntermediateHeader(idatFirst), { code: "CORRUPT_IMAGE", details: { bytes: 34 } });
  });

  it("reads rights from iTXt only, and passes over an iTXt it cannot read", async () => {
    const rgb = await sharp({ create: { width: 5, height: 4, channels: 3, background: "#123456" } }).png().toBuffer();
    const lookalike = pngChunk("zTXt", Buffer.from("Copyright\0\0\0\0\0(c) Someone", "latin1"));
    const compressed = pngChunk("iTXt", Buffer.from("Author\0\x01\0\0\0x", "latin1"));

    const header = readIntermediateHeader(insertAfterIhdr(rgb, [lookalike, compressed, itxtChunk("Author", "Ann")]));

    assert.deepEqual(header.rights, { artist: "Ann" });
  });
});
