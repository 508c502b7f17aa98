import { z } from "zod";

/**
 * What the image core does with pixels: renditions, effects, output formats,
 * input limits. The stack config embeds this schema (components/config.ts) and
 * the deployed functions receive the parsed value, so both agree by construction.
 */

export const INPUT_FORMATS = ["jpeg", "png", "webp", "avif", "gif", "tiff", "svg", "heif", "jp2"] as const;
export const OUTPUT_FORMATS = ["jpeg", "webp", "avif"] as const;
export const FILTERS = ["grayscale", "sepia", "blur", "sharpen", "normalize", "placeholder"] as const;

export type InputFormat = (typeof INPUT_FORMATS)[number];
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export type FilterName = (typeof FILTERS)[number];

/**
 * Input formats the bundled sharp decodes (tests/functions/core/options.test.ts asks
 * `sharp.format`, so this cannot drift). Its prebuilt libvips has no JPEG 2000 loader and
 * decodes AVIF but not HEVC-coded HEIC: https://github.com/lovell/sharp/issues/4050
 */
export const DECODABLE_INPUT_FORMATS = ["jpeg", "png", "webp", "avif", "gif", "tiff", "svg"] as const satisfies readonly InputFormat[];

/** Input formats the core decodes itself, outside sharp: HEIC through libheif's WebAssembly build (functions/core/heic.ts). */
export const WASM_DECODED_INPUT_FORMATS = ["heif"] as const satisfies readonly InputFormat[];

type AcceptableInputFormat = (typeof DECODABLE_INPUT_FORMATS)[number] | (typeof WASM_DECODED_INPUT_FORMATS)[number];
const isAcceptable = (format: InputFormat): format is AcceptableInputFormat =>
  (DECODABLE_INPUT_FORMATS as readonly string[]).includes(format) || (WASM_DECODED_INPUT_FORMATS as readonly string[]).includes(format);

/** Why a format the schema knows (it is recognised to be refused) cannot be accepted, and the way out. */
const UNDECODABLE_INPUT: Record<Exclude<InputFormat, AcceptableInputFormat>, string> = {
  jp2: "the bundled sharp cannot decode JPEG 2000 (its prebuilt libvips has no OpenJPEG); remove \"jp2\" and convert such images to PNG or TIFF before uploading",
};

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Reports the first repeated entry of a list: `formats: [webp, webp]` is a typo, not a wish. */
function refuseDuplicates(list: readonly string[], path: (string | number)[], ctx: z.RefinementCtx): void {
  const index = list.findIndex((item, i) => list.indexOf(item) !== i);
  if (index >= 0) ctx.addIssue({ code: "custom", path: [...path, index], message: `"${list[index]}" is listed twice; list each once` });
}

export const FITS = ["inside", "cover", "contain"] as const;
export const POSITIONS = ["centre", "attention", "entropy", "focal"] as const;
export type Fit = (typeof FITS)[number];
export type Position = (typeof POSITIONS)[number];

const SHORT_RENDITION = /^([^:]*):(\d+)(?:x(\d+))?(?::([a-z]+))?(?::([a-z]+))?$/;

/**
 * The short form Pulumi's typed array config carries: `name:width[xheight][:fit][:position]`,
 * e.g. "thumb:320", "card:600x400:cover:attention". Text that does not match goes to the schema
 * as it is, so the message names the rendition and the expected form.
 */
export function parseRenditionText(text: string): unknown {
  const match = SHORT_RENDITION.exec(text.trim());
  if (!match) return { name: text, width: undefined, form: "invalid" };
  const [, name, width, height, fit, position] = match;
  return {
    name,
    width: Number(width),
    ...(height !== undefined ? { height: Number(height) } : {}),
    ...(fit !== undefined ? { fit } : {}),
    ...(position !== undefined ? { position } : {}),
  };
}

/**
 * A rendition: `{ name, width, height?, fit?, position? }`. `inside` (default) fits the image
 * inside width (x height), never enlarged; `cover` fills width x height and crops what is left
 * over at `position`; `contain` fits inside width x height and pads the rest (transparent, white in JPEG).
 */
