import sharp from "sharp";
import type { Metadata } from "sharp";
import { PipelineError } from "./errors";
import { iccpChunk, insertAfterIhdr } from "./png";
import { guardSharp } from "./sharpErrors";

/**
 * HEIC (HEVC-coded HEIF, the iPhone's photo format) decoded by libheif's WebAssembly
 * build (`libheif-js`), since sharp's prebuilt libheif has no HEVC decoder
 * (https://github.com/lovell/sharp/issues/4050). sharp still reads the header (size,
 * ICC profile, EXIF, which image is primary), so the pixel limit is checked before any
 * HEVC data is decoded.
 *
 * Measured on a 12 MP HEIC (one core, `npm run bench -- --only core`, "HEIC"):
 * `libheif-js/wasm-bundle` 1.1 s CPU; `heic-decode` is the same WebAssembly with a
 * wrapper that decodes the first image rather than the primary one (same time); the
 * pure-JavaScript `libheif-js` build takes 2.6 s. So: the wasm bundle, loaded on the first
 * HEIC only (215 ms), so other uploads never pay for it.
 *
 * Orientation: libheif applies the file's `irot`/`imir` transformations; the EXIF
 * orientation in a HEIF file is informational and must not be applied again
 * (https://github.com/strukturag/libheif/issues/227#issuecomment-642165942), which is
 * also what sharp's header read reports (no orientation, upright size).
 */

/** The parts of libheif-js's API used here (its `HeifDecoder`, post.js). */
interface HeifImageHandle {
  get_width(): number;
  get_height(): number;
  is_primary(): boolean;
  has_alpha_channel(): boolean;
  display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (result: unknown) => void): void;
  free(): void;
}
interface LibHeif {
  ready?: Promise<unknown>;
  HeifDecoder: new () => { decoder: unknown; decode(data: Uint8Array): HeifImageHandle[] };
  heif_context_free(context: unknown): void;
}

let libheif: Promise<LibHeif> | undefined;

/** Loads the decoder once; a failure to load is a deployment fault (INTERNAL, retried), never the image's. */
function loadLibheif(): Promise<LibHeif> {
  libheif ??= import("libheif-js/wasm-bundle.js")
    .then(async (module) => {
      const lib = ((module as { default?: LibHeif }).default ?? module) as LibHeif;
      await lib.ready;
      return lib;
    })
    .catch((error: unknown) => {
      libheif = undefined;
      throw new PipelineError("INTERNAL", "The HEIC decoder (libheif-js) could not be loaded; the function package is incomplete. Deploy again.", { reason: String(error) }, { cause: error });
    });
  return libheif;
}

/** sharp names AVIF and HEIC both "heif"; the compression tells them apart. */
export function isHeic(metadata: Pick<Metadata, "format" | "compression">): boolean {
  return metadata.format === "heif" && metadata.compression === "hevc";
}

/**
 * Decodes the primary image of a HEIC into an uncompressed PNG carrying the file's ICC
 * profile (so sharp converts through it, or keeps it, as for any tagged upload). Alpha
 * is kept only when the image has an alpha channel.
 *
 * @param metadata sharp's header read of `input` (gives the ICC profile)
 * @throws {PipelineError} TOO_MANY_PIXELS over `maxPixels` (before decoding); CORRUPT_IMAGE when libheif cannot decode it
 */
export async function decodeHeic(input: Buffer, metadata: Metadata, maxPixels: number): Promise<Buffer> {
  const lib = await loadLibheif();
  const decoder = new lib.HeifDecoder();
  const images = decoder.decode(new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  try {
    const image = images.find((candidate) => candidate.is_primary()) ?? images[0];
    if (!image) throw corrupt("libheif found no image in it");
    const width = image.get_width();
    const height = image.get_height();
    if (width * height > maxPixels) {
      throw new PipelineError(
        "TOO_MANY_PIXELS",
        `The image is ${width}x${height} (${width * height} pixels), over the limit of ${maxPixels} pixels (limits.maxPixels); downscale it before uploading or raise the limit.`,
        { width, height, pixels: width * height, limit: maxPixels },
      );
    }
    const rgba = new Uint8ClampedArray(width * height * 4);
    const shown = await new Promise<unknown>((resolve) => image.display({ data: rgba, width, height }, resolve));
    if (!shown) throw corrupt("libheif could not decode its HEVC data");
    const pixels = sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } });
    if (!image.has_alpha_channel()) pixels.removeAlpha();
    const png = await guardSharp("writing the decoded HEIC", () => pixels.png({ compressionLevel: 0, adaptiveFiltering: false, palette: false }).toBuffer());
    return metadata.icc ? insertAfterIhdr(png, [iccpChunk(metadata.icc)]) : png;
  } finally {
    for (const image of images) image.free();
    if (decoder.decoder) lib.heif_context_free(decoder.decoder);
  }
}

function corrupt(reason: string): PipelineError {
  return new PipelineError(
    "CORRUPT_IMAGE",
    `The HEIC image could not be decoded (${reason}); the file is truncated or damaged. Re-export it from the original and upload it again.`,
    { reason, doing: "decoding the HEIC upload" },
  );
}
