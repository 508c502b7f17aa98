import sharp from "sharp";
import type { OverlayOptions, ResizeOptions, Sharp } from "sharp";
import { ENCODED_TYPES, webpSettings } from "./optimize";
import type { OutputFormat, Position, ProcessingOptions, Rendition } from "./options";
import { decodeSource, MAX_DIMENSION } from "./pixels";
import { centredWindow, strategyWindow } from "./resize";
import { guardSharp } from "./sharpErrors";
import type { AnimatedFormat, CropBox, EncodedImage, FocalPoint } from "./types";
import { markPlacement, type PreparedWatermark } from "./watermark";

/**
 * `animated: keep`: every rendition of an animated GIF/WebP stays animated. WebP stays
 * animated WebP; JPEG cannot animate, so its slot becomes an animated GIF; AVIF is left
 * out, since sharp writes no AVIF sequences (a still would replace the animation):
 * https://github.com/lovell/sharp/issues/4250. When AVIF is the only format, WebP is written.
 *
 * Memory: sharp reads the frames as one tall strip (`animated: true`) and libvips streams it
 * through resize and encode, so memory follows the rendition's strip, not the upload's
 * (`npm run bench -- --only animation` measures peak RSS on a 200-frame input). The frame and
 * pixel×frame limits are checked from the header by Validate before any frame is decoded.
 * Crops: sharp's `attention`/`entropy` strategies refuse multi-page images, so the window is chosen
 * on the first frame (as the still path would crop it) and cut from every frame at the same place
 * (sharp's `extract` works page by page on an animation); `focal` centres it on the upload's focal point.
 */

/** What each configured format becomes for an animation. */
const ANIMATED_FORMAT: Record<OutputFormat, AnimatedFormat | undefined> = { webp: "webp", jpeg: "gif", avif: undefined };

/** The animated encodings for the configured formats, in configuration order. */
export function animatedFormats(formats: readonly OutputFormat[]): AnimatedFormat[] {
  const chosen = formats.map((format) => ANIMATED_FORMAT[format]).filter((format): format is AnimatedFormat => format !== undefined);
  return chosen.length > 0 ? chosen : ["webp"];
}

interface AnimatedSource {
  width: number;
  pageHeight: number;
  pages: number;
}

/** One rendition's frame: the resize, then padding (`contain`) to exactly `width` x `height`, or the window cut from every frame (`cover`). */
interface FramePlan {
  resize: ResizeOptions;
  pad?: { left: number; right: number; top: number; bottom: number };
  /** The window of the resized frame that `cover` keeps, when it is not the centre (sharp's cover crops at the centre itself). */
  extract?: { left: number; top: number; width: number; height: number };
  width: number;
  height: number;
  crop?: CropBox;
}

/**
 * Sizes are computed here, not left to sharp, so each frame's size (which places a
 * watermark on every frame of the strip) is known before anything is decoded.
 */
async function plan(rendition: Rendition, source: AnimatedSource, input: Buffer, options: ProcessingOptions, focal: FocalPoint | undefined): Promise<FramePlan> {
  const { width: sourceWidth, pageHeight: sourceHeight } = source;
  const fitInside = (boxWidth: number, boxHeight: number) => {
    const scale = Math.min(1, boxWidth / sourceWidth, boxHeight / sourceHeight);
    const size = { width: Math.max(1, Math.round(sourceWidth * scale)), height: Math.max(1, Math.round(sourceHeight * scale)) };
    return { resize: { ...size, fit: "fill" as const }, ...size };
  };
  if (rendition.fit === "inside") return fitInside(rendition.width, rendition.height ?? MAX_DIMENSION);
  const height = rendition.height ?? rendition.width;
  if (rendition.fit === "contain") {
    const inside = fitInside(rendition.width, height);
    const [padX, padY] = [rendition.width - inside.width, height - inside.height];
    const pad = { left: Math.floor(padX / 2), right: padX - Math.floor(padX / 2), top: Math.floor(padY / 2), bottom: padY - Math.floor(padY / 2) };
    return { resize: inside.resize, pad, width: rendition.width, height };
  }
  // As the still path: scale to cover the box (never enlarge), then cut the box (smaller when the source is).
  const scale = Math.min(1, Math.max(rendition.width / sourceWidth, height / sourceHeight));
  const cutWidth = Math.min(rendition.width, Math.max(1, Math.ceil(sourceWidth * scale)));
  const cutHeight = Math.min(height, Math.max(1, Math.round(sourceHeight * scale)));
  const cropWidth = Math.min(sourceWidth, Math.round(cutWidth / scale));
  const cropHeight = Math.min(sourceHeight, Math.round(cutHeight / scale));
  const position: Position = rendition.position === "focal" && !focal ? "attention" : rendition.position;
  if (position === "centre") {
    const crop: CropBox = { left: Math.round((sourceWidth - cropWidth) / 2), top: Math.round((sourceHeight - cropHeight) / 2), width: cropWidth, height: cropHeight, position };
    return { resize: { width: cutWidth, height: cutHeight, fit: "cover", position: "centre" }, width: cutWidth, height: cutHeight, crop };
  }
  // Every frame is scaled to cover the box, then the same window is cut from each.
  const level = { width: Math.max(cutWidth, Math.ceil(sourceWidth * scale)), height: Math.max(cutHeight, Math.round(sourceHeight * scale)) };
  const window = await coverWindow(position, level, { width: cutWidth, height: cutHeight }, input, options, focal, rendition.name);
  const crop: CropBox = { left: Math.round(window.left / scale), top: Math.round(window.top / scale), width: cropWidth, height: cropHeight, position };
  return { resize: { ...level, fit: "fill" }, extract: { ...window, width: cutWidth, height: cutHeight }, width: cutWidth, height: cutHeight, crop };
}

