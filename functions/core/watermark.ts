import sharp from "sharp";
import { PipelineError } from "./errors";
import type { WatermarkOptions, WatermarkPosition } from "./options";
import { fromPixels, type Pixels } from "./pixels";
import { fromSharpError, guardSharp } from "./sharpErrors";

/**
 * The watermark: an image composited onto every rendition and effect at least `minWidth`
 * wide (never onto the placeholder or the previews, which come from unmarked pixels),
 * scaled to `scale` of the image's width, at a gravity with `margin` px from the edges,
 * with `opacity`. The mark is decoded once (`prepareWatermark`); callers cache it per
 * warm container.
 */

/** Longest side a mark is decoded at: a rendition is at most 8192 px wide. */
const MAX_MARK_SIZE = 8192;

/** The mark decoded to sRGB RGBA with its opacity already applied to the alpha band. */
export interface PreparedWatermark {
  options: WatermarkOptions;
  data: Buffer;
  width: number;
  height: number;
}

/** A mark sized and placed for one image: raw RGBA and its top-left corner. */
export interface PlacedMark {
  data: Buffer;
  width: number;
  height: number;
  left: number;
  top: number;
}

/**
 * Decodes the mark (any format sharp reads; SVG rendered at its own size) once.
 * @example
 * const mark = await prepareWatermark(await readFile("brand/logo.png"), options.watermark);
 * @throws {PipelineError} CONFIG_INVALID when the bytes are not an image
 */
export async function prepareWatermark(source: Buffer, options: WatermarkOptions): Promise<PreparedWatermark> {
  try {
    const { data, info } = await sharp(source, { failOn: "error", limitInputPixels: MAX_MARK_SIZE * MAX_MARK_SIZE })
      .resize({ width: MAX_MARK_SIZE, height: MAX_MARK_SIZE, fit: "inside", withoutEnlargement: true })
      .toColourspace("srgb")
      .ensureAlpha()
      // Opacity scales the mark's own alpha, so its transparent parts stay transparent.
      .linear([1, 1, 1, options.opacity], [0, 0, 0, 0])
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    return { options, data, width: info.width, height: info.height };
  } catch (error) {
    const reason = fromSharpError(error, "decoding the watermark").details.reason;
    throw new PipelineError(
      "CONFIG_INVALID",
      `The watermark ${options.source} is not an image sharp can read (${String(reason)}); point watermark.source at a PNG, WebP or SVG.`,
      { key: "watermark.source", source: options.source },
      { cause: error },
    );
  }
}

const WEST: readonly WatermarkPosition[] = ["west", "northwest", "southwest"];
const EAST: readonly WatermarkPosition[] = ["east", "northeast", "southeast"];
const NORTH: readonly WatermarkPosition[] = ["north", "northwest", "northeast"];
const SOUTH: readonly WatermarkPosition[] = ["south", "southwest", "southeast"];

function offset(space: number, size: number, margin: number, start: boolean, end: boolean): number {
  if (start) return margin;
  if (end) return space - size - margin;
  return Math.floor((space - size) / 2);
}

/**
 * Where the mark goes on a `width` x `height` image, resized to `scale` of its width
 * (smaller when the margins leave less room).
 * @returns undefined when the image is narrower than `minWidth` or leaves no room for a mark
 */
export async function markPlacement(mark: PreparedWatermark, width: number, height: number): Promise<PlacedMark | undefined> {
  const { minWidth, scale, margin, position } = mark.options;
  if (width < minWidth) return undefined;
  const fit = Math.min((width * scale) / mark.width, (width - 2 * margin) / mark.width, (height - 2 * margin) / mark.height);
  const markWidth = Math.round(mark.width * fit);
  const markHeight = Math.round(mark.height * fit);
  if (markWidth < 1 || markHeight < 1) return undefined;
  const { data } = await guardSharp("scaling the watermark", () =>
    sharp(mark.data, { raw: { width: mark.width, height: mark.height, channels: 4 } })
      .resize({ width: markWidth, height: markHeight, fit: "fill" })
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true }),
  );
  return {
    data,
    width: markWidth,
    height: markHeight,
    left: offset(width, markWidth, margin, WEST.includes(position), EAST.includes(position)),
    top: offset(height, markHeight, margin, NORTH.includes(position), SOUTH.includes(position)),
  };
}

/**
 * The pixels with the mark composited, or the same pixels when the image is below `minWidth`.
 * @throws {PipelineError} INTERNAL when sharp fails
 */
export async function watermarkPixels(pixels: Pixels, mark: PreparedWatermark | undefined): Promise<Pixels> {
  if (!mark) return pixels;
  const placed = await markPlacement(mark, pixels.width, pixels.height);
  if (!placed) return pixels;
  if (pixels.channels >= 3) return compositeRegion(pixels, placed);
  // Grey images become RGB (the mark may have colour): the whole image goes through sharp.
  return guardSharp("compositing the watermark", async () => {
    const composited = await fromPixels(pixels)
      .composite([{ input: placed.data, raw: { width: placed.width, height: placed.height, channels: 4 }, left: placed.left, top: placed.top }])
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    const { data, info } =
      pixels.channels === 2
        ? composited
        : await sharp(composited.data, { raw: { width: composited.info.width, height: composited.info.height, channels: composited.info.channels } })
            .removeAlpha()
            .raw({ depth: "uchar" })
            .toBuffer({ resolveWithObject: true });
    return { ...pixels, data, width: info.width, height: info.height, channels: info.channels };
  });
}

/**
 * RGB(A): only the mark's rectangle is composited and copied back into a copy of the pixels
 * (the originals may be the cascade's level); an opaque image stays without alpha.
 */
async function compositeRegion(pixels: Pixels, placed: PlacedMark): Promise<Pixels> {
  const { data: region, info } = await guardSharp("compositing the watermark", () =>
    fromPixels(pixels)
      .extract({ left: placed.left, top: placed.top, width: placed.width, height: placed.height })
      .composite([{ input: placed.data, raw: { width: placed.width, height: placed.height, channels: 4 }, left: 0, top: 0 }])
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true }),
  );
  const data = Buffer.from(pixels.data);
  const channels = pixels.channels;
  for (let y = 0; y < placed.height; y++) {
    for (let x = 0; x < placed.width; x++) {
      const from = (y * placed.width + x) * info.channels;
      const to = ((placed.top + y) * pixels.width + placed.left + x) * channels;
      for (let band = 0; band < channels; band++) data[to + band] = region[from + band];
    }
  }
  return { ...pixels, data };
}
