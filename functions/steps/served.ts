import type { Manifest, ManifestEntry } from "./types";

/**
 * The manifest's outputs as each rendition and effect is served: every stored file, plus, under
 * a skipped file's name, the other rendition's file that serves it (`servedBy`), once per name.
 * What lists a URL for every configured rendition reads this (the API's GET /jobs/{id}); type
 * imports only, so the API loads no image core.
 * @example servedOutputs(manifest) // [...outputs, { ...thumbJpeg, name: "medium" }] when medium is served by thumb.jpg
 */
export function servedOutputs(manifest: Pick<Manifest, "outputs" | "skipped">): ManifestEntry[] {
  const byKey = new Map(manifest.outputs.map((entry) => [entry.key, entry]));
  const listed = new Set(manifest.outputs.map((entry) => `${entry.kind} ${entry.name} ${entry.key}`));
  const served: ManifestEntry[] = [];
  for (const skipped of manifest.skipped ?? []) {
    const server = byKey.get(skipped.servedBy);
    const id = `${skipped.kind} ${skipped.name} ${skipped.servedBy}`;
    if (!server || listed.has(id)) continue;
    listed.add(id);
    served.push({ ...server, name: skipped.name, kind: skipped.kind });
  }
  return [...manifest.outputs, ...served];
}

/** The query parameter of a JPEG rendition's CDN URL that lists the formats the edge may serve instead (functions/edge/negotiateFormat.js). */
export const NEGOTIABLE_QUERY_PARAMETER = "f";
const NEGOTIABLE = ["avif", "webp"] as const;

/**
 * The formats stored beside a JPEG output, best first, as the CDN URL's `f` value (`avif-webp`): the
 * edge rewrites `<name>.jpg` only to a listed format, since Optimize may have left one out (larger
 * than the JPEG, or served by another rendition's file). Undefined for other files or when none is.
 * @example negotiableFormats(manifest, "users/u1/cat.jpg/large.jpg") // "avif" when large.webp was left out
 */
export function negotiableFormats(manifest: Pick<Manifest, "outputs">, key: string): string | undefined {
  const match = /^(.*)\.jpe?g$/i.exec(key);
  if (!match) return undefined;
  const stored = new Set(manifest.outputs.map((entry) => entry.key));
  const formats = NEGOTIABLE.filter((format) => stored.has(`${match[1]}.${format}`));
  return formats.length > 0 ? formats.join("-") : undefined;
}