export const renditionSchema = z.preprocess(
  (value) => (typeof value === "string" ? parseRenditionText(value) : value),
  z
    .strictObject({
      name: z.string().regex(NAME, "a rendition name is lowercase letters, digits and dashes (max 32)"),
      width: z.number("a rendition is \"name:width[xheight][:fit][:position]\" text, e.g. \"thumb:320\" or \"card:600x400:cover:attention\"").int().min(16).max(8192),
      height: z.number().int().min(16).max(8192).optional(),
      fit: z.enum(FITS).default("inside"),
      position: z.enum(POSITIONS).default("centre"),
      form: z.literal("invalid").optional(),
    })
    .superRefine((value, ctx) => {
      if (value.form === "invalid") ctx.addIssue({ code: "custom", path: [], message: `"${value.name}" is not "name:width[xheight][:fit][:position]" text, e.g. "card:600x400:cover:attention"` });
      if (value.fit !== "inside" && value.height === undefined) {
        ctx.addIssue({ code: "custom", path: ["height"], message: `fit "${value.fit}" needs a height, e.g. "${value.name}:${value.width}x${value.width}:${value.fit}"` });
      }
      if (value.position !== "centre" && value.fit !== "cover") {
        ctx.addIssue({ code: "custom", path: ["position"], message: `position "${value.position}" chooses what a cover crop keeps; it needs fit "cover", e.g. "${value.name}:${value.width}x${value.height ?? value.width}:cover:${value.position}"` });
      }
    })
    .transform(({ form: _form, ...rendition }) => rendition),
);
export type Rendition = z.infer<typeof renditionSchema>;

/** Compact previews the manifest can carry besides the inline WebP placeholder. */
export const PLACEHOLDERS = ["thumbhash", "blurhash", "color"] as const;
export type PlaceholderKind = (typeof PLACEHOLDERS)[number];

export const ANIMATED_POLICIES = ["first-frame", "keep", "reject"] as const;
export type AnimatedPolicy = (typeof ANIMATED_POLICIES)[number];

/** sharp's gravity names a watermark can sit at (https://sharp.pixelplumbing.com/api-composite). */
export const WATERMARK_POSITIONS = ["north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest", "centre"] as const;
export type WatermarkPosition = (typeof WATERMARK_POSITIONS)[number];

/** `uploads:<key>` (an object in the uploads store) or `file:<path>` (a file of the repo, bundled with the functions). */
const WATERMARK_SOURCE = /^(uploads:[^\s].*|file:(?!\/)(?!(?:.*\/)?\.\.(?:\/|$))[\w./-]+\.(?:png|webp|svg|jpe?g|gif|avif))$/;

export const watermarkSchema = z.strictObject({
  source: z
    .string()
    .max(1024)
    .regex(WATERMARK_SOURCE, 'a watermark source is "uploads:<key>" or "file:<path in the repo>.png" (relative, no "..", an image extension)'),
  position: z.enum(WATERMARK_POSITIONS).default("southeast"),
  opacity: z.number().min(0).max(1).default(0.5),
  /** Pixels between the mark and the rendition's edges. */
  margin: z.number().int().min(0).max(1000).default(16),
  /** The mark's width as a fraction of the rendition's width. */
  scale: z.number().gt(0).max(1).default(0.2),
  /** Renditions and effects narrower than this get no mark (thumbnails). */
  minWidth: z.number().int().min(0).max(8192).default(640),
});
export type WatermarkOptions = z.infer<typeof watermarkSchema>;

