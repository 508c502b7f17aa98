import { createHash } from "node:crypto";

/**
 * The job id of an upload: the same object version always gives the same id,
 * so a duplicate trigger event maps onto the job already recorded, and a new
 * upload of the same key (a new version, even with the same bytes) gets a new job.
 * ETags are compared without quotes (S3 events omit them, Azure keeps them).
 * The S3 version id, when the event carries one, is part of the identity.
 */
export function jobIdFor(sourceKey: string, sourceEtag?: string, sourceVersion?: string): string {
  const etag = (sourceEtag ?? "").replace(/"/g, "");
  const identity = sourceVersion ? `${sourceKey}\n${etag}\n${sourceVersion}` : `${sourceKey}\n${etag}`;
  return createHash("sha256").update(identity).digest("hex").slice(0, 32);
}
