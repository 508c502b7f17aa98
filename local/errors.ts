/**
 * Errors of the local runtime itself (emulators, ports on this machine). They are
 * not pipeline errors: no workflow ever sees them, so they have their own codes.
 */

export const LOCAL_RUNTIME_CODES = ["EMULATOR_PORT_IN_USE", "EMULATOR_FAILED"] as const;

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
