import { parseErrorMessage, PipelineError, type SerializedError } from "../core/errors";
import type { Ports } from "../ports";
import { finishAndAnnounce } from "./announce";
import { jobIdFor } from "./jobId";
import { unwrapRunScoped, type RunScopedInput } from "./runScoped";
import type { FailedJob, NotifyResult, OptimizedJob, StepFailure } from "./types";

/**
 * NotifySuccess: finishes the job once and publishes `image.processed` once; a
 * retry after a failed publish publishes it then (./announce.ts).
 */
export async function notifySuccess(job: OptimizedJob, ports: Ports): Promise<NotifyResult> {
  const { manifestKey, outputs, bytesIn, bytesOut } = job.optimized;
  const updatedAt = new Date().toISOString();
  const published = await finishAndAnnounce(ports, { jobId: job.jobId, status: "succeeded", sourceKey: job.sourceKey, manifestKey, outputs, bytesIn, bytesOut, updatedAt });
  return { jobId: job.jobId, status: "succeeded", published };
}

/**
 * NotifyError: records the typed failure and publishes `image.failed` once.
 * It never touches the upload: the original stays where it was. Given the run's
 * id, it finishes only a job this run owns (or one nobody recorded): a run
 * started by a duplicate delivery that failed before Validate could tell it was
 * a duplicate leaves the owning run's job alone.
 */
export async function notifyError(event: FailedJob | RunScopedInput<FailedJob>, ports: Ports): Promise<NotifyResult> {
  const input = unwrapRunScoped(event);
  const jobId = input.jobId ?? jobIdFor(input.sourceKey, input.sourceEtag, input.sourceVersion);
  const error = failureToError(input.error);
  const updatedAt = new Date().toISOString();
  const published = await finishAndAnnounce(ports, { jobId, status: "failed", sourceKey: input.sourceKey, sourceEtag: input.sourceEtag, error, updatedAt }, input.runId);
  return { jobId, status: "failed", published };
}

/**
 * Recovers the typed error from what an engine caught: ASL's `{ Error, Cause }`
 * where Cause is Lambda's JSON (`errorMessage`) or a plain `CODE: text` message.
 */
export function failureToError(failure: StepFailure | undefined): SerializedError {
  const cause = failure?.Cause ?? "";
  let message: string | undefined = cause;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === "string") message = parsed.errorMessage;
  } catch {
    // Cause was a plain message.
  }
  const typed = parseErrorMessage(message);
  if (typed) return typed.toJSON();
  if (failure?.Error === "States.Timeout") {
    return new PipelineError("TIMEOUT", "A step ran past its timeout; raise timeoutSeconds for that step or lower the input limits.").toJSON();
  }
  return new PipelineError("INTERNAL", `The workflow failed with ${failure?.Error ?? "an unknown error"}; see the function logs for details.`).toJSON();
}
