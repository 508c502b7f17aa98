/**
 * The Lambda entry file: one handler per workflow step (`index.<name>` once bundled),
 * plus the scheduled stuck-job sweep.
 * Ports and options are built once per cold start, from the environment. A failure
 * leaves with name `TransientError`/`PermanentError` (the Lambda errorType that the
 * state machine's Retry/Catch match) and message `CODE: text`.
 */

import type { StepHandler } from "../../components/workflow";
import { formatErrorMessage, PipelineError, toPipelineError } from "../core/errors";
import { processingOptionsSchema, type ProcessingOptions } from "../core/options";
import type { Ports } from "../ports";
import { runScheduledSweep, runStep, StepError, type SweepResult } from "../steps";
import { positiveNumberSetting } from "../settings";
import { awsPortsFromEnv } from "./adapters";

interface ColdStart {
  ports: Ports;
  options: ProcessingOptions;
}

let coldStart: ColdStart | undefined;

function parseOptions(raw: string | undefined): ProcessingOptions {
  let json: unknown;
  try {
    json = JSON.parse(raw ?? "{}");
  } catch (error) {
    throw new PipelineError("CONFIG_INVALID", `PIPELINE_OPTIONS is not valid JSON (${(error as Error).message}).`, { key: "PIPELINE_OPTIONS" });
  }
  const parsed = processingOptionsSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
    throw new PipelineError("CONFIG_INVALID", `PIPELINE_OPTIONS is invalid: ${problems}.`, { key: "PIPELINE_OPTIONS" });
  }
  return parsed.data;
}

/** Built on the first invocation, not at import, so a bad setting fails as a typed step error. */
function resolveColdStart(): ColdStart {
  coldStart ??= { ports: awsPortsFromEnv(), options: parseOptions(process.env.PIPELINE_OPTIONS) };
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
    const stuckAfterSeconds = positiveNumberSetting(process.env.STUCK_AFTER_SECONDS, "STUCK_AFTER_SECONDS");
    if (stuckAfterSeconds === undefined) throw new PipelineError("CONFIG_INVALID", "STUCK_AFTER_SECONDS is not set; deploy the stack again to set it.", { key: "STUCK_AFTER_SECONDS" });
    return await runScheduledSweep(resolveColdStart().ports, { stuckAfterSeconds }, (line) => console.log(line));
  } catch (thrown) {
    const error = toPipelineError(thrown);
    throw new StepError(error.code, error.name, formatErrorMessage(error), error.permanent);
  }
};
