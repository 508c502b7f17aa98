/**
 * Errors of the local runtime itself (emulators, ports on this machine). They are
 * not pipeline errors: no workflow ever sees them, so they have their own codes.
 */

export const LOCAL_RUNTIME_CODES = ["EMULATOR_PORT_IN_USE", "EMULATOR_FAILED", "SERVE_PORT_IN_USE"] as const;

export type LocalRuntimeCode = (typeof LOCAL_RUNTIME_CODES)[number];

export class LocalRuntimeError extends Error {
  readonly code: LocalRuntimeCode;
  readonly details: Record<string, unknown>;

  /**
   * @param code stable error code
   * @param message a full sentence: what failed and what to do about it
   * @param details machine-readable context (port, emulator, last output lines...)
   */
  constructor(code: LocalRuntimeCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LocalRuntimeError";
    this.code = code;
    this.details = details;
  }
}

export function isLocalRuntimeError(value: unknown): value is LocalRuntimeError {
  return value instanceof LocalRuntimeError;
}

/**
 * What a person gave the local CLIs that cannot be used: a path, an option value,
 * an output folder. Reported as one `[CODE] message` line before anything starts.
 */
export const LOCAL_INPUT_CODES = [
  "USAGE_INVALID",
  "INPUT_EMPTY_PATH",
  "INPUT_NOT_FOUND",
  "INPUT_UNREADABLE",
  "INPUT_DANGLING_LINK",
  "INPUT_NONE",
  "OUT_DIR_UNWRITABLE",
  "OUT_DIR_IN_USE",
  "INBOX_NOT_A_FOLDER",
] as const;

export type LocalInputCode = (typeof LOCAL_INPUT_CODES)[number];

export class LocalInputError extends Error {
  readonly code: LocalInputCode;

  /**
   * @param code stable error code
   * @param message a full sentence: what is wrong with what was given and what to give instead
   */
  constructor(code: LocalInputCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LocalInputError";
    this.code = code;
  }
}

export function isLocalInputError(value: unknown): value is LocalInputError {
  return value instanceof LocalInputError;
}

/** A Node file-system error's code (`EACCES`, `ENOTDIR`...), if it is one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}
