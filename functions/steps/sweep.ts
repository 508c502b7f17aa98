import type { WorkflowDefinition } from "../workflow";
import { PipelineError, toPipelineError, type ErrorCode } from "../core/errors";
import type { JobRecord, Ports } from "../ports";
import { announce } from "./announce";
import { supersededBy } from "./current";
import { eraseIfUploadGone } from "./erase";

/**
 * The stuck-job sweep: every upload must end as renditions or as a recorded
 * error, announced, also when its run cannot say so itself. A Step Functions
 * execution that hits the state machine's timeout ends without running
 * NotifyError (an Express one is cut at 5 minutes); an orchestration can be
 * terminated or lost; a notifier outage can outlast a step's retries. A
 * scheduled function (AWS: an EventBridge schedule → Lambda; Azure: a timer
 * function) takes the open jobs (JobStore.listOpen) older than the workflow's
 * timeout plus a margin:
 * - still running: finishes them as failed with TIMEOUT (conditionally, so a
 *   run that ends meanwhile wins) and publishes `image.failed`; unless a newer upload
 *   of the key replaced the job's (./current.ts): that job is closed `superseded`,
 *   without an event, as NotifySuccess closes one (the newer upload's job announces);
 * - finished but never announced (the publish failed): publishes their outcome.
 */

/** Margin beyond the whole-run timeout: clock skew, the sweep's own interval, a last step finishing. */
export const STUCK_MARGIN_SECONDS = 5 * 60;

/** Jobs swept per invocation; the next invocation takes the rest. */
export const SWEEP_BATCH = 100;

/** Seconds after which a job still running is stuck, for a workflow definition. */
export function stuckAfterSeconds(definition: Pick<WorkflowDefinition, "timeoutSeconds">): number {
  return definition.timeoutSeconds + STUCK_MARGIN_SECONDS;
}

export interface SweepOptions {
  /** A job running for longer than this is stuck (see {@link stuckAfterSeconds}). */
  stuckAfterSeconds: number;
  now?: Date;
  limit?: number;
  /**
   * Called for each running job this sweep ended (failed with TIMEOUT, after its event went out, or
   * closed `superseded`): the engine may stop what is left of the run (Azure terminates the
   * orchestration; Step Functions has already stopped a timed-out execution), and the telemetry counts it.
   */
  onGivenUp?: (jobId: string, ended: "failed" | "superseded") => Promise<void>;
}

export interface SweepResult {
  /** Jobs this sweep finished as failed (TIMEOUT), each with one `image.failed` event. */
  failed: string[];
  /** Stuck jobs whose upload a newer one had replaced: closed `superseded`, no event. */
  superseded: string[];
  /** Finished jobs whose outcome event had not gone out, published now. */
  announced: string[];
  /** Stuck jobs that had finished by the time the sweep tried (their run won). */
  finishedMeanwhile: string[];
  /** Jobs the sweep could not handle this time (the store or notifier failed); the next sweep tries again. One bad job never blocks the rest. */
  errors: Array<{ jobId: string; code: ErrorCode; message: string }>;
}

/**
 * @example
 * const { failed, errors } = await sweepStuckJobs(ports, { stuckAfterSeconds: stuckAfterSeconds(workflow) });
 * @throws {PipelineError} CONFIG_INVALID for a bad threshold; the adapters' codes when the open jobs cannot be listed
 */
