import { configuredEffects, encodeEffects, encodeRenditions, parseFocalPoint, type FocalPoint, type ProcessingOptions } from "../core";
import { isVersionGone, type Ports } from "../ports";
import { resizeAnimated } from "./animated";
import { supersededBy } from "./current";
import { storeCurrentOutputs } from "./outputs";
import type { StepOutputs, Superseded, ValidatedJob } from "./types";
import { loadWatermark } from "./watermark";

/**
 * Resize and ApplyFilters write their outputs, encoded and chosen, straight to their final keys
 * (no lossless intermediates: #13) and return references; Optimize publishes the manifest.
 * A retry writes the same keys again (idempotent: same job, same bytes).
 */

/** Resize: one decode of the upload, the renditions, the placeholder and previews. */
export async function resize(job: ValidatedJob, ports: Ports, options: ProcessingOptions): Promise<StepOutputs> {
  if (job.superseded) return { outputs: [], superseded: job.superseded };
  const read = await unlessSuperseded(job, ports, () => Promise.all([readUpload(job, ports), focalPointOf(job, ports, options), loadWatermark(ports, options)]));
  if ("superseded" in read) return read;
  const [source, focal, watermark] = read.value;
  // `animated: keep`: the renditions stay animated (./animated.ts).
  if (job.image?.animated && options.animated === "keep") return resizeAnimated(job, source, ports, options, watermark, focal);
  const { placeholder, previews, ...encoded } = await encodeRenditions(source, options, focal, watermark);
  const stored = await storeCurrentOutputs(job, encoded, ports);
  if (stored.superseded) return stored;
  return { ...stored, ...(placeholder ? { placeholder } : {}), ...(previews ? { previews } : {}) };
}

/** The upload's `focal` metadata ("0.42,0.31"), read only when a rendition crops at `focal`. */
async function focalPointOf(job: ValidatedJob, ports: Ports, options: ProcessingOptions): Promise<FocalPoint | undefined> {
  if (!options.renditions.some((rendition) => rendition.position === "focal")) return undefined;
  const { metadata = {} } = await ports.objects.head("uploads", job.sourceKey, { versionId: job.sourceVersion, etag: job.sourceEtag });
  // Blob metadata names are case-insensitive; S3's come back lower-case.
  const name = Object.keys(metadata).find((key) => key.toLowerCase() === FOCAL_METADATA);
  return parseFocalPoint(name === undefined ? undefined : metadata[name]);
}

/** ApplyFilters: the configured effects, decoded at filterWidth; without effects it reads nothing. */
export async function applyFilters(job: ValidatedJob, ports: Ports, options: ProcessingOptions): Promise<StepOutputs> {
  if (configuredEffects(options).length === 0) return { outputs: [] };
  if (job.superseded) return { outputs: [], superseded: job.superseded };
  const read = await unlessSuperseded(job, ports, () => Promise.all([readUpload(job, ports), loadWatermark(ports, options)]));
  if ("superseded" in read) return read;
  const [source, watermark] = read.value;
  return storeCurrentOutputs(job, await encodeEffects(source, options, watermark), ports);
}

/** The upload in the version Validate checked; NOT_FOUND (versionGone) if it was overwritten on a store that keeps no versions. */
function readUpload(job: ValidatedJob, ports: Ports): Promise<Buffer> {
  return ports.objects.get("uploads", job.sourceKey, { versionId: job.sourceVersion, etag: job.sourceEtag });
}

/**
 * Runs the step's pinned reads; when they find the version gone (Azure's If-Match, or a store without
 * versions, after an overwrite or delete), the job is superseded rather than failed: the step's one
 * HEAD says by what (./current.ts). A version gone while the upload's newest is still it stays an error.
 */
async function unlessSuperseded<T>(job: ValidatedJob, ports: Ports, read: () => Promise<T>): Promise<{ value: T } | { outputs: []; superseded: Superseded }> {
  try {
    return { value: await read() };
  } catch (thrown) {
    if (!isVersionGone(thrown)) throw thrown;
    const superseded = await supersededBy(job, ports);
    if (!superseded) throw thrown;
    return { outputs: [], superseded };
  }
}

/** The metadata name of an upload's focal point: S3 `x-amz-meta-focal`, blob metadata `focal`. */
export const FOCAL_METADATA = "focal";
