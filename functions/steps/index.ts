import type { StepHandler } from "../workflow";
import { formatErrorMessage, toPipelineError, type ErrorCode } from "../core/errors";
import type { ProcessingOptions } from "../core/options";
import type { Ports } from "../ports";
import { notifyError, notifySuccess } from "./notify";
import { optimize } from "./optimize";
import { applyFilters, resize } from "./process";
import { validate } from "./validate";

export { jobIdFor } from "./jobId";
export { failureToError } from "./notify";
export * from "./keys";
export { negotiableFormats, NEGOTIABLE_QUERY_PARAMETER, servedOutputs } from "./served";
export { unwrapRunScoped, type RunScopedInput } from "./runScoped";
export { deleteUnder, eraseIfUploadGone, eraseUpload, erasureId, type EraseInput, type EraseResult } from "./erase";
export { runScheduledSweep, stuckAfterSeconds, sweepFailure, sweepStuckJobs, type SweepResult } from "./sweep";
export type * from "./types";

type Step = (input: never, ports: Ports, options: ProcessingOptions) => Promise<unknown>;

/** The workflow's step handlers by name: each is one Lambda on AWS and one activity on Azure. */
export const steps: Record<StepHandler, Step> = { validate, resize, applyFilters, optimize, notifySuccess, notifyError };

/**
 * What a step throws to its engine: the name (`TransientError`/`PermanentError`)
 * drives retries, the message is `CODE: text` so NotifyError recovers the code.
 */
export class StepError extends Error {
  readonly code: ErrorCode;
  readonly permanent: boolean;
  constructor(code: ErrorCode, name: string, message: string, permanent: boolean) {
    super(message);
    this.name = name;
    this.code = code;
    this.permanent = permanent;
  }
}

/**
 * Runs one step with the ports of the cloud it runs on. Every failure leaves as
 * a StepError; an unexpected one is logged with its cause and shown as INTERNAL.
 */
export async function runStep(handler: StepHandler, input: unknown, ports: Ports, options: ProcessingOptions): Promise<unknown> {
  const step = steps[handler];
  if (!step) throw new StepError("CONFIG_INVALID", "PermanentError", `CONFIG_INVALID: Unknown step handler "${handler}".`, true);
  try {
    return await step(input as never, ports, options);
  } catch (thrown) {
    const error = toPipelineError(thrown);
    if (error.code === "INTERNAL") console.error(JSON.stringify({ level: "error", step: handler, cause: String((thrown as Error)?.stack ?? thrown) }));
    throw new StepError(error.code, error.name, formatErrorMessage(error), error.permanent);
  }
}
