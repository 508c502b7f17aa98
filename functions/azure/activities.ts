import type { InvocationContext } from "@azure/functions";
import type { ActivityHandler } from "durable-functions";
import { STEP_HANDLERS, type StepHandler } from "../workflow";
import type { ProcessingOptions } from "../core/options";
import { observeStep, type StepLogRecord, type StepRecordSink } from "../observability";
import type { Ports } from "../ports";
import { runStep } from "../steps";
import { azurePortsFromEnv } from "./adapters";
import { settleActivity } from "./failure";
import { ACTIVITY_NAMES, readAzureProcessingOptions } from "./contract";

/**
 * One activity per step handler. Each runs the shared step with the Azure
 * ports, under the failure contract of ./failure: permanent errors come back as
 * an envelope (never retried), transient ones are thrown for the host to retry.
 * Each invocation leaves one structured record (functions/observability.ts) in the
 * invocation's log, which the Functions host sends to Application Insights as a trace.
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
  return (input: unknown, context?: InvocationContext) =>
    settleActivity(() =>
      observeStep(
        handler,
        input,
        async () => {
          const { ports, options } = environment();
          return runStep(handler, input, ports, options);
        },
        context ? azureTelemetrySink(context) : () => undefined,
      ),
    );
}

/**
 * The Azure side of the telemetry: the record as one JSON message through the invocation's
 * logger, at the level its outcome calls for. The host sends it to Application Insights as a
 * trace whose `message` is the JSON (https://learn.microsoft.com/en-us/azure/azure-functions/functions-reference-node#logging),
 * so KQL reads it with parse_json(message); the job-outcome alerts count the records that carry `job`.
 */
export function azureTelemetrySink(context: Pick<InvocationContext, "log" | "warn" | "error">): StepRecordSink {
  return (record: StepLogRecord) => {
    const line = JSON.stringify(record);
    if (record.outcome === "succeeded") context.log(line);
    else if (record.outcome === "retrying") context.warn(line);
    else context.error(line);
  };
}

/** The handlers registered under ACTIVITY_NAMES, by step handler. */
export const activityHandlers: Readonly<Record<StepHandler, ActivityHandler>> = Object.fromEntries(
  STEP_HANDLERS.map((handler) => [handler, createActivityHandler(handler)]),
) as Record<StepHandler, ActivityHandler>;

/** The same handlers by activity function name (what the orchestrator schedules). */
export const activitiesByName: Readonly<Record<string, ActivityHandler>> = Object.fromEntries(
  STEP_HANDLERS.map((handler) => [ACTIVITY_NAMES[handler], activityHandlers[handler]]),
);
