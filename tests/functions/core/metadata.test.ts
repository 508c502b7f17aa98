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

  it("recognises every signature it lists", () => {
    const signatures: [string, number[]][] = [
      ["bmp", [...Buffer.from("BM"), ...new Array(13).fill(0)]],
      ["ico", [0, 0, 1, 0, 1, 0]],
      ["psd", [...Buffer.from("8BPS"), 0, 1]],
      ["jp2", [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a]],
      ["jxl", [0xff, 0x0a, 0]],
      ["jxl", [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a]],
      ["heic", [0, 0, 0, 0x18, ...Buffer.from("ftypheix")]],
      ["heic", [0, 0, 0, 0x18, ...Buffer.from("ftyphevc")]],
      ["heic", [0, 0, 0, 0x18, ...Buffer.from("ftyphevx")]],
      ["vips", [0x08, 0xf2, 0xa6, 0xb6, 0]],
      ["vips", [0xb6, 0xa6, 0xf2, 0x08, 0]],
    ];

    assert.deepEqual(
      signatures.map(([, bytes]) => sniffFormat(Buffer.from(bytes))),
      signatures.map(([format]) => format),
    );
  });

  it("leaves near misses alone: a 2-byte BM, an AVIF, a truncated signature, an <svg-like> tag", () => {
    assert.equal(sniffFormat(Buffer.from("BM")), undefined);
    assert.equal(sniffFormat(Buffer.from([...Buffer.from("BM"), ...new Array(12).fill(0)])), undefined, "14 bytes: too short for a BMP header");
    assert.equal(sniffFormat(Buffer.from([0, 0, 0, 0x18, ...Buffer.from("ftypavif")])), undefined);
    assert.equal(sniffFormat(Buffer.from([0xff, 0x4f, 0xff])), undefined);
    assert.equal(sniffFormat(Buffer.from("<svgx/>")), undefined);
    assert.equal(sniffFormat(Buffer.alloc(0)), undefined);
  });

  it("recognises SVG by an XML declaration and SVG doctype, but only within the first KB", () => {
    assert.equal(sniffFormat(Buffer.from('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><g/>')), "svg");
    assert.equal(sniffFormat(Buffer.from('<?xml version="1.0"?><root/>')), undefined);
    const root = '<svg xmlns="http://www.w3.org/2000/svg"/>';
    assert.equal(sniffFormat(Buffer.from(`<!--${" ".repeat(900)}-->${root}`)), "svg");
    assert.equal(sniffFormat(Buffer.from(`<!--${" ".repeat(1100)}-->${root}`)), undefined);
  });

  it("leaves formats sharp reads to sharp", async () => {
    assert.equal(sniffFormat(await samplePhoto({ width: 32, height: 24 })), undefined);
    assert.equal(sniffFormat(Buffer.from("<html><body>not svg</body></html>")), undefined);
  });
});
