import type { Sharp } from "sharp";
import { encodeIntermediate, intermediateSource, readIntermediateHeader } from "./intermediate";
import type { OutputFormat, ProcessingOptions } from "./options";
import { fromPixels, type Pixels } from "./pixels";
import { guardSharp } from "./sharpErrors";
import type { EncodedFormat, EncodedImage } from "./types";

/**
 * Encodes to the web formats. Metadata is stripped by default (sharp writes
 * none unless asked): no EXIF, no GPS, no XMP, ever. `keepMetadata: "icc"`
 * attaches the ICC profile the pixels are in; "icc-copyright" also writes
 * EXIF Copyright and Artist, and nothing else, from the values the core read.
 */

export const OUTPUT_TYPES: Record<OutputFormat, { contentType: string; extension: string }> = {
  jpeg: { contentType: "image/jpeg", extension: "jpg" },
  webp: { contentType: "image/webp", extension: "webp" },
  avif: { contentType: "image/avif", extension: "avif" },
};

/** Content type and extension of every format an output can have, animated GIF included. */
export const ENCODED_TYPES: Record<EncodedFormat, { contentType: string; extension: string }> = {
  ...OUTPUT_TYPES,
  gif: { contentType: "image/gif", extension: "gif" },
};

/** JPEG has no alpha: transparent areas become white, as on most web pages. */
const JPEG_BACKGROUND = "#ffffff";

/** What the encoders need to know about their source besides the pixels. */
interface SourceFacts {
  channels: number;
  icc?: Buffer;
  rights?: Pixels["rights"];
}

function encoder(image: Sharp, format: OutputFormat, facts: SourceFacts, options: ProcessingOptions): Sharp {
  if (options.keepMetadata !== "none" && facts.icc) image.keepIccProfile();
  if (options.keepMetadata === "icc-copyright" && facts.rights) {
    const { copyright, artist } = facts.rights;
    image.withExif({ IFD0: { ...(copyright ? { Copyright: copyright } : {}), ...(artist ? { Artist: artist } : {}) } });
  }
  const hasAlpha = facts.channels === 2 || facts.channels === 4;
  switch (format) {
    case "jpeg":
      return (hasAlpha ? image.flatten({ background: JPEG_BACKGROUND }) : image).jpeg({ quality: options.quality.jpeg, mozjpeg: true });
    case "webp":
      return image.webp({ quality: options.quality.webp });
    case "avif":
      return image.avif({ quality: options.quality.avif, effort: options.avifEffort });
  }
}

/** Encodes one image to every configured format, concurrently (each encode runs on its own libuv thread). */
async function encodeAll(source: () => Sharp, facts: SourceFacts, name: string, label: string, options: ProcessingOptions): Promise<EncodedImage[]> {
  return Promise.all(
    options.formats.map(async (format) => {
      const { data, info } = await guardSharp(`encoding ${label} as ${format}`, () => encoder(source(), format, facts, options).toBuffer({ resolveWithObject: true }));
      return { name, format, width: info.width, height: info.height, data, ...OUTPUT_TYPES[format] };
    }),
  );
}

/**
 * Encodes decoded pixels directly (the in-process path of `processImage`).
 * Pixels that carry a profile to keep go through the intermediate encoding,
 * the only way to hand sharp pixels together with an ICC profile.
 */
export async function encodePixels(pixels: Pixels, name: string, label: string, options: ProcessingOptions): Promise<EncodedImage[]> {
  if (pixels.icc && options.keepMetadata !== "none") {
    const data = await encodeIntermediate(pixels);
    return encodeAll(() => intermediateSource(data), pixels, name, label, options);
  }
  return encodeAll(() => fromPixels(pixels), pixels, name, label, options);
}

/**
 * Optimize step: decodes an intermediate and encodes it to each configured format.
 * @param data an intermediate from `resizeImage` or `filterImage`
 * @example
 * const files = await optimizeImage(item.data, "thumb", "rendition", options); // thumb.webp, thumb.jpg
 * @throws {PipelineError} CORRUPT_IMAGE when `data` is not an intact intermediate
 */
export async function optimizeImage(data: Buffer, name: string, kind: "rendition" | "effect", options: ProcessingOptions): Promise<EncodedImage[]> {
  const header = readIntermediateHeader(data);
  return encodeAll(() => intermediateSource(data), header, name, `${kind} ${name}`, options);
}
