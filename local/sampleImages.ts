import sharp from "sharp";
import type { Sharp } from "sharp";
import { PNG_SIGNATURE, pngChunk } from "../functions/core/png";

/**
 * Deterministic sample images made with sharp: photo-like pictures for the
 * benchmark and the demo, and the awkward inputs the tests need (alpha,
 * animation, EXIF orientation, CMYK, GPS, corrupt bytes, a lying PNG header).
 * Nothing here is read from disk, so tests and benchmarks run anywhere.
 */

export type SampleFormat = "jpeg" | "png" | "webp" | "tiff" | "avif";

export interface SamplePhotoOptions {
  width: number;
  height: number;
  /** Same seed, same picture (default 1). */
  seed?: number;
  /** Container to write (default jpeg). */
  format?: SampleFormat;
  /** Encoder quality (default 90, like a camera). */
  quality?: number;
  /** Add a translucent alpha channel (png, webp, tiff, avif only). */
  alpha?: boolean;
}

/** Small, fast, seedable PRNG (mulberry32): the same seed gives the same image on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(length: number, random: () => number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** Random RGB pixels pulled towards their grey, so colours look natural rather than neon. */
function mutedColours(pixels: number, random: () => number): Buffer {
  const bytes = Buffer.alloc(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const grey = 30 + random() * 200;
    for (let c = 0; c < 3; c++) bytes[i * 3 + c] = Math.round(grey + (random() - 0.5) * 90);
  }
  return bytes;
}

/** Gaussian-ish grain around 128 (sum of three uniforms), for film-like noise. */
function grainTile(size: number, amplitude: number, random: () => number): Buffer {
  const bytes = Buffer.alloc(size * size * 3);
  for (let i = 0; i < bytes.length; i++) {
    const gaussian = (random() + random() + random() - 1.5) / 0.5;
    bytes[i] = Math.max(0, Math.min(255, Math.round(128 + gaussian * amplitude)));
  }
  return bytes;
}

