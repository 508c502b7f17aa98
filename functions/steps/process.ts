import { filterImage, resizeImage, INTERMEDIATE_CONTENT_TYPE, INTERMEDIATE_EXTENSION, type Intermediate, type ProcessingOptions } from "../core";
import type { Ports } from "../ports";
import { workKey } from "./keys";
import type { IntermediateRef, IntermediatesResult, ValidatedJob } from "./types";

/** Resize: renders the configured renditions into the work area. */
export async function resize(job: ValidatedJob, ports: Ports, options: ProcessingOptions): Promise<IntermediatesResult> {
  const source = await readUpload(job, ports);
  const items = await resizeImage(source, options);
  return { items: await storeIntermediates(job.jobId, items, ports) };
}

/** ApplyFilters: renders the configured effects into the work area; the placeholder travels inline. */
export async function applyFilters(job: ValidatedJob, ports: Ports, options: ProcessingOptions): Promise<IntermediatesResult> {
  const source = await readUpload(job, ports);
  const { effects, placeholder } = await filterImage(source, options);
  return { items: await storeIntermediates(job.jobId, effects, ports), placeholder };
}

/** The upload in the version Validate checked; NOT_FOUND (versionGone) if it was overwritten on a store that keeps no versions. */
function readUpload(job: ValidatedJob, ports: Ports): Promise<Buffer> {
  return ports.objects.get("uploads", job.sourceKey, { versionId: job.sourceVersion, etag: job.sourceEtag });
}

async function storeIntermediates(jobId: string, items: Intermediate[], ports: Ports): Promise<IntermediateRef[]> {
  return Promise.all(
    items.map(async ({ name, kind, width, height, data }) => {
      const key = workKey(jobId, kind, name, INTERMEDIATE_EXTENSION);
      await ports.objects.put("work", key, data, INTERMEDIATE_CONTENT_TYPE);
      return { name, kind, key, width, height };
    }),
  );
}
