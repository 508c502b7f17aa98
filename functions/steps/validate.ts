import { isPipelineError, PipelineError, validateImage, type ProcessingOptions } from "../core";
import type { Ports } from "../ports";
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
  const { sourceKey, sourceEtag, sourceVersion, runId } = input;
  const jobId = input.jobId ?? jobIdFor(sourceKey, sourceEtag, sourceVersion);
  const now = new Date().toISOString();
  const created = await ports.jobs.create({ jobId, sourceKey, sourceEtag, runId, status: "running", createdAt: now, updatedAt: now });
  if (!created) {
    // A retry of this same run finds its own record; any other run is a duplicate delivery.
    const existing = await ports.jobs.get(jobId);
    const ownRetry = runId !== undefined && existing?.runId === runId && existing.status === "running";
    if (!ownRetry) return { jobId, sourceKey, sourceEtag, duplicate: true };
  }

  const { key, bytes } = await findUpload(ports, sourceKey);
  // Checked before download so an oversized upload costs no transfer.
  if (bytes > options.limits.maxBytes) {
    throw new PipelineError("TOO_LARGE", `The upload is ${bytes} bytes, over the limit of ${options.limits.maxBytes} bytes; upload a smaller file or raise limits.maxBytes.`, { bytes, limit: options.limits.maxBytes });
  }
  const body = await ports.objects.get("uploads", key);
  const image = await validateImage(body, options);
  // Later steps read and name outputs by the key that exists.
  return { jobId, sourceKey: key, sourceEtag, duplicate: false, image };
}

/**
 * Storage events may carry the key URL-encoded (S3 notifications write "red flower.jpg"
 * as "red+flower.jpg"). The key as given wins; its decoded form is tried only when it is absent.
 */
async function findUpload(ports: Ports, sourceKey: string): Promise<{ key: string; bytes: number }> {
  try {
    return { key: sourceKey, ...(await ports.objects.head("uploads", sourceKey)) };
  } catch (error) {
    const decoded = decodeKey(sourceKey);
    if (!isPipelineError(error) || error.code !== "NOT_FOUND" || decoded === undefined || decoded === sourceKey) throw error;
    return { key: decoded, ...(await ports.objects.head("uploads", decoded)) };
  }
}

function decodeKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, "%20"));
  } catch {
    return undefined; // not URL-encoded (e.g. a lone "%")
  }
}
