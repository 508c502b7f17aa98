/**
 * One error type for everything a user or the platform can cause. Every error
 * carries a stable `code` that tests assert and users can grep for, and says
 * whether retrying could help (`permanent`): a corrupt image never gets better.
 */

export const PERMANENT_CODES = [
  "UNSUPPORTED_FORMAT",
  "TOO_LARGE",
  "TOO_MANY_PIXELS",
  "TOO_MANY_FRAMES",
  "CORRUPT_IMAGE",
  "EMPTY_INPUT",
  "NOT_FOUND",
  "CONFIG_INVALID",
  // A step that ran out of memory runs out again on retry: raise its memory instead.
  "OUT_OF_MEMORY",
] as const;

export const TRANSIENT_CODES = ["STORAGE_UNAVAILABLE", "THROTTLED", "TIMEOUT", "INTERNAL"] as const;

export type PermanentCode = (typeof PERMANENT_CODES)[number];
export type TransientCode = (typeof TRANSIENT_CODES)[number];
export type ErrorCode = PermanentCode | TransientCode;

/** Names the workflow engines match on: ASL `ErrorEquals`, and the Azure orchestrator. */
export const TRANSIENT_ERROR_NAME = "TransientError";
export const PERMANENT_ERROR_NAME = "PermanentError";

export class PipelineError extends Error {
  readonly code: ErrorCode;
  readonly permanent: boolean;
  readonly details: Record<string, unknown>;

  /**
   * @param code stable error code
   * @param message a full sentence: what was wrong, the limit, what to do
   * @param details machine-readable context (limit, actual value, key...)
   */
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.permanent = (PERMANENT_CODES as readonly string[]).includes(code);
    // The name is what Step Functions and Durable Functions see; retries key on it.
    this.name = this.permanent ? PERMANENT_ERROR_NAME : TRANSIENT_ERROR_NAME;
    this.details = details;
  }

  /** The serialisable form stored in job records and failure events. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, permanent: this.permanent, details: this.details };
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  permanent: boolean;
  details?: Record<string, unknown>;
}

export function isPipelineError(value: unknown): value is PipelineError {
  return value instanceof PipelineError;
}

/**
 * Turns anything thrown into a PipelineError. Unknown errors become a transient
 * `INTERNAL` error whose message hides internals (the cause is kept for logs).
 */
export function toPipelineError(value: unknown): PipelineError {
  if (isPipelineError(value)) return value;
  const parsed = parseErrorMessage(value instanceof Error ? value.message : String(value));
  if (parsed) return parsed;
  return new PipelineError("INTERNAL", "An unexpected internal error occurred; the step will be retried.", {}, { cause: value });
}

/**
 * Engines carry errors as (name, message) strings; messages are `CODE: text`.
 * This recovers the typed error on the other side (NotifyError, the orchestrator).
 */
export function formatErrorMessage(error: PipelineError): string {
  return `${error.code}: ${error.message}`;
}

export function parseErrorMessage(message: string | undefined): PipelineError | undefined {
  if (!message) return undefined;
  const match = /^([A-Z_]+): ([\s\S]*)$/.exec(message.trim());
  if (!match) return undefined;
  const code = match[1] as ErrorCode;
  if (![...PERMANENT_CODES, ...TRANSIENT_CODES].includes(code as never)) return undefined;
  return new PipelineError(code, match[2]);
}

/**
 * A step ran past its function's timeout (Lambda's `Sandbox.Timedout`, Step Functions' `States.Timeout`,
 * the Functions host's FunctionTimeoutException), after its retries.
 *
 * @param step the workflow state that timed out, when the engine says which
 * @param settingKeys the config keys that set its timeout, e.g. `["steps.resize.timeoutSeconds"]`
 */
export function stepTimeoutError(step?: string, settingKeys: string[] = ["timeoutSeconds"]): PipelineError {
  const which = step ? `The ${step} step` : "A step";
  return new PipelineError(
    "TIMEOUT",
    `${which} ran past its timeout; raise ${settingKeys.join(" or ")} for it, or lower the input limits (limits.maxPixels).`,
    step ? { step } : {},
  );
}

/**
 * A step's function ran out of memory (Lambda's `Runtime.OutOfMemory`, an Azure worker killed for memory).
 * Permanent: the same image needs the same memory on a retry.
 *
 * @param step the workflow state that ran out of memory, when the engine says which
 * @param settingKeys the config keys that set its memory, e.g. `["steps.resize.memoryMb"]`
 */
export function outOfMemoryError(step?: string, settingKeys: string[] = ["memoryMb"]): PipelineError {
  const which = step ? `The ${step} step` : "A step";
  return new PipelineError(
    "OUT_OF_MEMORY",
    `${which} ran out of memory; raise ${settingKeys.join(" or ")} for it, or lower the input limits (limits.maxPixels).`,
    step ? { step } : {},
  );
}

/** One factory for bad parameters, so every message has the same shape. */
export function invalidParameterError(name: string, expected: string, actual: unknown): PipelineError {
  return new PipelineError(
    "CONFIG_INVALID",
    `Expected ${expected} for ${name} but received ${JSON.stringify(actual)}.`,
    { key: name, expected, actual },
  );
}
