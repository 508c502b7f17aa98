import { crc32, deflateSync } from "node:zlib";

/**
 * Just enough of the PNG container (ISO/IEC 15948) to add and read the
 * ancillary chunks the intermediate encoding carries: an ICC profile (iCCP)
 * and UTF-8 text (iTXt). Pixel data is always written and read by sharp.
 */

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngChunk {
  type: string;
  data: Buffer;
}

export function isPng(bytes: Buffer): boolean {
  return bytes.length >= PNG_SIGNATURE.length && bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE);
}

/** One chunk: length, type, data, CRC-32 over type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const typeBytes = Buffer.from(type, "latin1");
  const header = Buffer.alloc(8);
  header.writeUInt32BE(data.length, 0);
  typeBytes.copy(header, 4);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(typeBytes)) >>> 0, 0);
  return Buffer.concat([header, data, crc]);
}

/** An iCCP chunk: profile name, NUL, compression method 0, zlib-compressed profile. */
export function iccpChunk(profile: Buffer, name = "icc"): Buffer {
  return pngChunk("iCCP", Buffer.concat([Buffer.from(name, "latin1"), Buffer.from([0, 0]), deflateSync(profile)]));
}

/** An uncompressed iTXt chunk (UTF-8 text, no language tag). */
export function itxtChunk(keyword: string, text: string): Buffer {
  return pngChunk("iTXt", Buffer.concat([Buffer.from(keyword, "latin1"), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, "utf8")]));
}

/** The text of an iTXt chunk written by `itxtChunk`, with its keyword. */
export function parseItxt(data: Buffer): { keyword: string; text: string } | undefined {
  const keywordEnd = data.indexOf(0);
  if (keywordEnd < 1 || data[keywordEnd + 1] !== 0) return undefined; // compressed iTXt is never written here
  const languageEnd = data.indexOf(0, keywordEnd + 3);
  const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) return undefined;
  return { keyword: data.subarray(0, keywordEnd).toString("latin1"), text: data.subarray(translatedEnd + 1).toString("utf8") };
}

/**
 * The chunks before the first IDAT (the header part), without reading pixel data.
 * Returns undefined when the bytes are not a well-formed PNG header.
 */
export function readPngHeaderChunks(png: Buffer): PngChunk[] | undefined {
  if (!isPng(png)) return undefined;
  const chunks: PngChunk[] = [];
  let offset = PNG_SIGNATURE.length;
  while (offset + 12 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > png.length) return undefined;
    if (type === "IDAT") return chunks;
    chunks.push({ type, data: png.subarray(offset + 8, offset + 8 + length) });
    offset = end;
  }
  return undefined;
}

/** The PNG with `chunks` inserted right after IHDR, where iCCP and text chunks may go. */
export function insertAfterIhdr(png: Buffer, chunks: Buffer[]): Buffer {
  if (chunks.length === 0) return png;
  const ihdrEnd = PNG_SIGNATURE.length + 12 + png.readUInt32BE(PNG_SIGNATURE.length);
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}
