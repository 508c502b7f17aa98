/**
 * Recognises, from the first bytes, formats that must be refused before any
 * decoder sees them: SVG when it is not allowed (an XML parser is attack
 * surface), and common formats this sharp build cannot decode, so they get
 * UNSUPPORTED_FORMAT rather than looking like corrupt files.
 */

export type SniffedFormat = "svg" | "bmp" | "ico" | "pdf" | "psd" | "jp2" | "jxl" | "heic" | "vips";

const startsWith = (bytes: Buffer, signature: number[], at = 0) =>
  bytes.length >= at + signature.length && signature.every((byte, i) => bytes[at + i] === byte);

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** Formats this build cannot decode, by human name, for messages. */
export const UNDECODABLE_NAMES: Record<Exclude<SniffedFormat, "svg">, string> = {
  bmp: "BMP",
  ico: "ICO",
  pdf: "PDF",
  psd: "Photoshop PSD",
  jp2: "JPEG 2000",
  jxl: "JPEG XL",
  heic: "HEIC (HEVC)",
  vips: "VIPS native",
};

/** @returns the format, or undefined when the bytes are (or may be) one sharp reads */
export function sniffFormat(bytes: Buffer): SniffedFormat | undefined {
  if (looksLikeSvg(bytes)) return "svg";
  if (startsWith(bytes, ascii("BM")) && bytes.length > 14) return "bmp";
  if (startsWith(bytes, [0, 0, 1, 0])) return "ico";
  if (startsWith(bytes, ascii("%PDF"))) return "pdf";
  if (startsWith(bytes, ascii("8BPS"))) return "psd";
  if (startsWith(bytes, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(bytes, [0xff, 0x4f, 0xff, 0x51])) return "jp2";
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return "jxl";
  if (startsWith(bytes, ascii("ftyp"), 4) && ["heic", "heix", "hevc", "hevx"].includes(bytes.toString("latin1", 8, 12))) return "heic";
  if (startsWith(bytes, [0x08, 0xf2, 0xa6, 0xb6]) || startsWith(bytes, [0xb6, 0xa6, 0xf2, 0x08])) return "vips";
  return undefined;
}

/** XML or a bare <svg> root within the first KB (after a BOM, whitespace, comments). */
function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes.toString("utf8", 0, Math.min(bytes.length, 1024)).replace(/^\uFEFF/, "").trimStart();
  if (!head.startsWith("<")) return false;
  return /<svg[\s>]/i.test(head) || (head.startsWith("<?xml") && /<!DOCTYPE\s+svg/i.test(head));
}