export const processingOptionsSchema = z
  .strictObject({
    renditions: z
      .array(renditionSchema)
      .min(1, "at least one rendition is needed (e.g. thumb:320)")
      .max(10)
      .default([
        { name: "thumb", width: 320, fit: "inside", position: "centre" },
        { name: "medium", width: 1024, fit: "inside", position: "centre" },
        { name: "large", width: 2048, fit: "inside", position: "centre" },
      ]),
    filters: z.array(z.enum(FILTERS)).max(FILTERS.length).default(["placeholder"]),
    /** Width the effects (other than the placeholder) are rendered at. */
    filterWidth: z.number().int().min(16).max(8192).default(1024),
    formats: z.array(z.enum(OUTPUT_FORMATS)).min(1, "at least one output format is needed").default(["webp", "jpeg"]),
    quality: z
      .strictObject({
        jpeg: z.number().int().min(1).max(100).default(80),
        webp: z.number().int().min(1).max(100).default(80),
        avif: z.number().int().min(1).max(100).default(50),
      })
      .prefault({}),
    /** AVIF's default effort is far too slow for a pipeline default (1.2 s at 720 px). */
    avifEffort: z.number().int().min(0).max(9).default(2),
    /**
     * WebP effort 0–6 (libwebp's `method`, sharp's default 4), for every WebP encode. 2 takes about half
     * the CPU of 4 for files about 5 % larger (`npm run bench -- --only encoders`); 4 is kept for the bytes.
     */
    webpEffort: z.number().int().min(0).max(6).default(4),
    /** Keep nothing (default), or the ICC profile, or ICC profile plus copyright/artist EXIF. Never GPS. */
    keepMetadata: z.enum(["none", "icc", "icc-copyright"]).default("none"),
    limits: z
      .strictObject({
        maxBytes: z.number().int().min(1).max(1024 * 1024 * 1024).default(50 * 1024 * 1024),
        maxPixels: z.number().int().min(1).max(1_000_000_000).default(100_000_000),
        maxFrames: z.number().int().min(1).max(10_000).default(100),
        /** Width x page height x frames an animation may decode to with `animated: keep` (checked from the header). */
        maxAnimatedPixels: z.number().int().min(1).max(10_000_000_000).default(100_000_000),
        formats: z.array(z.enum(INPUT_FORMATS)).min(1).default(["jpeg", "png", "webp", "avif", "gif", "tiff", "heif"]),
      })
      .prefault({}),
    /**
     * Animated GIF/WebP input: render the first frame (default: a still costs a fraction of every
     * frame, and the issue keeps the default path as fast as today), keep every frame, or reject it.
     */
    animated: z.enum(ANIMATED_POLICIES).default("first-frame"),
    /** An image composited onto renditions and effects at least `minWidth` wide; none by default. */
    watermark: watermarkSchema.optional(),
    /** ThumbHash and BlurHash strings and the dominant colour, in the manifest; none by default. */
    placeholders: z.array(z.enum(PLACEHOLDERS)).max(PLACEHOLDERS.length).default([]),
    /**
     * What Optimize stores (#14.7): `keepLarger` keeps a WebP/AVIF that came out larger than the rendition's JPEG.
     * `jpegScanSearch`: mozjpeg's search for the best progressive scan split (sharp's `optimiseScans`), about 30 %
     * of the JPEG encode's CPU for files 0–4 % smaller (README, Benchmarks): off by default (#13).
     * `jpegTrellis`: mozjpeg's trellis quantisation, about two thirds of the JPEG encode's CPU for files about
     * 10 % smaller: on by default, since the bytes are stored for as long as the image lives (README, What it costs).
     */
    optimize: z
      .strictObject({ keepLarger: z.boolean().default(false), jpegScanSearch: z.boolean().default(false), jpegTrellis: z.boolean().default(true) })
      .prefault({}),
    /** Ready `srcset`/`sizes` strings and a `<picture>` snippet per rendition set, in the manifest. */
    markup: z.boolean().default(false),
    /** The `sizes` attribute of that markup: how wide the image is shown, e.g. "(max-width: 600px) 100vw, 50vw". */
    sizes: z.string().trim().min(1).max(500).regex(/^[^<>"]*$/, "sizes is a media-condition list, without <, > or \"").default("100vw"),
  })
  .superRefine((value, ctx) => {
    const names = value.renditions.map((r) => r.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate) ctx.addIssue({ code: "custom", path: ["renditions"], message: `rendition names must be unique; "${duplicate}" appears twice` });
    refuseDuplicates(value.formats, ["formats"], ctx);
    refuseDuplicates(value.filters, ["filters"], ctx);
    refuseDuplicates(value.limits.formats, ["limits", "formats"], ctx);
    refuseDuplicates(value.placeholders, ["placeholders"], ctx);
    value.limits.formats.forEach((format, i) => {
      if (!isAcceptable(format)) ctx.addIssue({ code: "custom", path: ["limits", "formats", i], message: UNDECODABLE_INPUT[format] });
    });
  });

export type ProcessingOptions = z.infer<typeof processingOptionsSchema>;
export type ProcessingOptionsInput = z.input<typeof processingOptionsSchema>;

/** The defaults, fully resolved. */
export function defaultProcessingOptions(): ProcessingOptions {
  return processingOptionsSchema.parse({});
}

/** The repo files a function bundle must carry for these options: the `file:` watermark, if any. */
export function bundledFiles(options: Pick<ProcessingOptions, "watermark">): string[] {
  const source = options.watermark?.source;
  return source?.startsWith("file:") ? [source.slice("file:".length)] : [];
}
