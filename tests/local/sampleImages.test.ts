import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { PNG_SIGNATURE } from "../../functions/core/png";
import { samplePhoto, sampleHugeHeaderPng, sampleOriented } from "../../local/sampleImages";

describe("the sample images", () => {
  it("make the same photo for the same seed and another for another seed", async () => {
    const [a, b, c] = await Promise.all([1, 1, 2].map((seed) => samplePhoto({ width: 64, height: 48, seed, format: "png" })));

    assert.ok(a.equals(b));
    assert.ok(!a.equals(c));
  });

  it("craft a 60000x60000 PNG header whose chunks all carry a correct CRC", async () => {
    const png = sampleHugeHeaderPng(60000, 60000);

    const types: string[] = [];
    for (let offset = PNG_SIGNATURE.length; offset < png.length; ) {
      const length = png.readUInt32BE(offset);
      const typeAndData = png.subarray(offset + 4, offset + 8 + length);
      assert.equal(png.readUInt32BE(offset + 8 + length), crc32(typeAndData) >>> 0, `CRC of ${typeAndData.toString("latin1", 0, 4)}`);
      types.push(typeAndData.toString("latin1", 0, 4));
      offset += 12 + length;
    }
    assert.deepEqual(types, ["IHDR", "IDAT", "IEND"]);
    const metadata = await sharp(png, { limitInputPixels: false }).metadata();
    assert.deepEqual([metadata.width, metadata.height], [60000, 60000]);
  });

  it("store an oriented image turned, with the EXIF orientation set", async () => {
    const metadata = await sharp(await sampleOriented(6)).metadata();

    assert.deepEqual([metadata.orientation, metadata.width, metadata.height], [6, 80, 120]);
  });
});
