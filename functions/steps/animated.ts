import { encodeAnimatedRenditions, type FocalPoint, type PreparedWatermark, type ProcessingOptions } from "../core";
import type { Ports } from "../ports";
import { storeCurrentOutputs } from "./outputs";
import type { StepOutputs, ValidatedJob } from "./types";

/**
 * Resize for an animated upload with `animated: keep`: the animated renditions (WebP, and GIF
 * in JPEG's slot) written to their final keys like every other output, and the placeholder and
 * previews from the first frame; Optimize lists them in the manifest, which it still writes last.
 */
export async function resizeAnimated(
  job: ValidatedJob,
  source: Buffer,
  ports: Ports,
  options: ProcessingOptions,
  watermark: PreparedWatermark | undefined,
  focal: FocalPoint | undefined,
): Promise<StepOutputs> {
  const { placeholder, previews, ...encoded } = await encodeAnimatedRenditions(source, options, watermark, focal);
  const stored = await storeCurrentOutputs(job, encoded, ports);
  if (stored.superseded) return stored;
  return { ...stored, ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}
