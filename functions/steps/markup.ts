import { OUTPUT_TYPES, renditionShape, STORED_TYPES, type OutputFormat, type ProcessingOptions, type Rendition } from "../core";
import { outputFileName } from "./keys";
import type { ManifestEntry, ResponsiveSet, SkippedOutput, StepOutputs } from "./types";

/**
 * Ready responsive markup for the manifest (`markup: true`): per rendition set, `srcset`
 * strings per format, the configured `sizes`, and a `<picture>` snippet with AVIF/WebP
 * sources, a JPEG (else WebP) `<img>` with width and height (no layout shift), and the
 * placeholder as its background. URLs are the outputs' keys relative to the output prefix
 * (`thumb.webp`): prepend the prefix's URL, or serve the snippet from there.
 *
 * A file that Optimize did not store is replaced by the stored file its `skipped` entry names
 * (`servedBy`): the rendition's fallback file (JPEG, or PNG for a graphic) for a format larger
 * than it, which every browser that takes the `<source>` also shows in fewer bytes; or another
 * rendition's file of the same format that is as large in no more bytes. Each stored file is
 * listed once, with its real width.
 *
 * A set is the renditions showing the same picture at different widths: the uncropped ones
 * (`original`), and each group of `cover`/`contain` renditions with one aspect ratio, fit and
 * position, named after its first rendition.
 */

/** `<source>` order: the smallest formats first, as browsers take the first they support. */
const SOURCE_ORDER: OutputFormat[] = ["avif", "webp", "jpeg"];
/** The `<img>` fallback: the most widely supported configured format. */
const FALLBACK_ORDER: OutputFormat[] = ["jpeg", "webp", "avif"];

export function responsiveSets(
  outputs: readonly ManifestEntry[],
  options: ProcessingOptions,
  placeholder?: StepOutputs["placeholder"],
  color?: string,
  skipped: readonly SkippedOutput[] = [],
): ResponsiveSet[] {
  const byKey = new Map(outputs.map((entry) => [entry.key, entry]));
  const servedFor = (name: string, format: OutputFormat) => byKey.get(skipped.find((entry) => entry.kind === "rendition" && entry.name === name && entry.slot === format)?.servedBy ?? "");
  const groups = new Map<string, Rendition[]>();
  for (const rendition of options.renditions) {
    const key = renditionShape(rendition);
    groups.set(key, [...(groups.get(key) ?? []), rendition]);
  }
  const sets: ResponsiveSet[] = [];
  for (const [key, renditions] of groups) {
    const names = new Set(renditions.map((r) => r.name));
    const entries = outputs.filter((entry) => entry.kind === "rendition" && names.has(entry.name));
    if (entries.length === 0) continue;
    sets.push(responsiveSet(key === "original" ? "original" : renditions[0].name, renditions, entries, options, placeholder, color, servedFor));
  }
  return sets;
}

function responsiveSet(
  name: string,
  renditions: Rendition[],
  entries: ManifestEntry[],
  options: ProcessingOptions,
  placeholder: StepOutputs["placeholder"],
  color: string | undefined,
  servedFor: (name: string, format: OutputFormat) => ManifestEntry | undefined,
): ResponsiveSet {
  const srcset: Partial<Record<OutputFormat, string>> = {};
  // An animation has no AVIF and a GIF in JPEG's place (`animated: keep`): list the slots that have files.
  const formats = options.formats.filter((format) => entries.some((entry) => slotOf(entry) === format));
  const fallback = FALLBACK_ORDER.find((format) => formats.includes(format)) as OutputFormat;
  const fileFor = (name: string, format: OutputFormat): ManifestEntry | undefined =>
    entries.find((e) => e.name === name && slotOf(e) === format) ?? servedFor(name, format) ?? (format === fallback ? undefined : fileFor(name, fallback));
  for (const format of formats) {
    // Each file once, and one file per width: renditions never enlarged can end equally wide, which srcset forbids.
    const byWidth = new Map<number, ManifestEntry>();
    const files = [...new Set(renditions.map((r) => fileFor(r.name, format)).filter((e): e is ManifestEntry => e !== undefined))];
    for (const entry of files.sort((a, b) => a.width - b.width)) if (!byWidth.has(entry.width)) byWidth.set(entry.width, entry);
    srcset[format] = [...byWidth.values()].map((entry) => `${fileOf(entry)} ${entry.width}w`).join(", ");
  }
  const largest = entries.filter((entry) => slotOf(entry) === fallback).sort((a, b) => b.width - a.width)[0];
  const sizes = options.sizes;
  const sources = SOURCE_ORDER.filter((format) => format !== fallback && formats.includes(format)).map(
    (format) => `<source type="${OUTPUT_TYPES[format].contentType}" srcset="${srcset[format]}" sizes="${sizes}">`,
  );
  const background = [color, placeholder ? `url(${placeholder.dataUri}) center/cover no-repeat` : undefined].filter(Boolean).join(" ");
  const img =
    `<img src="${fileOf(largest)}" srcset="${srcset[fallback]}" sizes="${sizes}" width="${largest.width}" height="${largest.height}" alt="" loading="lazy" decoding="async"` +
    (background ? ` style="background:${background}">` : ">");
  return {
    name,
    renditions: renditions.map((r) => r.name),
    fit: renditions[0].fit,
    width: largest.width,
    height: largest.height,
    sizes,
    srcset,
    picture: `<picture>${sources.join("")}${img}</picture>`,
  };
}

function fileOf(entry: ManifestEntry): string {
  return outputFileName(entry.kind, entry.name, STORED_TYPES[entry.format].extension);
}

/** The configured format an entry stands for: a PNG (a graphic smaller lossless) or an animated GIF takes JPEG's place. */
function slotOf(entry: ManifestEntry): OutputFormat {
  return entry.slot;
}
