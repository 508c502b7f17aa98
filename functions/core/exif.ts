/**
 * Reads the two EXIF tags the pipeline may keep (`keepMetadata: "icc-copyright"`):
 * Copyright (0x8298) and Artist (0x013B) from IFD0. Everything else in EXIF
 * (GPS, camera serials, thumbnails) is never copied, so this reader is the
 * only path from an upload's EXIF to an output.
 */

export interface Rights {
  copyright?: string;
  artist?: string;
}

const TAG_ARTIST = 0x013b;
const TAG_COPYRIGHT = 0x8298;
const TYPE_ASCII = 2;
const MAX_TEXT = 1024;

/**
 * @param exif the raw EXIF block as sharp's `metadata().exif` returns it ("Exif\0\0" + TIFF)
 * @returns the rights tags found; empty when absent or malformed (never throws)
 */
export function readRights(exif: Buffer | undefined): Rights {
  if (!exif || exif.length < 14) return {};
  const tiff = exif.subarray(0, 6).toString("latin1") === "Exif\0\0" ? exif.subarray(6) : exif;
  if (tiff.length < 8) return {};
  const order = tiff.toString("latin1", 0, 2);
  if (order !== "II" && order !== "MM") return {};
  const little = order === "II";
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return {};
  const ifd0 = u32(4);
  if (ifd0 + 2 > tiff.length) return {};
  const entries = u16(ifd0);
  const rights: Rights = {};
  for (let i = 0; i < entries; i++) {
    const entry = ifd0 + 2 + i * 12;
    if (entry + 12 > tiff.length) break;
    const tag = u16(entry);
    if ((tag !== TAG_ARTIST && tag !== TAG_COPYRIGHT) || u16(entry + 2) !== TYPE_ASCII) continue;
    const count = u32(entry + 4);
    const start = count <= 4 ? entry + 8 : u32(entry + 8);
    if (start + count > tiff.length) continue;
    const text = asciiText(tiff.subarray(start, start + count));
    if (!text) continue;
    if (tag === TAG_ARTIST) rights.artist = text;
    else rights.copyright = text;
  }
  return rights;
}

/** EXIF ASCII: NUL-terminated; Copyright may hold "photographer\0editor\0". */
function asciiText(bytes: Buffer): string | undefined {
  const parts = bytes
    .toString("utf8")
    .split("\0")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  const text = parts.join("; ").slice(0, MAX_TEXT);
  return text.length > 0 ? text : undefined;
}
