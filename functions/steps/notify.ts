import { outOfMemoryError, parseErrorMessage, PipelineError, stepTimeoutError, type SerializedError } from "../core/errors";
import { handlersOfState } from "../workflow";
import type { Ports } from "../ports";
import type { ProcessingOptions } from "../core/options";
import { finishAndAnnounce } from "./announce";
import { eraseIfUploadGone } from "./erase";
import { jobIdFor } from "./jobId";
import { pruneToManifest } from "./prune";
import { unwrapRunScoped, type RunScopedInput } from "./runScoped";
import type { FailedJob, NotifyResult, OptimizedJob, StepFailure, Superseded } from "./types";

/**
 * NotifySuccess: finishes the job once and publishes `image.processed` once; a
 * retry after a failed publish publishes it then (./announce.ts). A reprocess
 * run first removes the renditions its manifest no longer names (./prune.ts).
 */
export async function notifySuccess(job: OptimizedJob, ports: Ports, options?: ProcessingOptions): Promise<NotifyResult> {
  if ("superseded" in job.optimized) return notifySuperseded(job, job.optimized.superseded, ports, options);
  const { manifestKey, outputs, bytesIn, bytesOut } = job.optimized;
  if (job.generation) await pruneToManifest(manifestKey, ports.objects);
  const updatedAt = new Date().toISOString();
  const published = await finishAndAnnounce(ports, { jobId: job.jobId, status: "succeeded", sourceKey: job.sourceKey, manifestKey, outputs, bytesIn, bytesOut, updatedAt });
  // After the job's last write: an upload deleted meanwhile takes the job's outputs and record with it.
  const erased = await eraseIfUploadGone(job, ports, options);
  return { jobId: job.jobId, status: "succeeded", published, ...(erased?.erased ? { erased: true } : {}) };
}

/**
 * NotifySuccess of a job whose upload was replaced (or deleted) before it published (./current.ts):
 * the record ends `superseded` with what replaced it, and is closed without an event: the newer
 * upload's job announces its own outcome, so subscribers hear neither `image.processed` for stale
 * content nor `image.failed`. A delete still erases as it does for any job (./erase.ts).
 */
async function notifySuperseded(job: OptimizedJob, by: Superseded, ports: Ports, options?: ProcessingOptions): Promise<NotifyResult> {
  const updatedAt = new Date().toISOString();
  const closed = await finishAndAnnounce(ports, { jobId: job.jobId, status: "superseded", sourceKey: job.sourceKey, ...(by.etag ? { supersededByEtag: by.etag } : {}), ...(by.versionId ? { supersededByVersion: by.versionId } : {}), updatedAt });
  const erased = await eraseIfUploadGone(job, ports, options);
  return { jobId: job.jobId, status: "superseded", published: false, closed, ...(erased?.erased ? { erased: true } : {}) };
}

/**
 * NotifyError: records the typed failure and publishes `image.failed` once.
 * It never touches the upload: the original stays where it was. Given the run's
 * id, it finishes only a job this run owns (or one nobody recorded): a run
 * started by a duplicate delivery that failed before Validate could tell it was
 * a duplicate leaves the owning run's job alone.
 */
export async function notifyError(event: FailedJob | RunScopedInput<FailedJob>, ports: Ports, options?: ProcessingOptions): Promise<NotifyResult> {
  const input = unwrapRunScoped(event);
  const jobId = input.jobId ?? jobIdFor(input.sourceKey, input.sourceEtag, input.sourceVersion, input.generation);
  const error = failureToError(input.error);
  const updatedAt = new Date().toISOString();
  const published = await finishAndAnnounce(ports, { jobId, status: "failed", sourceKey: input.sourceKey, sourceEtag: input.sourceEtag, error, updatedAt }, input.runId);
  // A job that failed because its upload was deleted (or raced the delete) leaves neither work objects nor a record.
  const erased = await eraseIfUploadGone({ sourceKey: input.sourceKey, jobId }, ports, options);
  return { jobId, status: "failed", published, ...(erased?.erased ? { erased: true } : {}) };
}

/** Lambda's own names for a function stopped at its timeout, and Step Functions' for a Task past TimeoutSeconds. */
const TIMEOUT_ERRORS = ["Sandbox.Timedout", "States.Timeout"];
/** Lambda's name for a function that ran out of memory. */
const OUT_OF_MEMORY_ERRORS = ["Runtime.OutOfMemory"];

/**
 * Recovers the typed error from what an engine caught: ASL's `{ Error, Cause, Step }`
 * where Cause is Lambda's JSON (`errorType`, `errorMessage`) or a plain `CODE: text` message,
 * and Step the state that failed. A Lambda timeout or out-of-memory becomes TIMEOUT or
 * OUT_OF_MEMORY naming the step and the config keys that size it.
 */
export function failureToError(failure: StepFailure | undefined): SerializedError {
  const cause = failure?.Cause ?? "";
  let message: string | undefined = cause;
  let errorType: string | undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string; errorType?: string };
    if (parsed && typeof parsed.errorMessage === "string") message = parsed.errorMessage;
    if (parsed && typeof parsed.errorType === "string") errorType = parsed.errorType;
  } catch {
    // Cause was a plain message.
  }
  const typed = parseErrorMessage(message);
  if (typed) return typed.toJSON();
  const names = [failure?.Error, errorType];
  // The optimized lambda:invoke integration reports both as Lambda.Unknown, with Lambda's message as the cause.
  const unknown = failure?.Error === "Lambda.Unknown" ? (message ?? "") : "";
  const handlers = failure?.Step ? handlersOfState(failure.Step) : [];
  const keysFor = (field: "timeoutSeconds" | "memoryMb") => [...handlers.map((handler) => `steps.${handler}.${field}`), field];
  if (names.some((name) => name && TIMEOUT_ERRORS.includes(name)) || /Task timed out after/.test(unknown)) {
    return stepTimeoutError(failure?.Step, keysFor("timeoutSeconds")).toJSON();
  }
  if (names.some((name) => name && OUT_OF_MEMORY_ERRORS.includes(name)) || /Runtime\.OutOfMemory/.test(unknown)) {
    return outOfMemoryError(failure?.Step, keysFor("memoryMb")).toJSON();
  }
  return new PipelineError("INTERNAL", `The workflow failed with ${failure?.Error ?? "an unknown error"}; see the function logs for details.`).toJSON();
}