/**
 * Where a `cover` window sits in the frame scaled to `level`: on the focal point, or where sharp's
 * attention/entropy strategy puts it on the first frame, decoded as the still path decodes an upload
 * (the same window choice as a still's crop: ./resize.ts).
 */
async function coverWindow(
  position: Exclude<Position, "centre">,
  level: { width: number; height: number },
  cut: { width: number; height: number },
  input: Buffer,
  options: ProcessingOptions,
  focal: FocalPoint | undefined,
  name: string,
): Promise<{ left: number; top: number }> {
  if (position === "focal" && focal) return centredWindow(level, cut.width, cut.height, { x: focal.x * level.width, y: focal.y * level.height });
  const first = await decodeSource(input, options, { ...level, fit: "fill" });
  const { left, top } = await strategyWindow(first, cut.width, cut.height, position === "entropy" ? "entropy" : "attention", name);
  return { left, top };
}

/** Reads every frame: the header check (limits.maxAnimatedPixels) already bounded the whole strip. */
function animatedInput(input: Buffer, options: ProcessingOptions): Sharp {
  return sharp(input, { animated: true, failOn: "warning", limitInputPixels: Math.max(options.limits.maxPixels, options.limits.maxAnimatedPixels), sequentialRead: true });
}

/** One overlay per frame: sharp's gravity would place a mark once on the whole strip. */
function markEveryFrame(mark: { data: Buffer; width: number; height: number; left: number; top: number }, pageHeight: number, pages: number): OverlayOptions[] {
  return Array.from({ length: pages }, (_, page) => ({
    input: mark.data,
    raw: { width: mark.width, height: mark.height, channels: 4 as const },
    left: mark.left,
    top: page * pageHeight + mark.top,
  }));
}

function encoder(image: Sharp, format: AnimatedFormat, options: ProcessingOptions): Sharp {
  // sharp keeps the source's loop count and frame delays on output.
  return format === "webp" ? image.webp(webpSettings(options)) : image.gif();
}

/**
 * Renders every configured rendition of an animated upload, each frame resized (cropped,
 * padded, watermarked) and encoded as animated WebP / GIF.
 * @example
 * const outputs = await renderAnimatedRenditions(gif, { ...options, animated: "keep" });
 * // [{ name: "thumb", format: "webp", frames: 24, ... }, { name: "thumb", format: "gif", ... }, ...]
 * @param watermark the decoded mark (`prepareWatermark`), when `watermark` is configured
 * @param focal the upload's focal point, for `position: focal` crops (else those crop by `attention`)
 * @throws {PipelineError} CORRUPT_IMAGE when a frame cannot be decoded
 */
export async function renderAnimatedRenditions(input: Buffer, options: ProcessingOptions, watermark?: PreparedWatermark, focal?: FocalPoint): Promise<EncodedImage[]> {
  const header = await guardSharp("reading the animation header", () => sharp(input, { animated: true, limitInputPixels: false }).metadata(), options.limits);
  const pages = Math.max(1, header.pages ?? 1);
  const source: AnimatedSource = { width: header.width, pageHeight: header.pageHeight ?? header.height, pages };
  const formats = animatedFormats(options.formats);
  const perRendition = await Promise.all(
    options.renditions.map(async (rendition) => {
      const frame = await plan(rendition, source, input, options, focal);
      const label = `animated rendition ${rendition.name}`;
      const mark = watermark ? await markPlacement(watermark, frame.width, frame.height) : undefined;
      return Promise.all(
        formats.map(async (format) => {
          let image = animatedInput(input, options).resize(frame.resize);
          if (frame.extract) image = image.extract(frame.extract);
          if (frame.pad) image = image.extend({ ...frame.pad, background: PADDING });
          if (mark) image = image.composite(markEveryFrame(mark, frame.height, pages));
          const { data, info } = await guardSharp(`encoding ${label} as ${format}`, () => encoder(image, format, options).toBuffer({ resolveWithObject: true }), options.limits);
          const encoded: EncodedImage = { name: rendition.name, format, width: info.width, height: info.pageHeight ?? info.height, data, ...ENCODED_TYPES[format], frames: info.pages ?? pages };
          return frame.crop ? { ...encoded, crop: frame.crop } : encoded;
        }),
      );
    }),
  );
  return perRendition.flat();
}

/** Transparent padding for `contain`, as in the still path. */
const PADDING = { r: 255, g: 255, b: 255, alpha: 0 };
