import { isPipelineError, PipelineError, validateImage, type ImageInfo, type ProcessingOptions } from "../core";
import { isVersionGone, type ObjectInfo, type ObjectVersion, type Ports } from "../ports";
import { supersededBy } from "./current";
import { jobIdFor } from "./jobId";
import { unwrapRunScoped, type RunScopedInput } from "./runScoped";
import type { StartInput, ValidatedJob } from "./types";

/**
 * Validate: records the job (conditionally, so a duplicate event ends here),
 * then checks the upload from its header. A bad image throws a permanent error.
 *
 * @throws {PipelineError} CONFIG_INVALID for an event without a key; the core's codes for a bad image.
 */
export async function validate(event: StartInput | RunScopedInput<StartInput>, ports: Ports, options: ProcessingOptions): Promise<ValidatedJob> {
  const input = unwrapRunScoped(event);
  if (!input || typeof input.sourceKey !== "string" || input.sourceKey === "") {
    throw new PipelineError("CONFIG_INVALID", "The workflow was started without a sourceKey; start it with { \"sourceKey\": \"<upload key>\" }.");
  }
  const { sourceKey, sourceEtag, sourceVersion, runId, generation } = input;
  const jobId = input.jobId ?? jobIdFor(sourceKey, sourceEtag, sourceVersion, generation);
  const now = new Date().toISOString();
  const created = await ports.jobs.create({ jobId, sourceKey, sourceEtag, runId, status: "running", createdAt: now, updatedAt: now });
  if (!created) {
    // A retry of this same run finds its own record; any other run is a duplicate delivery.
    const existing = await ports.jobs.get(jobId);
    const ownRetry = runId !== undefined && existing?.runId === runId && existing.status === "running";
    if (!ownRetry) return { jobId, sourceKey, sourceEtag, duplicate: true };
  }

  // The version the event names, so an overwrite while the job runs cannot mix another upload's bytes in.
  const named: ObjectVersion = { versionId: sourceVersion, etag: sourceEtag };
  let found: { key: string; info: ObjectInfo };
  try {
    found = await findUpload(ports, sourceKey, named);
  } catch (thrown) {
    // Replaced by a newer upload before the job began: it ends superseded, not failed; the later steps write nothing (./current.ts).
    // An upload gone altogether stays NOT_FOUND here (S3 answers a deleted or never-made version alike).
    const superseded = isVersionGone(thrown) ? await supersededBy({ sourceKey, sourceEtag, sourceVersion }, ports) : undefined;
    if (!superseded?.etag && !superseded?.versionId) throw thrown;
    return { jobId, sourceKey, sourceEtag, ...(sourceVersion ? { sourceVersion } : {}), ...(generation ? { generation } : {}), duplicate: false, superseded };
  }
  const { key, info } = found;
  // Checked before download so an oversized upload costs no transfer.
  if (info.bytes > options.limits.maxBytes) {
    throw new PipelineError("TOO_LARGE", `The upload is ${info.bytes} bytes, over the limit of ${options.limits.maxBytes} bytes; upload a smaller file or raise limits.maxBytes.`, { bytes: info.bytes, limit: options.limits.maxBytes });
  }
  // An event that names no version (a manual start) pins the one read here, for the later steps.
  const pinned = { versionId: sourceVersion ?? info.versionId, etag: sourceEtag ?? info.etag };
  const image = await checkImage(ports, key, pinned, info.bytes, options);
  // Later steps read and name outputs by the key that exists, in the version read here.
  return { jobId, sourceKey: key, sourceEtag: pinned.etag, ...(pinned.versionId ? { sourceVersion: pinned.versionId } : {}), ...(generation ? { generation } : {}), duplicate: false, image };
}

/**
 * A JPEG's header (SOF, EXIF, ICC) sits in its first segments: the first 64 KiB let sharp read it
 * without moving the whole upload again (#13). Other formats are read whole: a GIF's frame count,
 * for one, needs every frame, and the limits check it.
 */
export const HEADER_READ_BYTES = 64 * 1024;
const JPEG_SIGNATURE = Buffer.from([0xff, 0xd8, 0xff]);

/** validateImage on the header bytes when they suffice, else on the whole upload. */
async function checkImage(ports: Ports, key: string, version: ObjectVersion, bytes: number, options: ProcessingOptions): Promise<ImageInfo> {
  if (bytes > HEADER_READ_BYTES) {
    const head = await ports.objects.get("uploads", key, version, { firstBytes: HEADER_READ_BYTES });
    if (head.subarray(0, JPEG_SIGNATURE.length).equals(JPEG_SIGNATURE)) {
      // A header that does not fit (huge APP segments) is read again whole: never judged from a cut.
      const fromHead = await validateImage(head, options).catch((error: unknown) => (isPipelineError(error) && error.code === "CORRUPT_IMAGE" ? undefined : Promise.reject(error)));
      if (fromHead) return { ...fromHead, bytes };
    }
  }
  return validateImage(await ports.objects.get("uploads", key, version), options);
}

/**
 * Storage events may carry the key URL-encoded (S3 notifications write "red flower.jpg"
 * as "red+flower.jpg"). The key as given wins; its decoded form is tried only when it is
 * absent (not when its version was replaced).
 */
async function findUpload(ports: Ports, sourceKey: string, version: ObjectVersion): Promise<{ key: string; info: ObjectInfo }> {
  try {
    return { key: sourceKey, info: await ports.objects.head("uploads", sourceKey, version) };
  } catch (error) {
    const decoded = decodeKey(sourceKey);
    if (!isPipelineError(error) || error.code !== "NOT_FOUND" || isVersionGone(error) || decoded === undefined || decoded === sourceKey) throw error;
    return { key: decoded, info: await ports.objects.head("uploads", decoded, version) };
  }
}

function decodeKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, "%20"));
  } catch {
    return undefined; // not URL-encoded (e.g. a lone "%")
  }
}
