import assert from "node:assert/strict";
import sharp from "sharp";
import { readRights } from "../../../functions/core/exif";
import { sniffFormat } from "../../../functions/core/sniff";
import { SAMPLE_EXIF, samplePhoto, samplePhotoWithGps, sampleSvg } from "../../../local/sampleImages";

describe("readRights", () => {
  it("reads Copyright and Artist from a camera-style EXIF block", async () => {
    const exif = (await sharp(await samplePhotoWithGps(64, 48)).metadata()).exif;

    assert.deepEqual(readRights(exif), { copyright: SAMPLE_EXIF.IFD0.Copyright, artist: SAMPLE_EXIF.IFD0.Artist });
  });

  it("returns nothing, without throwing, for missing or malformed EXIF", () => {
    assert.deepEqual(readRights(undefined), {});
    assert.deepEqual(readRights(Buffer.from("Exif\0\0MM\0*\0\0\xff\xff\xff\xff", "latin1")), {});
    assert.deepEqual(readRights(Buffer.alloc(64, 0xff)), {});
  });
});

describe("sniffFormat", () => {
  it("recognises SVG, with or without an XML declaration", () => {
    assert.equal(sniffFormat(sampleSvg()), "svg");
    assert.equal(sniffFormat(Buffer.from('\uFEFF  <svg xmlns="http://www.w3.org/2000/svg"/>')), "svg");
  });

  it("recognises formats this build cannot decode", () => {
    assert.equal(sniffFormat(Buffer.from("%PDF-1.7\n")), "pdf");
    assert.equal(sniffFormat(Buffer.from([0, 0, 0, 0x18, ...Buffer.from("ftypheic")])), "heic");
    assert.equal(sniffFormat(Buffer.from([0xff, 0x4f, 0xff, 0x51, 0])), "jp2");
  });

  it("leaves formats sharp reads to sharp", async () => {
    assert.equal(sniffFormat(await samplePhoto({ width: 32, height: 24 })), undefined);
    assert.equal(sniffFormat(Buffer.from("<html><body>not svg</body></html>")), undefined);
  });
});
