import type { InvocationContext, Timer } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import { workflow } from "../workflow";
import { toPipelineError } from "../core/errors";
import { sweptJobRecord } from "../observability";
import { runScheduledSweep, stuckAfterSeconds, type SweepResult } from "../steps";
import { activityEnvironmentFromEnv, type ActivityEnvironment } from "./activities";

/**
 * The stuck-job sweep on Azure: a timer-triggered durable client function
 * (SWEEP_FUNCTION_NAME, every SWEEP_SCHEDULE) in the same app. An
 * orchestration that was terminated, lost or is still running past the
 * workflow's whole-run timeout leaves its job `running`; the sweep fails it
 * with TIMEOUT, publishes the event, and terminates the orchestration (its
 * instance id is the job id), as Step Functions stops a timed-out execution.
 * It also publishes the outcome of finished jobs whose event never went out.
 */
export function createSweepHandler(
  environment: () => ActivityEnvironment = activityEnvironmentFromEnv,
  after: number = stuckAfterSeconds(workflow),
): (timer: Timer, client: Pick<DurableClient, "terminate">, context: InvocationContext) => Promise<SweepResult> {
  return async (_timer, client, context) => {
    const minutes = Math.round(after / 60);
    // Best effort: the job is already recorded and announced; an instance that ended or never existed is fine.
    const terminate = async (jobId: string, ended: "failed" | "superseded") => {
      // The job's last record, as on AWS: the stuck-jobs and failure-rate alerts count a failed one.
      context.log(JSON.stringify(sweptJobRecord(jobId, ended)));
      const reason = ended === "failed" ? `no result within ${minutes} minutes (TIMEOUT)` : "a newer upload of its key replaced its upload (superseded)";
      try {
        await client.terminate(jobId, `image-pipeline stuck-job sweep: ${reason}`);
      } catch (error) {
        context.warn(`Could not terminate orchestration ${jobId} after failing its job: ${(error as Error)?.message ?? error}`);
      }
    };
    try {
      return await runScheduledSweep(environment().ports, { stuckAfterSeconds: after, onGivenUp: terminate }, (line) => context.log(line));
    } catch (thrown) {
      // One clear line in the logs; the next tick tries again.
      const error = toPipelineError(thrown);
      context.error(`${error.code}: ${error.message}`);
      throw error;
    }
  };
}
