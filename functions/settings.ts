import { invalidParameterError } from "./core/errors";

/** Reading function settings (environment variables, adapter settings) with CONFIG_INVALID errors that name the setting. */

/** @throws {PipelineError} CONFIG_INVALID when the value is missing or blank. */
export function requiredSetting(value: string | undefined, name: string, expected: string): string {
  if (value === undefined || value.trim() === "") throw invalidParameterError(name, expected, value);
  return value;
}

/** A positive number, or undefined when unset. @throws {PipelineError} CONFIG_INVALID otherwise. */
export function positiveNumberSetting(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw invalidParameterError(name, "a positive number", raw);
  return value;
}
