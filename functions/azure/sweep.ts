import type { InvocationContext, Timer } from "@azure/functions";
import { workflow } from "../../components/workflow";
import { toPipelineError } from "../core/errors";
import { stuckAfterSeconds, sweepStuckJobs, type SweepResult } from "../steps";
import { activityEnvironmentFromEnv, type ActivityEnvironment } from "./activities";

/**
 * The stuck-job sweep on Azure: a timer function (SWEEP_FUNCTION_NAME, every
 * SWEEP_SCHEDULE) in the same app. An orchestration that was terminated, lost
 * or is still running past the workflow's whole-run timeout leaves its job
 * `running`; the sweep fails it with TIMEOUT and publishes the event, and
 * publishes the outcome of finished jobs whose event never went out, as on AWS.
 */
export function createSweepHandler(
  environment: () => ActivityEnvironment = activityEnvironmentFromEnv,
  after: number = stuckAfterSeconds(workflow),
): (timer: Timer, context: InvocationContext) => Promise<SweepResult> {
  return async (_timer, context) => {
    try {
      const result = await sweepStuckJobs(environment().ports, { stuckAfterSeconds: after });
      context.log(JSON.stringify({ level: "info", sweep: { failed: result.failed, announced: result.announced, finishedMeanwhile: result.finishedMeanwhile.length } }));
      return result;
    } catch (thrown) {
      // One clear line in the logs; the next tick tries again.
      const error = toPipelineError(thrown);
      context.error(`${error.code}: ${error.message}`);
      throw error;
    }
  };
}
