import assert from "node:assert/strict";
import sharp from "sharp";
import { iccpChunk, insertAfterIhdr, isPng, itxtChunk, parseItxt, pngChunk, readPngHeaderChunks } from "../../../functions/core/png";

const SIGNATURE = Buffer.from("89504e470d0a1a0a", "hex");

/** A 1x1 grey PNG's IHDR chunk, written out by hand (CRC included). */
const IHDR_1X1_GREY = Buffer.from("0000000d" + "49484452" + "00000001" + "00000001" + "0800000000" + "3a7e9b55", "hex");

/** An iTXt chunk's data as ISO/IEC 15948 lays it out, from its parts. */
function itxtData(keyword: string, flag: number, language: string, translated: string, text: string): Buffer {
  return Buffer.concat([Buffer.from(keyword, "latin1"), Buffer.from([0, flag, 0]), Buffer.from(`${language}\0${translated}\0`, "latin1"), Buffer.from(text, "utf8")]);
}

describe("the PNG container", () => {
  it("recognises the eight-byte signature, and nothing shorter or different", () => {
    assert.equal(isPng(SIGNATURE), true);
    assert.equal(isPng(Buffer.concat([SIGNATURE, Buffer.from([1, 2, 3])])), true);
    assert.equal(isPng(SIGNATURE.subarray(0, 7)), false);
    assert.equal(isPng(Buffer.alloc(0)), false);
    assert.equal(isPng(Buffer.from("89504e470d0a1a0b", "hex")), false);
    assert.equal(isPng(Buffer.from("ffd8ffe000104a46", "hex")), false, "a JPEG");
  });

  it("writes a chunk as length, type, data and the CRC-32 of type and data", () => {
    assert.equal(pngChunk("IEND", Buffer.alloc(0)).toString("hex"), "00000000" + "49454e44" + "ae426082");
    assert.equal(pngChunk("IHDR", Buffer.from("00000001000000010800000000", "hex")).toString("hex"), IHDR_1X1_GREY.toString("hex"));
  });

  it("writes an iCCP chunk: Latin-1 profile name, NUL, method 0, the deflated profile", () => {
    const chunk = iccpChunk(Buffer.from("profile"), "sRGB é");

    assert.equal(chunk.toString("latin1", 4, 8), "iCCP");
    assert.deepEqual([...chunk.subarray(8, 16)], [0x73, 0x52, 0x47, 0x42, 0x20, 0xe9, 0, 0]);
    assert.equal(chunk.toString("latin1", 8, 11), "sRG");
    assert.equal(iccpChunk(Buffer.from("profile")).toString("latin1", 8, 12), "icc\0", "named icc by default");
  });

  it("writes an uncompressed iTXt with a Latin-1 keyword and UTF-8 text that parseItxt reads back", () => {
    const chunk = itxtChunk("Légende", "© Ünïcode");
    const data = chunk.subarray(8, chunk.length - 4);

    assert.equal(chunk.toString("latin1", 4, 8), "iTXt");
    assert.equal(data.length, 7 + 5 + Buffer.byteLength("© Ünïcode"), "one byte per keyword letter, then five NUL/flag bytes");
    assert.deepEqual(parseItxt(data), { keyword: "Légende", text: "© Ünïcode" });
  });

  it("parses an iTXt with a one-letter keyword, a language tag and a translated keyword", () => {
    assert.deepEqual(parseItxt(itxtData("A", 0, "en", "Autor", "Ann")), { keyword: "A", text: "Ann" });
    assert.deepEqual(parseItxt(itxtData("Author", 0, "", "", "")), { keyword: "Author", text: "" });
  });

  it("reads no text from an iTXt that is compressed, has no keyword, or lacks its NUL separators", () => {
    assert.equal(parseItxt(itxtData("Author", 1, "", "", "x")), undefined, "compressed");
    assert.equal(parseItxt(itxtData("", 0, "", "", "x")), undefined, "empty keyword");
    assert.equal(parseItxt(Buffer.from("Author\0\0\0", "latin1")), undefined, "no language tag terminator");
    assert.equal(parseItxt(Buffer.from("Author\0\0\0en", "latin1")), undefined, "no language tag terminator, some text");
    assert.equal(parseItxt(Buffer.from("Author\0\0\0en\0Autor", "latin1")), undefined, "no translated keyword terminator");
    assert.equal(parseItxt(Buffer.from("Author", "latin1")), undefined, "no NUL at all");
  });

  describe("readPngHeaderChunks", () => {
    const idat = (length: number, present = length) => Buffer.concat([Buffer.from([0, 0, 0, length]), Buffer.from("IDAT", "latin1"), Buffer.alloc(present + 4)]);

    it("returns the chunks before the first IDAT, stopping there", () => {
      const png = Buffer.concat([SIGNATURE, IHDR_1X1_GREY, itxtChunk("Author", "Ann"), idat(2), itxtChunk("Copyright", "(c)"), pngChunk("IEND", Buffer.alloc(0))]);

      const chunks = readPngHeaderChunks(png);

      assert.deepEqual(chunks?.map((chunk) => chunk.type), ["IHDR", "iTXt"]);
      assert.equal(chunks?.[0].data.toString("hex"), "00000001" + "00000001" + "0800000000", "IHDR data: 1x1, 8-bit grey");
      assert.equal(chunks?.[1].data.toString("latin1"), "Author\0\0\0\0\0Ann");
    });

    it("accepts a header whose empty IDAT ends exactly at the end of the bytes", () => {
      const png = Buffer.concat([SIGNATURE, IHDR_1X1_GREY, idat(0)]);

      assert.deepEqual(readPngHeaderChunks(png)?.map((chunk) => [chunk.type, chunk.data.length]), [["IHDR", 13]]);
    });

    it("refuses a wrong signature, a chunk running past the end, and a header with no IDAT", () => {
      const wrongSignature = Buffer.concat([Buffer.from("89514e470d0a1a0a", "hex"), IHDR_1X1_GREY, idat(0)]);
      const cutShort = Buffer.concat([SIGNATURE, IHDR_1X1_GREY, idat(200, 10)]);
      const noIdat = Buffer.concat([SIGNATURE, IHDR_1X1_GREY]);

      assert.equal(readPngHeaderChunks(wrongSignature), undefined);
      assert.equal(readPngHeaderChunks(cutShort), undefined);
      assert.equal(readPngHeaderChunks(noIdat), undefined);
      assert.equal(readPngHeaderChunks(Buffer.concat([SIGNATURE, IHDR_1X1_GREY.subarray(0, 11)])), undefined, "a cut IHDR");
    });
  });

  it("inserts chunks right after IHDR, and returns the PNG itself when there are none", async () => {
    const png = await sharp({ create: { width: 3, height: 2, channels: 3, background: "#000" } }).png().toBuffer();

    const withText = insertAfterIhdr(png, [itxtChunk("Author", "Ann"), itxtChunk("Copyright", "(c)")]);

    assert.equal(insertAfterIhdr(png, []), png);
    assert.deepEqual(readPngHeaderChunks(withText)?.map((chunk) => chunk.type).slice(0, 3), ["IHDR", "iTXt", "iTXt"]);
    assert.equal(withText.length, png.length + 12 + 6 + 5 + 3 + 12 + 9 + 5 + 3);
    assert.deepEqual([(await sharp(withText).metadata()).width, (await sharp(withText).metadata()).height], [3, 2], "still a PNG sharp reads");
  });
});
