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