/** Random shapes (sky-like ellipses, buildings, lines) as SVG, rendered by sharp's own librsvg. */
function shapesSvg(width: number, height: number, random: () => number): Buffer {
  const colour = () => `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;
  const parts: string[] = [];
  for (let i = 0; i < 24; i++) {
    const cx = random() * width;
    const cy = random() * height;
    const r = (0.02 + random() * 0.12) * Math.min(width, height);
    parts.push(`<ellipse cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" rx="${r.toFixed(1)}" ry="${(r * (0.5 + random())).toFixed(1)}" fill="${colour()}" fill-opacity="${(0.3 + random() * 0.6).toFixed(2)}"/>`);
  }
  for (let i = 0; i < 16; i++) {
    const w = (0.03 + random() * 0.1) * width;
    const h = (0.1 + random() * 0.4) * height;
    parts.push(`<rect x="${(random() * width).toFixed(1)}" y="${(height - h).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${colour()}" fill-opacity="0.8"/>`);
  }
  for (let i = 0; i < 40; i++) {
    parts.push(
      `<line x1="${(random() * width).toFixed(1)}" y1="${(random() * height).toFixed(1)}" x2="${(random() * width).toFixed(1)}" y2="${(random() * height).toFixed(1)}" stroke="${colour()}" stroke-width="${(1 + random() * 6).toFixed(1)}"/>`,
    );
  }
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join("")}</svg>`);
}

/**
 * Raw RGB pixels of a photo-like picture: smooth colour fields (random pixels
 * upscaled), mid-scale texture, hard-edged shapes and fine grain, so encoders and
 * resizers work as hard as on a real photo (not a flat gradient, not pure noise).
 */
export async function samplePhotoPixels(width: number, height: number, seed = 1): Promise<{ data: Buffer; width: number; height: number; channels: 3 }> {
  const random = seededRandom(seed);
  const fieldWidth = Math.max(2, Math.ceil(width / 400));
  const fieldHeight = Math.max(2, Math.ceil(height / 400));
  const fields = await sharp(mutedColours(fieldWidth * fieldHeight, random), { raw: { width: fieldWidth, height: fieldHeight, channels: 3 } })
    .resize(width, height, { fit: "fill", kernel: "cubic" })
    .raw()
    .toBuffer();
  const textureWidth = Math.max(2, Math.ceil(width / 24));
  const textureHeight = Math.max(2, Math.ceil(height / 24));
  const texture = await sharp(randomBytes(textureWidth * textureHeight, random), { raw: { width: textureWidth, height: textureHeight, channels: 1 } })
    .resize(width, height, { fit: "fill", kernel: "mitchell" })
    .blur(3)
    .toColourspace("srgb")
    .raw()
    .toBuffer();
  const tile = Math.min(256, width, height);
  const grain = grainTile(tile, 12, random);
  const data = await sharp(fields, { raw: { width, height, channels: 3 } })
    .composite([
      { input: texture, raw: { width, height, channels: 3 }, blend: "soft-light" },
      { input: shapesSvg(width, height, random), blend: "over" },
      { input: grain, raw: { width: tile, height: tile, channels: 3 }, tile: true, blend: "overlay" },
    ])
    .removeAlpha()
    .raw()
    .toBuffer();
  return { data, width, height, channels: 3 };
}

/**
 * A photo-like image in the given container, deterministic for a seed.
 * @example
 * const jpeg = await samplePhoto({ width: 4000, height: 3000 }); // 12 MP
 * @throws {Error} if sharp cannot write the format (e.g. alpha with jpeg)
 */
export async function samplePhoto(options: SamplePhotoOptions): Promise<Buffer> {
  const { width, height, seed = 1, format = "jpeg", quality = 90, alpha = false } = options;
  if (alpha && format === "jpeg") throw new Error("JPEG cannot carry alpha; choose png, webp, tiff or avif for alpha samples.");
  const pixels = await samplePhotoPixels(width, height, seed);
  let image = sharp(pixels.data, { raw: { width, height, channels: 3 } });
  if (alpha) image = image.joinChannel(await radialAlpha(width, height), { raw: { width, height, channels: 1 } });
  switch (format) {
    case "jpeg":
      return image.jpeg({ quality }).toBuffer();
    case "png":
      return image.png({ compressionLevel: 6 }).toBuffer();
    case "webp":
      return image.webp({ quality }).toBuffer();
    case "tiff":
      return image.tiff({ compression: "lzw" }).toBuffer();
    case "avif":
      return image.avif({ quality: Math.min(quality, 70), effort: 0 }).toBuffer();
  }
}

/** Alpha that is opaque in the middle, fading to fully transparent at the corners. */
async function radialAlpha(width: number, height: number): Promise<Buffer> {
  const alpha = Buffer.alloc(width * height);
  const cx = width / 2;
  const cy = height / 2;
  const radius = Math.hypot(cx, cy);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const distance = Math.hypot(x - cx, y - cy) / radius;
      alpha[y * width + x] = Math.round(255 * Math.max(0, Math.min(1, 1.6 - 1.6 * distance)));
    }
  }
  return alpha;
}

/** PNG with a real alpha channel: opaque centre, transparent corners. */
export async function sampleAlphaPng(width = 400, height = 300, seed = 2): Promise<Buffer> {
  return samplePhoto({ width, height, seed, format: "png", alpha: true });
}

/** Lossy WebP photo. */
export async function sampleWebp(width = 800, height = 600, seed = 3): Promise<Buffer> {
  return samplePhoto({ width, height, seed, format: "webp", quality: 85 });
}

/**
 * An animated image whose frames are solid colours (red, green, blue, ...), so
 * a test can tell which frame came out by its colour.
 */
export async function sampleAnimated(format: "gif" | "webp" = "gif", frames = 3, width = 120, height = 80): Promise<Buffer> {
  const palette = ["#ff0000", "#00ff00", "#0000ff", "#ffff00", "#00ffff", "#ff00ff"];
  const images = Array.from({ length: frames }, (_, i) =>
    sharp({ create: { width, height, channels: 3, background: palette[i % palette.length] } }).png().toBuffer(),
  );
  const joined = sharp(await Promise.all(images), { join: { animated: true } });
  return format === "gif" ? joined.gif({ delay: 100 }).toBuffer() : joined.webp({ delay: 100, lossless: true }).toBuffer();
}

/** The colours of sampleAnimated's frames, in order. */
export const ANIMATED_FRAME_COLOURS = [
  { r: 255, g: 0, b: 0 },
  { r: 0, g: 255, b: 0 },
  { r: 0, g: 0, b: 255 },
] as const;

/** The first `fraction` of a valid image: the header is intact, the pixel data stops. */
export function sampleTruncated(image: Buffer, fraction = 0.5): Buffer {
  return Buffer.from(image.subarray(0, Math.floor(image.length * fraction)));
}

/** Bytes that are no image at all. */
export function sampleRandomBytes(length = 4096, seed = 4): Buffer {
  return randomBytes(length, seededRandom(seed));
}

/** A JPEG whose entropy-coded data is overwritten with garbage after the header. */
export function sampleCorruptJpeg(jpeg: Buffer, seed = 5): Buffer {
  const corrupt = Buffer.from(jpeg);
  const random = seededRandom(seed);
  const start = Math.floor(corrupt.length / 3);
  for (let i = start; i < corrupt.length - 2; i++) corrupt[i] = Math.floor(random() * 256);
  return corrupt;
}

/**
 * A tiny PNG whose (valid, CRC-correct) IHDR claims `width` x `height` RGB pixels:
 * a decompression bomb's header. Only the header is real; the IDAT is a few bytes.
 */
export function sampleHugeHeaderPng(width = 60000, height = 60000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // interlace
  // A stored (uncompressed) zlib block holding one filter byte and one pixel.
  const idat = Buffer.from([0x78, 0x01, 0x01, 0x04, 0x00, 0xfb, 0xff, 0, 0, 0, 0, 0, 0x04, 0x00, 0x01]);
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A small SVG drawing. */
export function sampleSvg(width = 200, height = 100): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#3366cc"/><circle cx="50%" cy="50%" r="30%" fill="#ffcc00"/></svg>`,
  );
}

