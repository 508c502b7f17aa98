import { createHash } from "node:crypto";
import type { ProcessingOptions } from "../core/options";
import type { Area, PipelineEvent, Ports } from "../ports";
import { newestUpload } from "./current";
import { jobIdFor } from "./jobId";
import { manifestKey, outputPrefix } from "./keys";
import type { Manifest } from "./types";

/**
 * Erasure on delete: when an upload is deleted (its current version on AWS, the
 * blob on Azure), everything the pipeline made of it goes: the manifest first (so
 * no manifest ever names a deleted object), then every other object under its
 * output prefix, the work objects and the records of its jobs; `image.deleted`
 * goes out before the records go, so a retry after a crash still finds something
 * to erase and announces it.
 *
 * Which jobs: the one the manifest names (the job whose outputs are there), and
 * any the caller knows (the delete event's ETag/version where they name the
 * deleted upload, the running job that erases after itself). A job still running
 * when the upload goes erases its own outputs when it ends (see {@link eraseIfUploadGone}),
 * so a delete racing a job leaves nothing behind once both end, in either order.
 *
 * One delete, one `image.deleted`: an erasure announces only when it removes a manifest or a
 * finished job's record. Outputs without a manifest are a running job's (Resize writes them
 * before Optimize's manifest): they go, but that job keeps its record and announces when it
 * erases after itself.
 *
 * Idempotent: a second run finds nothing and publishes nothing. Never erases the
 * outputs of an upload that exists again (deleted, then uploaded anew before the
 * event arrived): the new upload's job owns them.
 */

export interface EraseInput {
  sourceKey: string;
  /** The deleted upload's ETag and S3 version, when the caller knows them (not a delete marker's): its job id follows. */
  sourceEtag?: string;
  sourceVersion?: string;
  /** Jobs of this upload the caller knows of (e.g. the running job erasing after itself). */
  jobIds?: string[];
}

export interface EraseResult {
  sourceKey: string;
  /** False when the upload exists (again): nothing was touched. */
  erased: boolean;
  /** The jobs whose work objects and records were looked for. */
  jobIds: string[];
  removed: { renditions: number; work: number; jobs: number };
  /** Whether this call published `image.deleted`: only when it removed a manifest or a finished job's record. */
  published: boolean;
}

/** Keys per listing page; deletes go one at a time (a batch delete is not in every store's API, nor in s3rver's with this SDK). */
const PAGE = 1000;

/**
 * Removes the upload's outputs, work objects and job records, and announces it.
 *
 * @example
 * const result = await eraseUpload({ sourceKey: "photos/cat.jpg" }, ports, options);
 * @throws {PipelineError} the adapters' codes when a store fails (transient ones are retried by the caller)
 */
export async function eraseUpload(input: EraseInput, ports: Ports, _options?: ProcessingOptions): Promise<EraseResult> {
  const { sourceKey } = input;
  const result: EraseResult = { sourceKey, erased: false, jobIds: [], removed: { renditions: 0, work: 0, jobs: 0 }, published: false };
  if (await uploadExists(ports, sourceKey)) return result;
  result.erased = true;

  const jobIds = new Set(input.jobIds ?? []);
  if (input.sourceEtag || input.sourceVersion) jobIds.add(jobIdFor(sourceKey, input.sourceEtag, input.sourceVersion));
  const manifestJob = await readManifestJobId(ports, sourceKey);
  if (manifestJob) jobIds.add(manifestJob);
  result.jobIds = [...jobIds];

  // The manifest first: from here on no manifest names an object that is about to go.
  const manifest = manifestKey(sourceKey);
  if (manifestJob !== undefined) {
    await ports.objects.delete("renditions", manifest);
    result.removed.renditions += 1;
  }
  result.removed.renditions += await deleteUnder(ports, "renditions", `${outputPrefix(sourceKey)}/`);
  for (const jobId of jobIds) result.removed.work += await deleteUnder(ports, "work", `${jobId}/`);

  // A running job's record stays: that job erases after itself and announces when it ends (notify, or the stuck-job sweep).
  const found = await Promise.all(result.jobIds.map(async (jobId) => ({ jobId, record: await ports.jobs.get(jobId) })));
  const records = found.filter(({ record }) => record !== undefined && record.status !== "running").map(({ jobId }) => jobId);
  // Announced only when a manifest or a finished job's record goes: outputs without either belong to a job still running
  // (Resize writes before Optimize's manifest, #13), whose own erasure announces it, so one delete makes one event.
  if (manifestJob !== undefined || records.length > 0) {
    await ports.notifier.publish(deletedEvent(sourceKey, manifestJob || records[0] || result.jobIds[0]));
    result.published = true;
  }
  for (const jobId of records) await ports.jobs.delete(jobId);
  result.removed.jobs = records.length;
  return result;
}

/**
 * For a job's last step: when its upload was deleted while it ran, erases what the
 * job made (the delete's own erasure may have run before the job wrote it). Call it
 * after the job's last write, so either this check sees the delete or the delete's
 * erasure starts after every write of the job.
 *
 * @returns the erasure, or undefined when the upload is still there
 */
export async function eraseIfUploadGone(job: { sourceKey: string; jobId: string }, ports: Ports, options?: ProcessingOptions): Promise<EraseResult | undefined> {
  if (await uploadExists(ports, job.sourceKey)) return undefined;
  return eraseUpload({ sourceKey: job.sourceKey, jobIds: [job.jobId] }, ports, options);
}

/**
 * Deletes every object under `prefix` in `area` for which `shouldDelete` holds
 * (all by default), a listing page at a time. Reprocessing reuses it to drop
 * renditions no longer configured.
 *
 * @returns how many objects it deleted
 */
export async function deleteUnder(ports: Ports, area: Area, prefix: string, shouldDelete: (key: string) => boolean = () => true): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await ports.objects.list(area, prefix, { cursor, limit: PAGE });
    for (const { key } of page.items) {
      if (!shouldDelete(key)) continue;
      await ports.objects.delete(area, key);
      deleted += 1;
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return deleted;
}

/** The newest version of the upload, not a pinned one: on S3 a deleted upload's older versions stay readable by id. */
async function uploadExists(ports: Ports, sourceKey: string): Promise<boolean> {
  return (await newestUpload(ports, sourceKey)) !== undefined;
}

/** The job the manifest names, or undefined when there is no manifest; a manifest that cannot be read as one still goes. */
async function readManifestJobId(ports: Ports, sourceKey: string): Promise<string | undefined> {
  let body: Buffer;
  try {
    body = await ports.objects.get("renditions", manifestKey(sourceKey));
  } catch (thrown) {
    if ((thrown as { code?: string } | undefined)?.code === "NOT_FOUND") return undefined;
    throw thrown;
  }
  try {
    const { jobId } = JSON.parse(body.toString("utf8")) as Partial<Manifest>;
    return typeof jobId === "string" && jobId !== "" ? jobId : "";
  } catch {
    return "";
  }
}

/** Stands in for the job id of an erasure that found no job: stable per key, so redeliveries carry the same id. */
export function erasureId(sourceKey: string): string {
  return createHash("sha256").update(`erased\n${sourceKey}`).digest("hex").slice(0, 32);
}

function deletedEvent(sourceKey: string, jobId: string | undefined): PipelineEvent {
  return { type: "image.deleted", jobId: jobId || erasureId(sourceKey), sourceKey, time: new Date().toISOString() };
}
