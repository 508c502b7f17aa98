import type { StepHandler } from "../functions/workflow";

/**
 * The shape of a cloud's platform limits (components/<cloud>/limits.ts): what
 * config.ts hands each cloud's check, and how the check reports a value the
 * platform cannot honour.
 */

/** One step's memory and timeout, with the config key each came from (for messages). */
export interface StepLimitsInput {
  handler: StepHandler;
  memoryMb: number;
  timeoutSeconds: number;
  memoryKey: string[];
  timeoutKey: string[];
}

/** Reports a problem under the config key path the user set. */
export type ReportProblem = (path: string[], message: string) => void;
