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

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** A rendition is `{ name, width }`; the short form `"thumb:320"` fits Pulumi's typed array config. */
export const renditionSchema = z.preprocess(
  (value) => {
    if (typeof value !== "string") return value;
    const [name, width] = value.split(":");
    return { name, width: width === undefined ? undefined : Number(width) };
  },
  z.object({
    name: z.string().regex(NAME, "a rendition name is lowercase letters, digits and dashes (max 32)"),
    width: z.number().int().min(16).max(8192),
  }),
);
export type Rendition = z.infer<typeof renditionSchema>;

export const processingOptionsSchema = z
  .object({
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
      .object({
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
      .object({
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
  });

export type ProcessingOptions = z.infer<typeof processingOptionsSchema>;
export type ProcessingOptionsInput = z.input<typeof processingOptionsSchema>;

/** The defaults, fully resolved. */
export function defaultProcessingOptions(): ProcessingOptions {
  return processingOptionsSchema.parse({});
}
