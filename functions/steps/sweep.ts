import type { WorkflowDefinition } from "../../components/workflow";
import { PipelineError } from "../core/errors";
import type { Ports } from "../ports";

/**
 * The stuck-job sweep: every upload must end as renditions or as a recorded
 * error, also when its run cannot say so itself. A Step Functions execution
 * that hits the state machine's timeout ends without running NotifyError (and
 * an Express one is cut at 5 minutes); an orchestration can be terminated or
 * lost. Their jobs would stay `running` for ever. A scheduled function (AWS:
 * EventBridge Scheduler → Lambda; Azure: timer trigger) finds jobs running for
 * longer than the workflow's timeout plus a margin, finishes them as failed
 * with TIMEOUT and publishes `image.failed`, once: the finish is conditional,
 * so a run that does end in the meantime wins.
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
}

export interface SweepResult {
  /** Jobs this sweep finished as failed (TIMEOUT), each with one `image.failed` event. */
  failed: string[];
  /** Stuck jobs that had finished by the time the sweep tried (their run won). */
  finishedMeanwhile: string[];
}

/**
 * @example
 * await sweepStuckJobs(ports, { stuckAfterSeconds: stuckAfterSeconds(workflow) });
 * @throws {PipelineError} the adapters' codes when the job store or notifier fails (the next sweep tries again)
 */
export async function sweepStuckJobs(ports: Ports, options: SweepOptions): Promise<SweepResult> {
  const { stuckAfterSeconds: after, now = new Date(), limit = SWEEP_BATCH } = options;
  if (!Number.isFinite(after) || after <= 0) {
    throw new PipelineError("CONFIG_INVALID", `The stuck-job sweep needs a positive number of seconds after which a running job is stuck; got ${after}.`);
  }
  const cutoff = new Date(now.getTime() - after * 1000).toISOString();
  const stuck = await ports.jobs.listStuck(cutoff, limit);
  const result: SweepResult = { failed: [], finishedMeanwhile: [] };
  const minutes = Math.round(after / 60);
  for (const job of stuck) {
    const error = new PipelineError(
      "TIMEOUT",
      `The run did not finish within ${minutes} minutes of the upload and was given up (its execution timed out, was stopped or was lost). Upload the file again to process it.`,
      { stuckAfterSeconds: after, createdAt: job.createdAt },
    ).toJSON();
    const time = now.toISOString();
    const finished = await ports.jobs.finish(job.jobId, { status: "failed", error, updatedAt: time });
    if (!finished) {
      result.finishedMeanwhile.push(job.jobId);
      continue;
    }
    await ports.notifier.publish({ type: "image.failed", jobId: job.jobId, sourceKey: job.sourceKey, time, error });
    result.failed.push(job.jobId);
  }
  return result;
}
