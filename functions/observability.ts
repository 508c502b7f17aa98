import type { ErrorCode } from "./core/errors";
import { failureToError, jobIdFor, unwrapRunScoped, type StartInput, type StepFailure } from "./steps";
import type { FunctionHandler } from "./workflow";

/**
 * What every step leaves in the logs, the same on both clouds, so one job's story is
 * one query by `jobId` (README, "Monitoring and alerts"): Powertools Logger writes it as
 * JSON on Lambda (functions/aws/handlers.ts), the Functions invocation logger as a JSON
 * message on Azure (functions/azure/activities.ts). The step that ends a job (NotifySuccess,
 * NotifyError, the stuck-job sweep) also carries `job`, from which the job-outcome
 * metrics are counted. No upload key or image detail: keys can name people.
 */

/** Marks the pipeline's own records among everything else in a log group or a workspace. */
export const LOG_SOURCE = "image-pipeline";

/** CloudWatch namespace, service name and metric names of the job-outcome metrics (AWS Embedded Metric Format). */
export const JOB_METRICS = {
  namespace: "ImagePipeline",
  service: "image-pipeline",
  succeeded: "JobsSucceeded",
  failed: "JobsFailed",
  /** Jobs a newer upload of their key replaced before they published (functions/steps/current.ts): not failures. */
  superseded: "JobsSuperseded",
  /** Jobs the stuck-job sweep gave up on (failed with TIMEOUT). */
  stuckFailed: "StuckJobsFailed",
  /** The one extra dimension of JobsFailed: a handful of values (functions/core/errors.ts), so a few metrics only. */
  errorCodeDimension: "ErrorCode",
} as const;

/** How one step invocation ended: returned, failed for good, or failed transiently (the engine retries it). */
export type StepOutcome = "succeeded" | "failed" | "retrying";

export interface StepLogRecord {
  source: typeof LOG_SOURCE;
  /** Absent only when the input named no upload (a malformed call) or for the sweep's own summary. */
  jobId?: string;
  step: FunctionHandler;
  durationMs: number;
  outcome: StepOutcome;
  /** The step's error code when it failed; the job's error code when this step recorded a failed job. */
  errorCode?: ErrorCode;
  /** Set by the step that finished and announced (or, superseded, closed) the job: how the job ended. */
  job?: "succeeded" | "failed" | "superseded";
}

/** Where a record goes: the cloud's logger, and its metrics for records that end a job. */
export type StepRecordSink = (record: StepLogRecord) => void;

/**
 * Runs one step invocation and hands its record to `sink`, whatever the outcome; the
 * step's result or error passes through unchanged. A failing sink never fails the step.
 *
 * @example await observeStep("validate", event, () => runStep("validate", event, ports, options), sink)
 */
export async function observeStep(step: FunctionHandler, input: unknown, run: () => Promise<unknown>, sink: StepRecordSink, clock: () => number = performance.now.bind(performance)): Promise<unknown> {
  const started = clock();
  const elapsed = () => Math.round((clock() - started) * 10) / 10;
  try {
    const result = await run();
    deliver(sink, { source: LOG_SOURCE, ...jobIdField(result, input), step, durationMs: elapsed(), outcome: "succeeded", ...jobEnd(step, input, result) });
    return result;
  } catch (thrown) {
    const { code, permanent } = (thrown ?? {}) as { code?: ErrorCode; permanent?: boolean };
    deliver(sink, { source: LOG_SOURCE, ...jobIdField(undefined, input), step, durationMs: elapsed(), outcome: permanent === true ? "failed" : "retrying", ...(code ? { errorCode: code } : {}) });
    throw thrown;
  }
}

/** The record of a job the stuck-job sweep ended: failed with TIMEOUT, or closed superseded (a newer upload replaced its upload). */
export function sweptJobRecord(jobId: string, ended: "failed" | "superseded" = "failed"): StepLogRecord {
  const base = { source: LOG_SOURCE, jobId, step: "sweepStuckJobs", durationMs: 0, outcome: "succeeded" } as const;
  return ended === "failed" ? { ...base, errorCode: "TIMEOUT", job: "failed" } : { ...base, job: "superseded" };
}

/** Hands a record to the sink; a failing sink never fails the caller. */
export function deliver(sink: StepRecordSink, record: StepLogRecord): void {
  try {
    sink(record);
  } catch {
    // Telemetry is best effort: the job's own record and event are the truth.
  }
}

/** The job id: the step's result names it (Validate computes it), else the input, else the upload it names. */
function jobIdField(result: unknown, input: unknown): { jobId?: string } {
  const fromResult = (result as { jobId?: unknown } | null | undefined)?.jobId;
  if (typeof fromResult === "string") return { jobId: fromResult };
  const start = startOf(input);
  if (typeof start?.jobId === "string") return { jobId: start.jobId };
  if (typeof start?.sourceKey === "string") return { jobId: jobIdFor(start.sourceKey, start.sourceEtag, start.sourceVersion) };
  return {};
}

function startOf(input: unknown): (StartInput & { error?: StepFailure }) | undefined {
  if (!input || typeof input !== "object") return undefined;
  return unwrapRunScoped(input as StartInput & { error?: StepFailure });
}

/**
 * NotifySuccess and NotifyError end a job when they published its outcome; a duplicate
 * run's notify publishes nothing and counts nothing. NotifyError's error code is the one
 * it recorded (failureToError, as the step reads it).
 */
function jobEnd(step: FunctionHandler, input: unknown, result: unknown): Pick<StepLogRecord, "job" | "errorCode"> {
  if (step !== "notifySuccess" && step !== "notifyError") return {};
  const notified = (result ?? {}) as { published?: unknown; status?: unknown; closed?: unknown };
  if (step === "notifySuccess" && notified.status === "superseded") return notified.closed === true ? { job: "superseded" } : {};
  if (notified.published !== true) return {};
  if (step === "notifySuccess") return { job: "succeeded" };
  return { job: "failed", errorCode: failureToError(startOf(input)?.error).code };
}
