import { unquoteEtag } from "../adapters";
import type { ObjectInfo, Ports } from "../ports";
import type { Superseded } from "./types";

/**
 * Is a job's upload still the upload? Outputs are keyed by the upload's key only (./keys.ts), so an
 * older job writing after a newer upload's job would publish the older picture. Each writing step
 * (Resize, ApplyFilters, Optimize) asks once, right before its first write, with one HEAD of the
 * upload's newest version, the same read the erasure-on-delete check makes (./erase.ts). A job whose
 * version was replaced or deleted writes nothing more and ends `superseded` (NotifySuccess).
 * A newer upload landing between that HEAD and the step's writes is not seen: the window is the
 * writes' own duration, and the newer job's writes, which start later, still win.
 */

/**
 * The upload's newest version, not a pinned one (S3 keeps a replaced or deleted upload's versions
 * readable by id), or undefined when the upload is gone.
 * S3 HEAD without a version id reads the current version: https://docs.aws.amazon.com/AmazonS3/latest/userguide/RetMetaOfObjVersion.html
 * and answers 404 when the current version is a delete marker: https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html
 */
export async function newestUpload(ports: Ports, sourceKey: string): Promise<ObjectInfo | undefined> {
  try {
    return await ports.objects.head("uploads", sourceKey);
  } catch (thrown) {
    if ((thrown as { code?: string } | undefined)?.code === "NOT_FOUND") return undefined;
    throw thrown;
  }
}

/** The version a job renders (ValidatedJob's pin). */
export interface PinnedUpload {
  sourceKey: string;
  sourceEtag?: string;
  sourceVersion?: string;
}

/**
 * Undefined while the job's pinned version is the upload's newest; else what replaced it (a newer
 * version's ETag and S3 version id, or neither when the upload is gone). Compared by S3 version id
 * where both sides have one (S3's ETag is the content's MD5: the same bytes uploaded again keep it),
 * else by ETag (Azure, whose blob ETag changes on every write; the local S3 emulator keeps no versions).
 * A pin with nothing to compare (neither) counts as current, as before this check.
 * Every write to a blob changes its ETag: https://learn.microsoft.com/en-us/azure/storage/blobs/concurrency-manage
 *
 * @throws {PipelineError} the adapters' codes when the HEAD fails otherwise (transient ones are retried by the engine)
 * @example await supersededBy({ sourceKey: "photos/cat.jpg", sourceEtag: "0x8DC..." }, ports) // { etag: "0x8DD..." } after a newer upload
 */
export async function supersededBy(job: PinnedUpload, ports: Ports): Promise<Superseded | undefined> {
  const newest = await newestUpload(ports, job.sourceKey);
  if (!newest) return {};
  if (isPinnedVersion(job, newest)) return undefined;
  return { ...(newest.etag ? { etag: newest.etag } : {}), ...(newest.versionId ? { versionId: newest.versionId } : {}) };
}

function isPinnedVersion(job: PinnedUpload, newest: ObjectInfo): boolean {
  if (job.sourceVersion && newest.versionId) return job.sourceVersion === newest.versionId;
  if (job.sourceEtag && newest.etag) return unquoteEtag(job.sourceEtag) === unquoteEtag(newest.etag);
  return true;
}
