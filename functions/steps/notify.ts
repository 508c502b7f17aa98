import { parseErrorMessage, PipelineError, type SerializedError } from "../core/errors";
import type { Ports } from "../ports";
import { jobIdFor } from "./jobId";
import { unwrapRunScoped, type RunScopedInput } from "./runScoped";
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
 * It never touches the upload: the original stays where it was. Given the run's
 * id, it finishes only a job this run owns (or one nobody recorded): a run
 * started by a duplicate delivery that failed before Validate could tell it was
 * a duplicate leaves the owning run's job alone.
 */
export async function notifyError(event: FailedJob | RunScopedInput<FailedJob>, ports: Ports): Promise<NotifyResult> {
  const input = unwrapRunScoped(event);
  const jobId = input.jobId ?? jobIdFor(input.sourceKey, input.sourceEtag);
  const error = failureToError(input.error);
  const time = new Date().toISOString();
  const patch = { status: "failed" as const, sourceKey: input.sourceKey, sourceEtag: input.sourceEtag, error, updatedAt: time };
  const finished = await ports.jobs.finish(jobId, patch, input.runId);
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
