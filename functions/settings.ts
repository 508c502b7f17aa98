import type { z } from "zod";
import { invalidParameterError, PipelineError } from "./core/errors";
import { processingOptionsSchema, type ProcessingOptions } from "./core/options";

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

/**
 * A JSON function setting the component wrote, validated by `schema` (the same schema as the stack config's).
 * `source` names the setting in messages, e.g. "App setting PIPELINE_OPTIONS"; `what` names its content.
 *
 * @throws {PipelineError} CONFIG_INVALID when the value is not valid JSON or not valid for the schema.
 */
export function parseJsonSetting<Schema extends z.ZodType>(raw: string | undefined, source: string, schema: Schema, what: string): z.infer<Schema> {
  let json: unknown = {};
  if (raw !== undefined && raw.trim() !== "") {
    try {
      json = JSON.parse(raw);
    } catch (error) {
      throw new PipelineError("CONFIG_INVALID", `${source} is not valid JSON (${(error as Error).message}); deploy the stack again to rewrite it.`, { key: source });
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
    throw new PipelineError("CONFIG_INVALID", `${source} holds invalid ${what}: ${problems}.`, { key: source });
  }
  return parsed.data;
}

/**
 * The processing options a stack deployed into a function setting (the JSON of the
 * stack config's `processing`), validated by the same schema as the stack config.
 *
 * @throws {PipelineError} CONFIG_INVALID when the value is not valid JSON or not valid options.
 */
export function parseProcessingOptions(raw: string | undefined, source: string): ProcessingOptions {
  return parseJsonSetting(raw, source, processingOptionsSchema, "processing options");
}
