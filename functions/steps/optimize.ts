import { configuredEffects, PipelineError, type ProcessingOptions } from "../core";
import type { Ports } from "../ports";
import { supersededBy } from "./current";
import { manifestKey } from "./keys";
import { responsiveSets } from "./markup";
import { removeSkippedOutputs } from "./prune";
import type { Manifest, ManifestEntry, OptimizeResult, OutputRef, ProcessedJob, SkippedOutput, SupersededResult } from "./types";

/**
 * Optimize: verifies and publishes. Resize and ApplyFilters encoded their outputs, chose
 * what to store (the core's decideVariants) and wrote them to their final keys; this step
 * checks that every configured rendition and effect has a stored file (its own, or the one
 * another's skipped file is served by), then writes the manifest last, so a manifest only ever
 * names objects that exist. It reads no image. The outputs' existence rests on the refs: a step
 * returns a ref only after its write succeeded, so no HEAD per output is spent on it. Once the
 * manifest is out, the keys of files left out are cleared of an older run's objects. A job whose
 * upload was replaced meanwhile (./current.ts) publishes no manifest and returns `superseded`.
 */
export async function optimize(job: ProcessedJob, ports: Ports, options: ProcessingOptions): Promise<OptimizeResult | SupersededResult> {
  // A branch (or Validate) that found the upload replaced wrote nothing: no manifest, no HEAD here.
  const found = job.superseded ?? (Array.isArray(job.processed) ? job.processed.find((result) => result?.superseded)?.superseded : undefined);
  if (found) return { superseded: found };
  if (!job.image || !Array.isArray(job.processed)) {
    throw new PipelineError("CONFIG_INVALID", "Optimize was called without the results of Validate and Process; check the workflow definition.");
  }
  const bytesIn = job.image.bytes;
  const refs = job.processed.flatMap((result) => result.outputs ?? []);
  const skipped = job.processed.flatMap((result) => result.skipped ?? []);
  checkComplete(refs, skipped, options);
  const placeholder = job.processed.find((result) => result.placeholder)?.placeholder;
  const previews = job.processed.find((result) => result.previews)?.previews;

  const outputs = refs.map(({ key, name, kind, format, slot, chosen, lossless, width, height, frames, animated, bytes, contentType, crop }): ManifestEntry => ({
    key,
    name,
    kind,
    format,
    slot,
    chosen,
    ...(lossless ? { lossless } : {}),
    width,
    height,
    ...(frames !== undefined ? { frames } : {}),
    ...(animated ? { animated } : {}),
    bytes,
    savedBytes: bytesIn - bytes,
    contentType,
    ...(crop ? { crop } : {}),
  }));

  const manifest: Manifest = {
    jobId: job.jobId,
    sourceKey: job.sourceKey,
    source: job.image,
    createdAt: new Date().toISOString(),
    outputs,
    skipped,
    placeholder,
    ...(previews ? { previews } : {}),
    ...(options.markup ? { responsive: responsiveSets(outputs, options, placeholder, previews?.color, skipped) } : {}),
  };
  // One HEAD before the manifest (and the skipped keys' deletes after it): a newer upload's job owns them now.
  const superseded = await supersededBy(job, ports);
  if (superseded) return { superseded };
  const key = manifestKey(job.sourceKey);
  await ports.objects.put("renditions", key, Buffer.from(JSON.stringify(manifest, null, 2)), "application/json");
  await removeSkippedOutputs(manifest, ports.objects);
  return { manifestKey: key, outputs: outputs.length, bytesIn, bytesOut: outputs.reduce((sum, entry) => sum + entry.bytes, 0) };
}

/** Every configured rendition and effect has at least one stored file, or a skipped file served by a stored one (another rendition's). */
function checkComplete(refs: readonly OutputRef[], skipped: readonly SkippedOutput[], options: ProcessingOptions): void {
  const expected = [...options.renditions.map((r) => `rendition ${r.name}`), ...configuredEffects(options).map((name) => `effect ${name}`)];
  const keys = new Set(refs.map((ref) => ref.key));
  const stored = new Set([...refs, ...skipped.filter((entry) => keys.has(entry.servedBy))].map((item) => `${item.kind} ${item.name}`));
  const missing = expected.filter((item) => !stored.has(item));
  if (missing.length > 0) {
    throw new PipelineError("INTERNAL", `Optimize found no stored file for ${missing.join(", ")}; the Resize/ApplyFilters results do not match the configuration. Run the job again.`, { missing });
  }
}