export async function sweepStuckJobs(ports: Ports, options: SweepOptions): Promise<SweepResult> {
  const { stuckAfterSeconds: after, now = new Date(), limit = SWEEP_BATCH } = options;
  if (!Number.isFinite(after) || after <= 0) {
    throw new PipelineError("CONFIG_INVALID", `The stuck-job sweep needs a positive number of seconds after which a running job is stuck; got ${after}.`);
  }
  const cutoff = new Date(now.getTime() - after * 1000).toISOString();
  // A finished job's own step retries its announcement for a few minutes first.
  const announceCutoff = new Date(now.getTime() - STUCK_MARGIN_SECONDS * 1000).toISOString();
  const time = now.toISOString();
  const minutes = Math.round(after / 60);
  const result: SweepResult = { failed: [], superseded: [], announced: [], finishedMeanwhile: [], errors: [] };

  for (const job of await ports.jobs.listOpen(cutoff, limit)) {
    try {
      await sweepOne(job);
    } catch (thrown) {
      const error = toPipelineError(thrown);
      result.errors.push({ jobId: job.jobId, code: error.code, message: error.message });
    }
  }
  return result;

  async function sweepOne(job: JobRecord): Promise<void> {
    if (job.status === "running") {
      // The record pins the ETag only; on S3 the same bytes uploaded again keep it, and then are the same picture.
      const replaced = job.sourceEtag ? await supersededBy({ sourceKey: job.sourceKey, sourceEtag: job.sourceEtag }, ports) : undefined;
      if (replaced?.etag !== undefined || replaced?.versionId !== undefined) {
        const by = { ...(replaced.etag ? { supersededByEtag: replaced.etag } : {}), ...(replaced.versionId ? { supersededByVersion: replaced.versionId } : {}) };
        if (!(await ports.jobs.finish(job.jobId, { status: "superseded", ...by, updatedAt: time }))) {
          result.finishedMeanwhile.push(job.jobId);
          return;
        }
        await announce(ports, { ...job, status: "superseded", updatedAt: time });
        result.superseded.push(job.jobId);
        await options.onGivenUp?.(job.jobId, "superseded");
        return;
      }
      const error = new PipelineError(
        "TIMEOUT",
        `The run did not finish within ${minutes} minutes of the upload and was given up (its execution timed out, was stopped or was lost). Upload the file again to process it.`,
        { stuckAfterSeconds: after, createdAt: job.createdAt },
      ).toJSON();
      if (!(await ports.jobs.finish(job.jobId, { status: "failed", error, updatedAt: time }))) {
        result.finishedMeanwhile.push(job.jobId);
        return;
      }
      await announce(ports, { ...job, status: "failed", error, updatedAt: time });
      result.failed.push(job.jobId);
      await options.onGivenUp?.(job.jobId, "failed");
      // A run that never got to its own check (functions/steps/erase.ts): its upload may have been deleted meanwhile.
      await eraseIfUploadGone(job, ports);
      return;
    }
    if (job.updatedAt > announceCutoff) return;
    const record = await ports.jobs.get(job.jobId);
    if (!record || record.announcedAt !== undefined || record.status === "running") return;
    await announce(ports, record);
    result.announced.push(job.jobId);
    await eraseIfUploadGone(record, ports);
  }
}

/**
 * One scheduled sweep as both clouds' functions run it: sweep, log one JSON
 * summary line, then fail the invocation (sweepFailure) if some jobs could not
 * be handled, so alarms and the platform's retries see it.
 */
export async function runScheduledSweep(ports: Ports, options: SweepOptions, log: (line: string) => void): Promise<SweepResult> {
  const result = await sweepStuckJobs(ports, options);
  const { failed, superseded, announced, finishedMeanwhile, errors } = result;
  log(JSON.stringify({ level: "info", sweep: { failed, superseded, announced, finishedMeanwhile: finishedMeanwhile.length, errors } }));
  const failure = sweepFailure(result);
  if (failure) throw failure;
  return result;
}

/**
 * The error a scheduled sweep reports when some jobs could not be handled: the
 * invocation fails (so alarms and retries see it) after the others were swept.
 */
export function sweepFailure(result: SweepResult): PipelineError | undefined {
  if (result.errors.length === 0) return undefined;
  const [first] = result.errors;
  const jobs = result.errors.map((e) => e.jobId).join(", ");
  return new PipelineError(first.code, `The stuck-job sweep could not handle ${result.errors.length} job(s) (${jobs}); the next sweep tries again. First: ${first.message}`, { errors: result.errors });
}
