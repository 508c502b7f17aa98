import type { IntermediateRef } from "./types";

/**
 * Where every object of a job lives. Outputs sit next to each other under the
 * upload's key without extension: `photos/cat.jpg` → `photos/cat/thumb.webp`.
 */

export function outputStem(sourceKey: string): string {
  const withoutExtension = sourceKey.replace(/\.[^./]*$/, "");
  return withoutExtension.replace(/^\/+/, "") || "image";
}

export function outputKey(sourceKey: string, kind: IntermediateRef["kind"], name: string, extension: string): string {
  // Effects are prefixed so a rendition named like an effect cannot overwrite it.
  const file = kind === "effect" ? `effect-${name}` : name;
  return `${outputStem(sourceKey)}/${file}.${extension}`;
}

export function manifestKey(sourceKey: string): string {
  return `${outputStem(sourceKey)}/manifest.json`;
}

export function workKey(jobId: string, kind: IntermediateRef["kind"], name: string, extension: string): string {
  return `${jobId}/${kind}-${name}.${extension}`;
}
