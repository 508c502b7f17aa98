import { inflateSync } from "node:zlib";
import sharp from "sharp";
import type { Sharp } from "sharp";
import { PipelineError } from "./errors";
import type { Rights } from "./exif";
import { fromPixels, type Pixels } from "./pixels";
import { iccpChunk, insertAfterIhdr, itxtChunk, parseItxt, readPngHeaderChunks } from "./png";
import { guardSharp } from "./sharpErrors";

/**
 * The lossless encoding of images passed from Resize/ApplyFilters to Optimize
 * through object storage: an 8-bit PNG with compression level 0 (stored
 * deflate blocks, no filtering), plus an iCCP chunk when a profile is kept and
 * iTXt Copyright/Author when rights are kept. Self-describing, viewable in any
 * browser, and sharp reads it straight into the encoders.
 *
 * Measured (`npm run bench -- --only intermediate`, 2048x1536 RGB rendition of
 * the 12 MP sample photo, sharp 0.35.5; encode + decode ms, size):
 *   raw + 16-byte header     0.8 +  0.4 ms  9.44 MB  (not self-describing; sharp cannot take a profile with raw pixels)
 *   PNG level 0 (chosen)     6.5 +  7.2 ms  9.45 MB
 *   TIFF uncompressed        4.0 +  2.7 ms  9.44 MB  (as cheap; PNG chunks are simpler to add and any browser shows it)
 *   PNG level 1             74   + 28   ms  9.60 MB  (photo grain defeats fast deflate)
 *   TIFF LZW + predictor   113   + 34   ms  5.98 MB
 *   TIFF deflate + pred.   138   + 34   ms  5.38 MB
 *   raw + zlib level 1     171   + 34   ms  8.77 MB
 *   lossless WebP e0       532   + 64   ms  4.38 MB
 * Compression saves at best 4 MB per 2048 px image for 140+ ms of CPU; at
 * ~100 MB/s to S3/Blob from a function, moving those bytes twice (put + get)
 * costs less than that (total 203 ms for PNG 0 vs 266 ms for the best
 * compressor), and intermediates expire within a day. So: uncompressed PNG.
 */

export const INTERMEDIATE_CONTENT_TYPE = "image/png";
export const INTERMEDIATE_EXTENSION = "png";

const RIGHTS_KEYWORDS = { copyright: "Copyright", artist: "Author" } as const;

/** What an intermediate's header says, read without touching pixel data. */
export interface IntermediateHeader {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  icc?: Buffer;
  rights?: Rights;
}

/** PNG colour types (IHDR byte 9) to channel counts; palette PNGs are never written here. */
const CHANNELS_BY_COLOUR_TYPE: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 4: 2, 2: 3, 6: 4 };

/**
 * @example
 * const data = await encodeIntermediate(pixels); // store with INTERMEDIATE_CONTENT_TYPE
 * @throws {PipelineError} INTERNAL when sharp cannot write the pixels (a bug)
 */
export async function encodeIntermediate(pixels: Pixels): Promise<Buffer> {
  const image = pixels.channels <= 2 ? fromPixels(pixels).toColourspace("b-w") : fromPixels(pixels);
  const png = await guardSharp("writing the intermediate", () => image.png({ compressionLevel: 0, adaptiveFiltering: false, palette: false }).toBuffer());
  const chunks: Buffer[] = [];
  if (pixels.icc) chunks.push(iccpChunk(pixels.icc));
  if (pixels.rights?.copyright) chunks.push(itxtChunk(RIGHTS_KEYWORDS.copyright, pixels.rights.copyright));
  if (pixels.rights?.artist) chunks.push(itxtChunk(RIGHTS_KEYWORDS.artist, pixels.rights.artist));
  return insertAfterIhdr(png, chunks);
}

/**
 * Reads width, height, channels, profile and rights from the PNG header chunks.
 * @throws {PipelineError} CORRUPT_IMAGE when the bytes are not an intermediate
 */
export function readIntermediateHeader(data: Buffer): IntermediateHeader {
  const chunks = readPngHeaderChunks(data);
  const ihdr = chunks?.[0]?.type === "IHDR" && chunks[0].data.length === 13 ? chunks[0].data : undefined;
  const channels = ihdr ? CHANNELS_BY_COLOUR_TYPE[ihdr[9]] : undefined;
  if (!chunks || !ihdr || ihdr[8] !== 8 || channels === undefined) {
    throw new PipelineError(
      "CORRUPT_IMAGE",
      "The intermediate image is not an 8-bit PNG written by the image core; it was damaged in storage or written by something else. Run the job again from the upload.",
      { bytes: data.length },
    );
  }
  const header: IntermediateHeader = { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), channels };
  const rights: Rights = {};
  for (const chunk of chunks) {
    if (chunk.type === "iCCP") header.icc = readIccp(chunk.data);
    if (chunk.type !== "iTXt") continue;
    const text = parseItxt(chunk.data);
    if (text?.keyword === RIGHTS_KEYWORDS.copyright) rights.copyright = text.text;
    if (text?.keyword === RIGHTS_KEYWORDS.artist) rights.artist = text.text;
  }
  if (rights.copyright || rights.artist) header.rights = rights;
  return header;
}

function readIccp(data: Buffer): Buffer | undefined {
  const nameEnd = data.indexOf(0);
  if (nameEnd < 1 || data[nameEnd + 1] !== 0) return undefined;
  try {
    return inflateSync(data.subarray(nameEnd + 2));
  } catch {
    return undefined; // a damaged profile is dropped: outputs are then plain sRGB
  }
}

/**
 * A sharp instance reading the intermediate. With `keepIccProfile()` its
 * profile is attached to the output and the values are left alone; without,
 * sharp converts through the profile to sRGB, as for any tagged image.
 */
export function intermediateSource(data: Buffer, { ignoreIcc = false } = {}): Sharp {
  return sharp(data, { failOn: "error", sequentialRead: true, ignoreIcc });
}

/**
 * The exact pixels `encodeIntermediate` was given.
 * @throws {PipelineError} CORRUPT_IMAGE when the bytes are not an intact intermediate
 */
export async function decodeIntermediate(data: Buffer): Promise<Pixels> {
  const header = readIntermediateHeader(data);
  const { data: decoded, info } = await guardSharp("decoding the intermediate", () =>
    intermediateSource(data, { ignoreIcc: true }).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true }),
  );
  // sharp widens grey to RGB on output; take the grey (and alpha) bands back.
  const raw = header.channels <= 2 ? selectBands(decoded, info.channels, header.channels === 2 ? [0, info.channels - 1] : [0]) : decoded;
  return {
    data: raw,
    width: info.width,
    height: info.height,
    channels: header.channels <= 2 ? header.channels : info.channels,
    ...(header.icc ? { icc: header.icc } : {}),
    ...(header.rights ? { rights: header.rights } : {}),
  };
}

function selectBands(data: Buffer, channels: number, bands: number[]): Buffer {
  const pixels = data.length / channels;
  const out = Buffer.alloc(pixels * bands.length);
  for (let i = 0; i < pixels; i++) {
    for (let b = 0; b < bands.length; b++) out[i * bands.length + b] = data[i * channels + bands[b]];
  }
  return out;
}
