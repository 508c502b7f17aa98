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

type DecodableInputFormat = (typeof DECODABLE_INPUT_FORMATS)[number];
const isDecodable = (format: InputFormat): format is DecodableInputFormat => (DECODABLE_INPUT_FORMATS as readonly string[]).includes(format);

/** Why a format the schema knows (it is recognised to be refused) cannot be accepted, and the way out. */
const UNDECODABLE_INPUT: Record<Exclude<InputFormat, DecodableInputFormat>, string> = {
  jp2: "the bundled sharp cannot decode JPEG 2000 (its prebuilt libvips has no OpenJPEG); remove \"jp2\" and convert such images to PNG or TIFF before uploading",
  heif: "the bundled sharp decodes AVIF (accepted as \"avif\") but not HEVC-coded HEIC (its prebuilt libheif has no HEVC decoder); remove \"heif\" and convert HEIC photos to JPEG before uploading",
};

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Reports the first repeated entry of a list: `formats: [webp, webp]` is a typo, not a wish. */
function refuseDuplicates(list: readonly string[], path: (string | number)[], ctx: z.RefinementCtx): void {
  const index = list.findIndex((item, i) => list.indexOf(item) !== i);
  if (index >= 0) ctx.addIssue({ code: "custom", path: [...path, index], message: `"${list[index]}" is listed twice; list each once` });
}

/** A rendition is `{ name, width }`; the short form `"thumb:320"` fits Pulumi's typed array config. */
export const renditionSchema = z.preprocess(
  (value) => {
    if (typeof value !== "string") return value;
    const [name, width] = value.split(":");
    return { name, width: width === undefined ? undefined : Number(width) };
  },
  z.strictObject({
    name: z.string().regex(NAME, "a rendition name is lowercase letters, digits and dashes (max 32)"),
    width: z.number().int().min(16).max(8192),
  }),
);
export type Rendition = z.infer<typeof renditionSchema>;

export const processingOptionsSchema = z
  .strictObject({
    renditions: z
      .array(renditionSchema)
      .min(1, "at least one rendition is needed (e.g. thumb:320)")
      .max(10)
      .default([
        { name: "thumb", width: 320 },
        { name: "medium", width: 1024 },
        { name: "large", width: 2048 },
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
    /** Keep nothing (default), or the ICC profile, or ICC profile plus copyright/artist EXIF. Never GPS. */
    keepMetadata: z.enum(["none", "icc", "icc-copyright"]).default("none"),
    limits: z
      .strictObject({
        maxBytes: z.number().int().min(1).max(1024 * 1024 * 1024).default(50 * 1024 * 1024),
        maxPixels: z.number().int().min(1).max(1_000_000_000).default(100_000_000),
        maxFrames: z.number().int().min(1).max(10_000).default(100),
        formats: z.array(z.enum(INPUT_FORMATS)).min(1).default(["jpeg", "png", "webp", "avif", "gif", "tiff"]),
      })
      .prefault({}),
    /** Animated input: render the first frame (default) or reject it. */
    animated: z.enum(["first-frame", "reject"]).default("first-frame"),
  })
  .superRefine((value, ctx) => {
    const names = value.renditions.map((r) => r.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate) ctx.addIssue({ code: "custom", path: ["renditions"], message: `rendition names must be unique; "${duplicate}" appears twice` });
    refuseDuplicates(value.formats, ["formats"], ctx);
    refuseDuplicates(value.filters, ["filters"], ctx);
    refuseDuplicates(value.limits.formats, ["limits", "formats"], ctx);
    value.limits.formats.forEach((format, i) => {
      if (!isDecodable(format)) ctx.addIssue({ code: "custom", path: ["limits", "formats", i], message: UNDECODABLE_INPUT[format] });
    });
  });

export type ProcessingOptions = z.infer<typeof processingOptionsSchema>;
export type ProcessingOptionsInput = z.input<typeof processingOptionsSchema>;

/** The defaults, fully resolved. */
export function defaultProcessingOptions(): ProcessingOptions {
  return processingOptionsSchema.parse({});
}
