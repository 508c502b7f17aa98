import sharp from "sharp";
import type { Metadata, ResizeOptions, Sharp, SharpOptions } from "sharp";
import { readRights, type Rights } from "./exif";
import { decodeHeic, isHeic } from "./heic";
import type { ProcessingOptions } from "./options";
import { guardSharp } from "./sharpErrors";

/**
 * Decoded pixels as the core passes them between its own stages: 8-bit,
 * upright (EXIF orientation applied), first frame only, sRGB unless `icc` says
 * otherwise. Renditions cascade from one decode: large → medium → thumb.
 */
export interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (sharp's raw layout, interleaved). */
  channels: 1 | 2 | 3 | 4;
  /** The ICC profile the values are in, when `keepMetadata` keeps it; absent means sRGB. */
  icc?: Buffer;
  /** Copyright/Artist to write to outputs (`keepMetadata: "icc-copyright"`). */
  rights?: Rights;
}

/**
 * Longest output side. WebP cannot exceed 16383 px, the smallest limit of the
 * output formats; renditions are sized by width, so this only bounds very tall images.
 */
export const MAX_DIMENSION = 16383;

/**
 * An embedded profile is kept only for RGB images with an RGB profile (ICC
 * header bytes 16-19): outputs are always RGB, so a CMYK or grey profile would
 * mislabel them. Those are converted to sRGB through their profile instead.
 */
function keepableProfile(metadata: Metadata): Buffer | undefined {
  const { icc, space } = metadata;
  if (!icc || icc.length < 128 || (space !== "srgb" && space !== "rgb16")) return undefined;
  return icc.toString("latin1", 16, 20) === "RGB " ? icc : undefined;
}

/**
 * Input options for untrusted uploads. `failOn` is chosen per format:
 * "warning" (sharp's advice for untrusted input) everywhere except TIFF, because
 * libjpeg only *warns* about damaged entropy-coded data and would otherwise
 * decode garbage into public renditions; libtiff, however, warns about unknown
 * private tags in valid files (e.g. GeoTIFF), so TIFF uses "error", which still
 * aborts on truncated or damaged data. Every JPEG, PNG, WebP, GIF and AVIF of
 * the sharp test-fixture corpus decodes under "warning". Only the first
 * frame/page is read (sharp's default), which is the `first-frame` policy.
 */
export function sourceOptions(options: ProcessingOptions, format?: string): SharpOptions {
  return { failOn: format === "tiff" ? "error" : "warning", limitInputPixels: options.limits.maxPixels, sequentialRead: true, autoOrient: true };
}

/** Fit inside `width` x MAX_DIMENSION, keep the aspect ratio, never enlarge. */
export function widthBox(width: number): ResizeOptions {
  return { width, height: MAX_DIMENSION, fit: "inside", withoutEnlargement: true };
}

/** Fit inside a `size` x `size` square, never enlarge (placeholders). */
export function squareBox(size: number): ResizeOptions {
  return { width: size, height: size, fit: "inside", withoutEnlargement: true };
}

function fits(pixels: Pixels, box: ResizeOptions): boolean {
  return pixels.width <= (box.width ?? Infinity) && pixels.height <= (box.height ?? Infinity);
}

/**
 * Decodes an upload straight to the size `box` needs (JPEG/WebP shrink-on-load
 * makes a small box cheap), upright, converted to sRGB (CMYK and ICC-tagged
 * inputs through their profiles) unless an RGB/grey profile is kept.
 * @throws {PipelineError} CORRUPT_IMAGE when the pixel data cannot be decoded; TOO_MANY_PIXELS
 */
export async function decodeSource(input: Buffer, options: ProcessingOptions, box: ResizeOptions): Promise<Pixels> {
  return guardSharp(
    "decoding the upload",
    async () => {
      const metadata = await sharp(input, sourceOptions(options)).metadata();
      // HEIC: libheif decodes the primary image to a PNG carrying the file's profile (./heic.ts).
      const source = isHeic(metadata) ? await decodeHeic(input, metadata, options.limits.maxPixels) : input;
      const image = sharp(source, sourceOptions(options, metadata.format));
      const icc = options.keepMetadata === "none" ? undefined : keepableProfile(metadata);
      if (icc) image.keepIccProfile();
      // sharp converts profiled 16-bit RGB to Display P3, then writes those values out as if sRGB; finish the conversion.
      else if (metadata.hasProfile && metadata.space === "rgb16") image.withIccProfile("srgb", { attach: false });
      const { data, info } = await image.resize(box).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
      const rights = options.keepMetadata === "icc-copyright" ? readRights(metadata.exif) : undefined;
      return {
        data,
        width: info.width,
        height: info.height,
        channels: info.channels,
        ...(icc ? { icc } : {}),
        ...(rights && (rights.copyright || rights.artist) ? { rights } : {}),
      };
    },
    options.limits,
  );
}

/** A sharp instance reading `pixels` (no decode: raw memory). */
export function fromPixels(pixels: Pixels): Sharp {
  return sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } });
}

/** Applies a sharp operation to pixels, keeping their profile and rights. */
export async function transformPixels(pixels: Pixels, doing: string, apply: (image: Sharp) => Sharp): Promise<Pixels> {
  return guardSharp(doing, async () => {
    const { data, info } = await apply(fromPixels(pixels)).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    return { ...pixels, data, width: info.width, height: info.height, channels: info.channels };
  });
}

/** Downscales already decoded pixels into `box`; returns them unchanged when they already fit. */
export async function resizePixels(pixels: Pixels, box: ResizeOptions): Promise<Pixels> {
  if (fits(pixels, box)) return pixels;
  return transformPixels(pixels, `resizing to ${box.width}x${box.height}`, (image) => image.resize(box));
}
