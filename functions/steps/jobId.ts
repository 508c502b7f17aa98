import { createHash } from "node:crypto";

/**
 * The job id of an upload: the same object version always gives the same id,
 * so a duplicate trigger event maps onto the job already recorded.
 * ETags are compared without quotes (S3 events omit them, Azure keeps them).
 */
export function jobIdFor(sourceKey: string, sourceEtag?: string): string {
  const etag = (sourceEtag ?? "").replace(/"/g, "");
  return createHash("sha256").update(`${sourceKey}\n${etag}`).digest("hex").slice(0, 32);
}
