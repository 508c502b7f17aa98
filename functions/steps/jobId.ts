import { createHash } from "node:crypto";

/**
 * The job id of an upload: the same object version always gives the same id,
 * so a duplicate trigger event maps onto the job already recorded, and a new
 * upload of the same key (a new version, even with the same bytes) gets a new job.
 * ETags are compared without quotes (S3 events omit them, Azure keeps them).
 * The S3 version id, when the event carries one, is part of the identity.
 * A reprocess passes its `generation` (the reprocess run's id): each image gets a
 * new job per reprocess, while duplicates within one reprocess still map onto one
 * job. Without a generation (or with an empty one) the id is the upload's own.
 *
 * @example jobIdFor("photos/cat.jpg", "abc") // the upload's job
 * @example jobIdFor("photos/cat.jpg", "abc", undefined, "reprocess-1") // that upload's job in reprocess "reprocess-1"
 */
export function jobIdFor(sourceKey: string, sourceEtag?: string, sourceVersion?: string, generation?: string): string {
  const etag = (sourceEtag ?? "").replace(/"/g, "");
  const upload = sourceVersion ? `${sourceKey}\n${etag}\n${sourceVersion}` : `${sourceKey}\n${etag}`;
  // A prefix no upload identity can start with (keys never hold a NUL), so no generation collides with a plain id.
  const identity = generation ? `\u0000generation\n${generation}\n${upload}` : upload;
  return createHash("sha256").update(identity).digest("hex").slice(0, 32);
}