/** A CMYK JPEG of a single colour (sRGB `rgb` converted by sharp's built-in CMYK profile), with that profile embedded. */
export async function sampleCmykJpeg(rgb: { r: number; g: number; b: number } = { r: 200, g: 60, b: 40 }, width = 160, height = 120): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: rgb } })
    .withIccProfile("cmyk")
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** GPS and camera EXIF tags that must never reach a public output. */
export const SAMPLE_EXIF = {
  IFD0: { Make: "SampleCam", Model: "One", Copyright: "(c) Sample Owner", Artist: "Sample Artist" },
  IFD3: {
    GPSLatitudeRef: "N",
    GPSLatitude: "51/1 30/1 2612/100",
    GPSLongitudeRef: "W",
    GPSLongitude: "0/1 7/1 3972/100",
  },
} as const;

/** A JPEG (or other container) photo carrying camera, copyright and GPS EXIF tags. */
export async function samplePhotoWithGps(width = 640, height = 480, format: "jpeg" | "webp" | "png" = "jpeg"): Promise<Buffer> {
  const pixels = await samplePhotoPixels(width, height, 6);
  return sharp(pixels.data, { raw: { width, height, channels: 3 } })
    .withExif({ IFD0: { ...SAMPLE_EXIF.IFD0 }, IFD3: { ...SAMPLE_EXIF.IFD3 } })
    .toFormat(format, { quality: 90 })
    .toBuffer();
}

/** Upright marker image: blue, with a red block in the top-left corner (a quarter of each side). */
export const MARKER = { width: 120, height: 80, markerWidth: 30, markerHeight: 20, marker: { r: 255, g: 0, b: 0 }, background: { r: 0, g: 0, b: 255 } } as const;

/**
 * A JPEG whose stored pixels are MARKER transformed so that a viewer honouring
 * EXIF `orientation` (1..8) shows MARKER upright: wide, red block top-left.
 */
export async function sampleOriented(orientation: number): Promise<Buffer> {
  if (!Number.isInteger(orientation) || orientation < 1 || orientation > 8) throw new RangeError(`EXIF orientation is 1..8, got ${orientation}`);
  const upright = await sharp({ create: { width: MARKER.width, height: MARKER.height, channels: 3, background: MARKER.background } })
    .composite([
      {
        input: { create: { width: MARKER.markerWidth, height: MARKER.markerHeight, channels: 3, background: MARKER.marker } },
        left: 0,
        top: 0,
      },
    ])
    .png()
    .toBuffer();
  // The inverse of what a viewer does for each orientation (EXIF 2.3, tag 0x0112).
  const stored = await storeForOrientation(upright, orientation);
  return sharp(stored).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
}

async function storeForOrientation(upright: Buffer, orientation: number): Promise<Buffer> {
  const step = (input: Buffer, apply: (image: Sharp) => Sharp) => apply(sharp(input)).png().toBuffer();
  switch (orientation) {
    case 2:
      return step(upright, (i) => i.flop());
    case 3:
      return step(upright, (i) => i.rotate(180));
    case 4:
      return step(upright, (i) => i.flip());
    case 5: // transpose: rotate 90 clockwise, then mirror
      return step(await step(upright, (i) => i.rotate(90)), (i) => i.flop());
    case 6: // viewer rotates 90 clockwise, so store it rotated 90 anticlockwise
      return step(upright, (i) => i.rotate(270));
    case 7: // transverse: rotate 90 clockwise, then flip
      return step(await step(upright, (i) => i.rotate(90)), (i) => i.flip());
    case 8:
      return step(upright, (i) => i.rotate(90));
    default:
      return upright;
  }
}
