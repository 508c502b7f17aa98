import { filterImage, parseFocalPoint, resizeImage, INTERMEDIATE_CONTENT_TYPE, INTERMEDIATE_EXTENSION, type FocalPoint, type Intermediate, type ProcessingOptions } from "../core";
import type { Ports } from "../ports";
import { resizeAnimated } from "./animated";
import { workKey } from "./keys";
import type { IntermediateRef, IntermediatesResult, ValidatedJob } from "./types";
import { loadWatermark } from "./watermark";

/** Resize: renders the configured renditions into the work area. */
export async function resize(job: ValidatedJob, ports: Ports, options: ProcessingOptions): Promise<IntermediatesResult> {
  const [source, focal, watermark] = await Promise.all([readUpload(job, ports), focalPointOf(job, ports, options), loadWatermark(ports, options)]);
  // `animated: keep`: the renditions are encoded here (intermediates hold one frame) and written to their final keys.
  if (job.image?.animated && options.animated === "keep") return resizeAnimated(job, source, ports, options, watermark);
  const items = await resizeImage(source, options, focal, watermark);
  return { items: await storeIntermediates(job.jobId, items, ports) };
}

/** The upload's `focal` metadata ("0.42,0.31"), read only when a rendition crops at `focal`. */
async function focalPointOf(job: ValidatedJob, ports: Ports, options: ProcessingOptions): Promise<FocalPoint | undefined> {
  if (!options.renditions.some((rendition) => rendition.position === "focal")) return undefined;
  const { metadata = {} } = await ports.objects.head("uploads", job.sourceKey, { versionId: job.sourceVersion, etag: job.sourceEtag });
  // Blob metadata names are case-insensitive; S3's come back lower-case.
  const name = Object.keys(metadata).find((key) => key.toLowerCase() === FOCAL_METADATA);
  return parseFocalPoint(name === undefined ? undefined : metadata[name]);
}

/** ApplyFilters: renders the configured effects into the work area; the placeholder travels inline. */
export async function applyFilters(job: ValidatedJob, ports: Ports, options: ProcessingOptions): Promise<IntermediatesResult> {
  const [source, watermark] = await Promise.all([readUpload(job, ports), loadWatermark(ports, options)]);
  const { effects, placeholder, previews } = await filterImage(source, options, watermark);
  return { items: await storeIntermediates(job.jobId, effects, ports), placeholder, ...(previews ? { previews } : {}) };
}

/** The upload in the version Validate checked; NOT_FOUND (versionGone) if it was overwritten on a store that keeps no versions. */
function readUpload(job: ValidatedJob, ports: Ports): Promise<Buffer> {
  return ports.objects.get("uploads", job.sourceKey, { versionId: job.sourceVersion, etag: job.sourceEtag });
}

/** The metadata name of an upload's focal point: S3 `x-amz-meta-focal`, blob metadata `focal`. */
export const FOCAL_METADATA = "focal";

async function storeIntermediates(jobId: string, items: Intermediate[], ports: Ports): Promise<IntermediateRef[]> {
  return Promise.all(
    items.map(async ({ name, kind, width, height, data, crop }) => {
      const key = workKey(jobId, kind, name, INTERMEDIATE_EXTENSION);
      await ports.objects.put("work", key, data, INTERMEDIATE_CONTENT_TYPE);
      return { name, kind, key, width, height, ...(crop ? { crop } : {}) };
    }),
  );
}
