import type { InputFormat, OutputFormat, Position } from "./options";

/** What Validate learns from the header alone. */
export interface ImageInfo {
  format: InputFormat;
  /** Width and height as displayed, i.e. with the EXIF orientation applied. */
  width: number;
  height: number;
  /** EXIF orientation 1..8 when present. */
  orientation?: number;
  hasAlpha: boolean;
  /** Frames (animated GIF/WebP) or pages (TIFF); 1 for still images. */
  frames: number;
  /** Set for animated GIF/WebP (more than one frame): `animated: keep` renders them animated. */
  animated?: boolean;
  bytes: number;
  /** libvips colour space name (srgb, cmyk, b-w...). */
  space?: string;
}

/**
 * A lossless image passed from Resize/ApplyFilters to Optimize through storage.
 * `data` is in the core's intermediate encoding (see INTERMEDIATE_* in the core);
 * it is self-describing, so Optimize needs nothing but the bytes and the name.
 */
export interface Intermediate {
  name: string;
  kind: "rendition" | "effect";
  width: number;
  height: number;
  data: Buffer;
  /** The part of the upright source a cropped (`cover`) rendition shows, in source pixels. */
  crop?: CropBox;
}

/** Where a cropped rendition came from, in the upright source's pixels. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
  /** What chose the box: the configured position, or `attention` when `focal` had no focal point. */
  position: Position;
}

/** A focal point as fractions of the upright image's width and height (0..1). */
export interface FocalPoint {
  x: number;
  y: number;
}

/** What an animated rendition is written as: WebP, or GIF in JPEG's place (`animated: keep`). */
export type AnimatedFormat = "webp" | "gif";
/** Every format an output file can have. */
export type EncodedFormat = OutputFormat | AnimatedFormat;

/** One final, web-ready file. */
export interface EncodedImage {
  name: string;
  format: EncodedFormat;
  width: number;
  height: number;
  data: Buffer;
  contentType: string;
  extension: string;
  /** Frames of an animated output (`animated: keep`); absent for stills. */
  frames?: number;
  /** Set when the output is cropped (animated `cover` renditions; stills carry it on their intermediate). */
  crop?: CropBox;
}

/** ThumbHash and BlurHash strings and the dominant colour, as configured in `placeholders`. */
export interface Previews {
  /** Base64 ThumbHash (https://evanw.github.io/thumbhash/). */
  thumbhash?: string;
  /** BlurHash, 4x3 components (3x4 for portrait images). */
  blurhash?: string;
  /** The dominant colour, `#rrggbb`. */
  color?: string;
}

/** Tiny blurred preview, small enough to inline in HTML or JSON. */
export interface Placeholder {
  dataUri: string;
  width: number;
  height: number;
  bytes: number;
}
