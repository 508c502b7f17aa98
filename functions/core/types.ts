import type { InputFormat, OutputFormat } from "./options";

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
}

/** One final, web-ready file. */
export interface EncodedImage {
  name: string;
  format: OutputFormat;
  width: number;
  height: number;
  data: Buffer;
  contentType: string;
  extension: string;
}

/** Tiny blurred preview, small enough to inline in HTML or JSON. */
export interface Placeholder {
  dataUri: string;
  width: number;
  height: number;
  bytes: number;
}
