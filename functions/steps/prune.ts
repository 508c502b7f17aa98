import { STORED_TYPES } from "../core/optimize";
import type { ObjectStore } from "../ports";
import { manifestKey, outputKey, outputPrefix } from "./keys";
import type { Manifest } from "./types";

/**
 * Removing renditions no longer configured: after a run published its manifest,
 * every object directly under the upload's output prefix that the manifest does
 * not name (and is not the manifest) is from an older configuration.
 * Only direct children: the outputs of an upload whose key continues this one's
 * (`cat.jpg/x.png` → `cat.jpg/x.png/thumb.webp`) live deeper and are left alone.
 *
 * @returns the keys deleted, in key order.
 * @example await pruneStaleOutputs("photos/cat.jpg", ["photos/cat.jpg/thumb.webp"], ports.objects) // ["photos/cat.jpg/large.webp"] after "large" left the renditions
 */
export async function pruneStaleOutputs(sourceKey: string, keep: Iterable<string>, objects: ObjectStore): Promise<string[]> {
  const prefix = `${outputPrefix(sourceKey)}/`;
  const kept = new Set([...keep, manifestKey(sourceKey)]);
  const stale: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await objects.list("renditions", prefix, { cursor });
    for (const { key } of page.items) {
      if (!key.slice(prefix.length).includes("/") && !kept.has(key)) stale.push(key);
    }
    cursor = page.cursor;
  } while (cursor);
  // Deleting is idempotent: a retry after a partial prune finishes it.
  for (const key of stale) await objects.delete("renditions", key);
  return stale;
}

/** Prunes against the manifest the run just published (at `key`). */
export async function pruneToManifest(key: string, objects: ObjectStore): Promise<string[]> {
  const manifest = JSON.parse((await objects.get("renditions", key)).toString("utf8")) as Manifest;
  return pruneStaleOutputs(manifest.sourceKey, manifest.outputs.map((output) => output.key), objects);
}

/**
 * Clears the keys of the files a run left out (the manifest's `skipped`, e.g. a rendition served by
 * a smaller one's identical file) of what an older run of the upload stored there, so a URL built
 * from a rendition's name never serves an older picture. A key an output has is left alone (a
 * lossless file stored where its lossy alternative was skipped). Runs after the manifest is
 * published, which names none of these keys; deleting an absent key is fine.
 * @returns the keys deleted
 * @example await removeSkippedOutputs(manifest, ports.objects) // ["photos/cat.jpg/medium.jpg"] when medium is served by thumb.jpg
 */
export async function removeSkippedOutputs(manifest: Pick<Manifest, "sourceKey" | "outputs" | "skipped">, objects: ObjectStore): Promise<string[]> {
  const stored = new Set(manifest.outputs.map((output) => output.key));
  const keys = [...new Set(manifest.skipped.map((entry) => outputKey(manifest.sourceKey, entry.kind, entry.name, STORED_TYPES[entry.format].extension)))].filter((key) => !stored.has(key));
  for (const key of keys) await objects.delete("renditions", key);
  return keys;
}
