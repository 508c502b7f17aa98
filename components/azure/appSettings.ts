import type { PipelineConfig } from "../config";
import type { ProcessingOptions } from "../../functions/core/options";
import { azureStepAppSettings, REPROCESS_SETTINGS, STORAGE_CONNECTION, type AzureContainers } from "../../functions/azure/contract";

/**
 * The Function App's settings, as one pure function of resolved values so the
 * rules (identity-based storage, what each plan accepts) are tested directly.
 * No key or connection string with a key ever appears: storage and Event Grid
 * are reached with the app's user-assigned managed identity.
 */

export type AzurePlan = PipelineConfig["azure"]["plan"];

export interface AppSettingsInputs {
  plan: AzurePlan;
  storageAccountName: string;
  /** The account's primary endpoints (`https://<account>.blob.core.windows.net/`...). */
  endpoints: { blob: string; queue: string; table: string };
  containers: AzureContainers;
  jobsTable: string;
  eventGridTopicEndpoint: string;
  applicationInsightsConnectionString: string;
  processing: ProcessingOptions;
  retentionDays: number;
  /** SHA-256 of the code package: a new package changes a setting, which restarts the app. */
  packageSha256: string;
  /** Premium/Dedicated: the package blob's URL, fetched with the app's identity. */
  packageUrl?: string;
  /** The user-assigned identity the app reaches storage, Event Grid and its package with. */
  identity: { clientId: string; resourceId: string };
  /** Config `reprocess`: blobs listed per page and sub-orchestrations at once (functions/azure/reprocess.ts). */
  reprocess?: Pick<PipelineConfig["reprocess"], "batchSize" | "maxConcurrency">;
}

/** Settings the Flex Consumption plan rejects (it takes runtime and package from functionAppConfig). */
export const FLEX_FORBIDDEN_SETTINGS = [
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_EXTENSION_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_CONTENTSHARE",
] as const;

const trimSlash = (url: string) => url.replace(/\/+$/, "");

export function functionAppSettings(inputs: AppSettingsInputs): Record<string, string> {
  const settings: Record<string, string> = {
    // Host storage, Durable task hub and the upload-events trigger, all by identity.
    [`${STORAGE_CONNECTION}__blobServiceUri`]: trimSlash(inputs.endpoints.blob),
    [`${STORAGE_CONNECTION}__queueServiceUri`]: trimSlash(inputs.endpoints.queue),
    [`${STORAGE_CONNECTION}__tableServiceUri`]: trimSlash(inputs.endpoints.table),
    // The account name too: with the service URIs alone the host can fail to build its blob client on a cold start, a race its
    // maintainers document with this setting as the workaround; both name the same account (https://github.com/Azure/azure-functions-host/issues/11787).
    [`${STORAGE_CONNECTION}__accountName`]: inputs.storageAccountName,
    [`${STORAGE_CONNECTION}__credential`]: "managedidentity",
    // A user-assigned identity is named by its client id (https://learn.microsoft.com/en-us/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
    [`${STORAGE_CONNECTION}__clientId`]: inputs.identity.clientId,
    // The steps' DefaultAzureCredential picks the user-assigned identity by this variable (https://learn.microsoft.com/en-us/dotnet/api/azure.identity.defaultazurecredentialoptions.managedidentityclientid).
    AZURE_CLIENT_ID: inputs.identity.clientId,
    // The step adapters (functions/azure/adapters.ts).
    ...azureStepAppSettings({
      storageAccountName: inputs.storageAccountName,
      containers: inputs.containers,
      jobsTable: inputs.jobsTable,
      eventGridTopicEndpoint: inputs.eventGridTopicEndpoint,
      processing: inputs.processing,
      retentionDays: inputs.retentionDays,
    }),
    // glibc's per-thread arenas fragment memory under libvips; sharp's docs suggest 2.
    MALLOC_ARENA_MAX: "2",
    APPLICATIONINSIGHTS_CONNECTION_STRING: inputs.applicationInsightsConnectionString,
    PIPELINE_PACKAGE_SHA256: inputs.packageSha256,
    ...(inputs.reprocess ? { [REPROCESS_SETTINGS.pageSize]: String(inputs.reprocess.batchSize), [REPROCESS_SETTINGS.maxConcurrency]: String(inputs.reprocess.maxConcurrency) } : {}),
  };
  if (inputs.plan === "flex") return settings;

  if (!inputs.packageUrl) throw new Error(`The ${inputs.plan} plan runs from a package URL; none was given.`);
  return {
    ...settings,
    FUNCTIONS_EXTENSION_VERSION: "~4",
    FUNCTIONS_WORKER_RUNTIME: "node",
    WEBSITE_RUN_FROM_PACKAGE: inputs.packageUrl,
    // Fetch the package with the user-assigned identity: no SAS token to expire or leak (https://learn.microsoft.com/en-us/azure/azure-functions/run-functions-from-deployment-package).
    WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: inputs.identity.resourceId,
  };
}
