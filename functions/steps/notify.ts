import { parseErrorMessage, PipelineError, type SerializedError } from "../core/errors";
import type { Ports } from "../ports";
import { jobIdFor } from "./jobId";
import type { FailedJob, NotifyResult, OptimizedJob, StepFailure } from "./types";

/** NotifySuccess: finishes the job once and publishes `image.processed` once. */
export async function notifySuccess(job: OptimizedJob, ports: Ports): Promise<NotifyResult> {
  const { manifestKey, outputs, bytesIn, bytesOut } = job.optimized;
  const time = new Date().toISOString();
  const finished = await ports.jobs.finish(job.jobId, { status: "succeeded", sourceKey: job.sourceKey, manifestKey, outputs, bytesIn, bytesOut, updatedAt: time });
  if (finished) {
    await ports.notifier.publish({ type: "image.processed", jobId: job.jobId, sourceKey: job.sourceKey, time, manifestKey, outputs, bytesIn, bytesOut });
  }
  return { jobId: job.jobId, status: "succeeded", published: finished };
}

/**
 * NotifyError: records the typed failure and publishes `image.failed` once.
 * It never touches the upload: the original stays where it was.
 */
export async function notifyError(input: FailedJob, ports: Ports): Promise<NotifyResult> {
  const jobId = input.jobId ?? jobIdFor(input.sourceKey, input.sourceEtag);
  const error = failureToError(input.error);
  const time = new Date().toISOString();
  const finished = await ports.jobs.finish(jobId, { status: "failed", sourceKey: input.sourceKey, sourceEtag: input.sourceEtag, error, updatedAt: time });
  if (finished) {
    await ports.notifier.publish({ type: "image.failed", jobId, sourceKey: input.sourceKey, time, error });
  }
  return { jobId, status: "failed", published: finished };
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
