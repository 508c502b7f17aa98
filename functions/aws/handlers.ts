/**
 * The Lambda entry file: one handler per workflow step (`index.<name>` once bundled),
 * plus the scheduled stuck-job sweep and erasure on delete.
 * Ports and options are built once per cold start, from the environment. A failure
 * leaves with name `TransientError`/`PermanentError` (the Lambda errorType that the
 * state machine's Retry/Catch match) and message `CODE: text`.
 */

import type { StepHandler } from "../workflow";
import { formatErrorMessage, toPipelineError } from "../core/errors";
import type { ProcessingOptions } from "../core/options";
import type { Ports } from "../ports";
import { eraseUpload as erase, runScheduledSweep, runStep, StepError, type EraseResult, type SweepResult } from "../steps";
import { awsPortsFromEnv } from "./adapters";
import { eraseInputFor, readLambdaProcessingOptions, readStuckAfterSeconds, type DeletedUploadEvent } from "./contract";

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

async function run(handler: StepHandler, event: unknown): Promise<unknown> {
  let context: ColdStart;
  try {
    context = resolveColdStart();
  } catch (thrown) {
    const error = toPipelineError(thrown);
    throw new StepError(error.code, error.name, formatErrorMessage(error), error.permanent);
  }
  return runStep(handler, event, context.ports, context.options);
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
 */
export const sweepStuckJobs = async (): Promise<SweepResult> => {
  try {
    const stuckAfterSeconds = readStuckAfterSeconds(process.env);
    return await runScheduledSweep(resolveColdStart().ports, { stuckAfterSeconds }, (line) => console.log(line));
  } catch (thrown) {
    const error = toPipelineError(thrown);
    throw new StepError(error.code, error.name, formatErrorMessage(error), error.permanent);
  }
};

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
