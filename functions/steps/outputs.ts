import { STORED_TYPES, type EncodedOutputs } from "../core";
import type { Ports } from "../ports";
import { supersededBy, type PinnedUpload } from "./current";
import { outputKey } from "./keys";
import type { OutputRef, SkippedOutput, StepOutputs } from "./types";

/**
 * storeOutputs for the job's own upload only: one HEAD of the upload's newest version right before
 * the first write; when a newer upload (or a delete) replaced the job's, nothing is written and the
 * step returns `superseded` (./current.ts).
 */
export async function storeCurrentOutputs(job: PinnedUpload, encoded: EncodedOutputs, ports: Ports): Promise<StepOutputs> {
  const superseded = await supersededBy(job, ports);
  if (superseded) return { outputs: [], superseded };
  return storeOutputs(job.sourceKey, encoded, ports);
}

/**
 * Writes a step's encoded, chosen files to their final keys and returns their references
 * (Resize, ApplyFilters and the animated Resize). A ref exists only after its write succeeded.
 */
export async function storeOutputs(sourceKey: string, { files, skipped }: EncodedOutputs, ports: Ports): Promise<StepOutputs> {
  const outputs = await Promise.all(
    files.map(async ({ name, kind, format, slot, width, height, frames, data, contentType, chosen, lossless, crop }): Promise<OutputRef> => {
      const key = outputKey(sourceKey, kind, name, STORED_TYPES[format].extension);
      await ports.objects.put("renditions", key, data, contentType);
      return {
        key,
        name,
        kind,
        format,
        slot,
        width,
        height,
        ...(frames !== undefined ? { frames, animated: true as const } : {}),
        bytes: data.length,
        contentType,
        chosen,
        ...(lossless ? { lossless } : {}),
        ...(crop ? { crop } : {}),
      };
    }),
  );
  const left: SkippedOutput[] = skipped.map(({ name, kind, format, slot, lossless, bytes, reason, servedBy }) => ({
    name,
    kind,
    format,
    slot,
    ...(lossless ? { lossless } : {}),
    bytes,
    reason,
    servedBy: outputKey(sourceKey, kind, servedBy.name, STORED_TYPES[servedBy.format].extension),
  }));
  return { outputs, ...(left.length > 0 ? { skipped: left } : {}) };
}
