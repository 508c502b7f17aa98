/**
 * The Lambda entry file: one handler per workflow step (`index.<name>` once bundled),
 * plus the scheduled stuck-job sweep and erasure on delete.
 * Ports and options are built once per cold start, from the environment. A failure
 * leaves with name `TransientError`/`PermanentError` (the Lambda errorType that the
 * state machine's Retry/Catch match) and message `CODE: text`.
 * Each invocation leaves one structured log record (functions/observability.ts) through
 * Powertools Logger, and the step that ends a job emits the job-outcome metrics in
 * CloudWatch Embedded Metric Format through Powertools Metrics.
 */

import { SWEEP_HANDLER, type StepHandler } from "../workflow";
import { formatErrorMessage, toPipelineError } from "../core/errors";
import type { ProcessingOptions } from "../core/options";
import { deliver, observeStep, sweptJobRecord } from "../observability";
import type { Ports } from "../ports";
import { eraseUpload as erase, runScheduledSweep, runStep, StepError, type EraseResult, type SweepResult } from "../steps";
import { awsPortsFromEnv } from "./adapters";
import { eraseInputFor, readLambdaProcessingOptions, readStuckAfterSeconds, type DeletedUploadEvent } from "./contract";
import { createAwsTelemetry } from "./telemetry";

interface ColdStart {
  ports: Ports;
  options: ProcessingOptions;
}

let coldStart: ColdStart | undefined;

/** Built on the first invocation, not at import, so a bad setting fails as a typed step error. */
function resolveColdStart(): ColdStart {
  coldStart ??= { ports: awsPortsFromEnv(), options: readLambdaProcessingOptions(process.env) };
  return coldStart;
}

const telemetry = createAwsTelemetry();

async function run(handler: StepHandler, event: unknown): Promise<unknown> {
  return observeStep(
    handler,
    event,
    async () => {
      let context: ColdStart;
      try {
        context = resolveColdStart();
      } catch (thrown) {
        const error = toPipelineError(thrown);
        throw new StepError(error.code, error.name, formatErrorMessage(error), error.permanent);
      }
      return runStep(handler, event, context.ports, context.options);
    },
    telemetry,
  );
}

export const validate = (event: unknown): Promise<unknown> => run("validate", event);
export const resize = (event: unknown): Promise<unknown> => run("resize", event);
export const applyFilters = (event: unknown): Promise<unknown> => run("applyFilters", event);
export const optimize = (event: unknown): Promise<unknown> => run("optimize", event);
export const notifySuccess = (event: unknown): Promise<unknown> => run("notifySuccess", event);
export const notifyError = (event: unknown): Promise<unknown> => run("notifyError", event);

/**
 * The stuck-job sweep, invoked by an EventBridge schedule (the event is ignored).
 * STUCK_AFTER_SECONDS comes from the workflow's timeout (components/aws/sweep.ts).
 * Each job it fails with TIMEOUT counts as a failed job and as a stuck one (the sweep's alarm).
 */
export const sweepStuckJobs = async (): Promise<SweepResult> =>
  (await observeStep(
    SWEEP_HANDLER,
    undefined,
    async () => {
      try {
        const stuckAfterSeconds = readStuckAfterSeconds(process.env);
        const onGivenUp = async (jobId: string, ended: "failed" | "superseded") => deliver(telemetry, sweptJobRecord(jobId, ended));
        return await runScheduledSweep(resolveColdStart().ports, { stuckAfterSeconds, onGivenUp }, (line) => console.log(line));
      } catch (thrown) {
        const error = toPipelineError(thrown);
        throw new StepError(error.code, error.name, formatErrorMessage(error), error.permanent);
      }
    },
    telemetry,
  )) as SweepResult;

/**
 * Erasure on delete, invoked by EventBridge for each Object Deleted event of the uploads bucket
 * (the input: contract.ts, eraseInputFor). A failure leaves as a StepError: Lambda retries the
 * asynchronous invocation, then the event goes to the trigger's dead-letter queue.
 */
export const eraseUpload = async (event: DeletedUploadEvent): Promise<EraseResult> => {
  try {
    const input = eraseInputFor(event);
    const { ports, options } = resolveColdStart();
    const result = await erase(input, ports, options);
    console.log(JSON.stringify({ level: "info", handler: "eraseUpload", ...result }));
    return result;
  } catch (thrown) {
    const error = toPipelineError(thrown);
    throw new StepError(error.code, error.name, formatErrorMessage(error), error.permanent);
  }
};
