import { formatErrorMessage, outOfMemoryError, PERMANENT_CODES, PERMANENT_ERROR_NAME, stepTimeoutError, TRANSIENT_CODES, TRANSIENT_ERROR_NAME } from "../core/errors";
import type { StepFailure } from "../steps/types";
import { handlersOfState } from "../workflow";

/**
 * How a step's failure crosses the activity → orchestrator boundary on Azure.
 *
 * `callActivityWithRetry` retries every thrown error, but a bad image never gets
 * better. So an activity *returns* a permanent failure as an envelope (no retry,
 * the orchestrator routes it to NotifyError) and *throws* a transient one (the
 * Durable extension retries it with the workflow's backoff). Both sides use
 * these helpers, so the contract lives in one place.
 */

export const FAILURE_KEY = "__failure";

/** What an activity returns instead of throwing a permanent error. */
export interface ActivityFailure {
  [FAILURE_KEY]: StepFailure;
}

/** True for an activity result that is a failure envelope. */
export function isActivityFailure(value: unknown): value is ActivityFailure {
  if (!value || typeof value !== "object" || !(FAILURE_KEY in value)) return false;
  const failure = (value as ActivityFailure)[FAILURE_KEY];
  return !!failure && typeof failure === "object" && typeof failure.Error === "string";
}

/** The failure an activity result carries, if it is an envelope. */
export function activityFailure(value: unknown): StepFailure | undefined {
  return isActivityFailure(value) ? value[FAILURE_KEY] : undefined;
}

/** True for an error a step marked permanent (`name: "PermanentError"`, or `permanent: true`). */
export function isPermanentStepError(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { name, permanent } = error as { name?: unknown; permanent?: unknown };
  return permanent === true || name === PERMANENT_ERROR_NAME;
}

/**
 * Runs an activity body under the contract: the result as is, a permanent error
 * as an envelope, anything else rethrown for the host to retry.
 *
 * @example settleActivity(() => runStep("validate", input, ports, options))
 */
export async function settleActivity(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return await run();
  } catch (error) {
    if (!isPermanentStepError(error)) throw withCodedMessage(error);
    const failure: ActivityFailure = { [FAILURE_KEY]: { Error: PERMANENT_ERROR_NAME, Cause: codedMessage(error) } };
    return failure;
  }
}

/** `CODE: text`, whether the error is a StepError (already coded) or a bare PipelineError. */
function codedMessage(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : String(error);
  return typeof code === "string" && !text.startsWith(`${code}:`) ? `${code}: ${text}` : text;
}

function withCodedMessage(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const message = codedMessage(error);
  if (message === error.message) return error;
  const coded = new Error(message, { cause: error });
  coded.name = error.name;
  return coded;
}

const CODE_PATTERN = new RegExp(`\\b(${[...PERMANENT_CODES, ...TRANSIENT_CODES].join("|")}): ([^\\r\\n]*)`);
// The Functions host's wording when an invocation outlives host.json functionTimeout (https://github.com/Azure/azure-functions-host/issues/4067).
const HOST_TIMEOUT_PATTERN = /Timeout value of [\d:.]+ (?:was )?exceeded|FunctionTimeoutException/i;
// A Node worker killed for memory: V8's heap limit aborts it (134), the kernel's OOM killer kills it (137); the host reports
// WorkerProcessExitException "node exited with code N" (https://github.com/Azure/azure-functions-durable-js/issues/543).
const OUT_OF_MEMORY_PATTERN = /OutOfMemory|heap out of memory|node exited with code (?:134|137)\b/i;

/**
 * Turns what the orchestrator caught from a failed (retried-out) task into the
 * `{ Error, Cause, Step }` NotifyError takes. The host wraps the activity's message in
 * its own text (and, with FailureDetails, an error type), so the `CODE: text`
 * part is searched for rather than expected at the start. The host's own failures,
 * a timeout or a worker that ran out of memory, become TIMEOUT or OUT_OF_MEMORY naming the step.
 *
 * @param step the workflow state that failed (a parallel block's name for its branches)
 */
export function failureFromError(error: unknown, step?: string): StepFailure {
  const details = (error as { failureDetails?: { errorType?: string; errorMessage?: string } } | undefined)?.failureDetails;
  const text = details ? `${details.errorType ?? ""}: ${details.errorMessage ?? ""}` : error instanceof Error ? error.message : String(error);
  const name = text.includes(PERMANENT_ERROR_NAME) ? PERMANENT_ERROR_NAME : TRANSIENT_ERROR_NAME;
  const named = step ? { Step: step } : {};
  const coded = CODE_PATTERN.exec(text);
  if (coded) return { Error: name, Cause: `${coded[1]}: ${coded[2].trim()}`, ...named };
  const keysFor = (field: "timeoutSeconds" | "memoryMb") => [...(step ? handlersOfState(step) : []).map((handler) => `steps.${handler}.${field}`), field];
  if (HOST_TIMEOUT_PATTERN.test(text)) {
    return { Error: TRANSIENT_ERROR_NAME, Cause: formatErrorMessage(stepTimeoutError(step, keysFor("timeoutSeconds"))), ...named };
  }
  if (OUT_OF_MEMORY_PATTERN.test(text)) {
    return { Error: PERMANENT_ERROR_NAME, Cause: formatErrorMessage(outOfMemoryError(step, keysFor("memoryMb"))), ...named };
  }
  return { Error: name, Cause: text.split(/\r?\n/)[0].trim(), ...named };
}
