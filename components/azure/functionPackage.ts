import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { bundledAssets, buildFunctionBundle, type FunctionBundle } from "../bundle";
import { bundledFiles } from "../../functions/core/options";
import { stepSettings, type PipelineConfig } from "../config";
import { STEP_HANDLERS } from "../../functions/workflow";
import { FUNCTION_NAMES } from "../../functions/azure/contract";

/**
 * The Function App's code package: the shared bundler's zip of
 * functions/azure/app.ts (index.js + sharp's linux-x64 binaries) plus the two
 * files the Functions host reads at the zip root, host.json and package.json.
 *
 * No Pulumi import: tests and the offline preview build it directly.
 */

export const FUNCTION_APP_ENTRY = "functions/azure/app.ts";

/** Azure Functions on Linux runs x64 workers on every plan. */
export const FUNCTION_APP_CPU = "x64";

export interface AzureFunctionPackage extends FunctionBundle {
  /** Hex SHA-256 of the zip: names the package blob and restarts the app when the code changes. */
  sha256: string;
}

/**
 * A Durable task hub name for a stack: letters and digits only, starting with
 * a letter, 3 to 45 characters. Stacks sharing a storage account never share a hub.
 */
export function taskHubName(name: string): string {
  const alphanumeric = name.replace(/[^A-Za-z0-9]/g, "");
  const hub = /^[A-Za-z]/.test(alphanumeric) ? alphanumeric : `hub${alphanumeric}`;
  return hub.padEnd(3, "0").slice(0, 45);
}

/** `hh:mm:ss`, as host.json's functionTimeout wants it. */
export function formatTimeSpan(seconds: number): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor((seconds % 3600) / 60))}:${two(seconds % 60)}`;
}

/** The longest step timeout of the stack: functionTimeout is one value for the whole app. */
export function functionTimeoutSeconds(config: PipelineConfig): number {
  return Math.max(...STEP_HANDLERS.map((handler) => stepSettings(config, handler).timeoutSeconds));
}

/** Orchestrator episodes one instance runs at once (host.json maxConcurrentOrchestratorFunctions): they only replay history and wait. */
export const ORCHESTRATORS_PER_INSTANCE = 10;

/** Activities one Flex instance of this memory runs at once: about one per GB (a 512 MB instance runs one). */
export function flexActivitiesPerInstance(instanceMemoryMb: number): number {
  return Math.max(1, Math.floor(instanceMemoryMb / 1024));
}

/**
 * Activities per instance: image steps are CPU- and memory-bound (libvips is
 * single-threaded per image here), so about one per GB of instance memory.
 */
export function activitiesPerInstance(config: PipelineConfig): number {
  if (config.azure.plan === "flex") return flexActivitiesPerInstance(config.azure.flexInstanceMemoryMb);
  return 2;
}

/**
 * What the app sends to Application Insights, and none of it sampled: the alerts page on single
 * traces (a message moved to a poison queue, a job the sweep failed), which adaptive sampling would
 * drop under load (it samples every type not in `excludedTypes`:
 * https://learn.microsoft.com/en-us/azure/azure-functions/configure-monitoring#configure-sampling).
 * Kept small instead: the host's own per-invocation lines and Durable's per-state tracking events
 * go at Warning, the functions' own records (category `Function.<name>.User`) at Information.
 */
export function hostLogging(): Record<string, unknown> {
  return {
    logLevel: {
      default: "Information",
      // "Executing"/"Executed" per invocation (the requests table has them); the poison-queue warnings of this category stay
      // (https://learn.microsoft.com/en-us/azure/azure-functions/configure-monitoring#configure-categories).
      Function: "Warning",
      // The more specific category wins over `Function` (same page, "Configure log levels").
      ...Object.fromEntries(FUNCTION_NAMES.map((name) => [`Function.${name}.User`, "Information"])),
      // Per-state tracking events; a failed orchestration is logged at Error, which the failed-runs alert reads
      // (https://github.com/Azure/azure-functions-durable-extension/blob/dev/src/WebJobs.Extensions.DurableTask/EndToEndTraceHelper.cs, FunctionFailed).
      "Host.Triggers.DurableTask": "Warning",
      "DurableTask.AzureStorage": "Warning",
      "DurableTask.Core": "Warning",
    },
    applicationInsights: { samplingSettings: { isEnabled: true, excludedTypes: "Request;Exception;Trace" } },
  };
}

/** host.json: timeout from the config, the Durable task hub, quick polling of the upload-events queue, and the logging above. */
export function hostJson(config: PipelineConfig, hubName: string): Record<string, unknown> {
  return {
    version: "2.0",
    functionTimeout: formatTimeSpan(functionTimeoutSeconds(config)),
    extensionBundle: { id: "Microsoft.Azure.Functions.ExtensionBundle", version: "[4.*, 5.0.0)" },
    extensions: {
      durableTask: {
        hubName,
        storageProvider: { type: "AzureStorage" },
        maxConcurrentActivityFunctions: activitiesPerInstance(config),
        maxConcurrentOrchestratorFunctions: ORCHESTRATORS_PER_INSTANCE,
      },
      // The starter only reads an event and calls the Durable API: poll often, take a few at a time.
      queues: { maxPollingInterval: "00:00:02", batchSize: 8, maxDequeueCount: 5 },
    },
    logging: hostLogging(),
  };
}

/** package.json: the v4 programming model loads the registrations from `main`. */
export function packageJson(): Record<string, unknown> {
  return { name: "image-pipeline-functions", version: "1.0.0", private: true, main: "index.js", engines: { node: ">=20" } };
}

/** Azure has no 50 MB direct-upload cap like Lambda; the Azure SDKs make this bundle bigger than the AWS one. */
export const MAX_PACKAGE_BYTES = 32 * 1024 * 1024;

/**
 * Builds the package (cached per content within the process).
 *
 * @example const pkg = await buildAzureFunctionPackage(config, taskHubName("image-pipeline-dev"));
 */
export async function buildAzureFunctionPackage(config: PipelineConfig, hubName: string, outDir?: string): Promise<AzureFunctionPackage> {
  const bundle = await buildFunctionBundle({
    entry: FUNCTION_APP_ENTRY,
    cpu: FUNCTION_APP_CPU,
    outDir,
    // The Functions Node worker provides @azure/functions-core at run time; it is not on npm.
    external: ["@azure/functions-core"],
    maxBytes: MAX_PACKAGE_BYTES,
    extraFiles: {
      "host.json": `${JSON.stringify(hostJson(config, hubName), null, 2)}\n`,
      "package.json": `${JSON.stringify(packageJson(), null, 2)}\n`,
      // A `file:` watermark ships inside the package (assets/).
      ...bundledAssets(bundledFiles(config.processing)),
    },
  });
  return { ...bundle, sha256: await sha256File(bundle.zipPath) };
}

export async function sha256File(file: string): Promise<string> {
  return createHash("sha256").update(await fs.readFile(file)).digest("hex");
}
