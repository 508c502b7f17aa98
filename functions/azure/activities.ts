import type { ActivityHandler } from "durable-functions";
import { STEP_HANDLERS, type StepHandler } from "../workflow";
import type { ProcessingOptions } from "../core/options";
import type { Ports } from "../ports";
import { runStep } from "../steps";
import { azurePortsFromEnv } from "./adapters";
import { settleActivity } from "./failure";
import { ACTIVITY_NAMES, readAzureProcessingOptions } from "./contract";

/**
 * One activity per step handler. Each runs the shared step with the Azure
 * ports, under the failure contract of ./failure: permanent errors come back as
 * an envelope (never retried), transient ones are thrown for the host to retry.
 */

/** What an activity needs besides its input; created once per worker process. */
export interface ActivityEnvironment {
  ports: Ports;
  options: ProcessingOptions;
}

let environment: ActivityEnvironment | undefined;

/** The app's ports and options, built on first use (SDK clients are created once and reused). */
export function activityEnvironmentFromEnv(env: NodeJS.ProcessEnv = process.env): ActivityEnvironment {
  environment ??= { ports: azurePortsFromEnv(env), options: readAzureProcessingOptions(env) };
  return environment;
}

/**
 * The activity handler for one step. `environment` is resolved per call so a
 * misconfigured app fails the step with CONFIG_INVALID (permanent) instead of
 * failing the import of the whole app.
 */
export function createActivityHandler(handler: StepHandler, environment: () => ActivityEnvironment = activityEnvironmentFromEnv): ActivityHandler {
  return (input: unknown) =>
    settleActivity(async () => {
      const { ports, options } = environment();
      return runStep(handler, input, ports, options);
    });
}

/** The handlers registered under ACTIVITY_NAMES, by step handler. */
export const activityHandlers: Readonly<Record<StepHandler, ActivityHandler>> = Object.fromEntries(
  STEP_HANDLERS.map((handler) => [handler, createActivityHandler(handler)]),
) as Record<StepHandler, ActivityHandler>;

/** The same handlers by activity function name (what the orchestrator schedules). */
export const activitiesByName: Readonly<Record<string, ActivityHandler>> = Object.fromEntries(
  STEP_HANDLERS.map((handler) => [ACTIVITY_NAMES[handler], activityHandlers[handler]]),
);
