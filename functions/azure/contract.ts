import { parseApiSettings, type ApiSettings } from "../api/settings";
import type { ProcessingOptions } from "../core/options";
import { parseProcessingOptions, positiveNumberSetting, requiredSetting } from "../settings";
import { SWEEP_INTERVAL_MINUTES, taskSteps, workflow, type StepHandler } from "../workflow";

/**
 * The contract between the Function App's code and the infrastructure that deploys
 * it: function names, the upload-events queue, container names and the app settings
 * the code reads. components/azure writes these settings; functions/azure reads them,
 * both through this module. No SDK import, so components/azure can import it without
 * pulling the runtime in.
 */

/** The Durable orchestrator that walks functions/workflow.ts. */
export const ORCHESTRATOR_NAME = "ImagePipeline";

/** The queue-triggered durable client that starts one orchestration per upload. */
export const STARTER_NAME = "StartImagePipeline";

/** The reprocess orchestrator (./reprocess.ts): one listing page per generation, sub-orchestrations of ORCHESTRATOR_NAME per blob. */
export const REPROCESS_ORCHESTRATOR_NAME = "ReprocessUploads";

/** The activity that lists one page of the uploads container for the reprocess. */
export const LIST_UPLOADS_ACTIVITY = "ListUploadsPage";

/** The HTTP-started durable client that starts a reprocess (POST /api/reprocess). */
export const REPROCESS_STARTER_NAME = "StartReprocess";
/** `GET /api/reprocess/{id}`: a reprocess run's state (./reprocessHttp.ts). */
export const REPROCESS_STATUS_NAME = "ReprocessStatus";

/** Its route under the host's `api` prefix; the stack output `reprocessStarter` is its URL. */
export const REPROCESS_ROUTE = "reprocess";

/** App settings of the reprocess, from config `reprocess` (components/azure/appSettings.ts); defaults when unset. */
export const REPROCESS_SETTINGS = { pageSize: "REPROCESS_PAGE_SIZE", maxConcurrency: "REPROCESS_MAX_CONCURRENCY" } as const;

/** Event Grid delivers the uploads container's BlobCreated events to this queue (CloudEvents 1.0 JSON). */
export const UPLOAD_EVENTS_QUEUE = "upload-events";

/**
 * App setting prefix of the identity-based storage connection the host, Durable
 * Functions and the queue trigger share (`AzureWebJobsStorage__queueServiceUri`...).
 */
export const STORAGE_CONNECTION = "AzureWebJobsStorage";

/** One activity function per step handler, named after its workflow step (the orchestrator schedules these names). */
export const ACTIVITY_NAMES: Readonly<Record<StepHandler, string>> = Object.fromEntries(
  taskSteps(workflow).map((step) => [step.handler, step.name]),
) as Record<StepHandler, string>;

/** The timer-triggered stuck-job sweep (functions/steps/sweep.ts), and its NCRONTAB schedule. */
export const SWEEP_FUNCTION_NAME = "SweepStuckJobs";
export const SWEEP_SCHEDULE = `0 */${SWEEP_INTERVAL_MINUTES} * * * *`;

/**
 * Erasure on delete: Event Grid delivers the uploads container's BlobDeleted events to this queue
 * (CloudEvents 1.0 JSON); the queue-triggered EraseUpload function erases what the pipeline made of the blob.
 */
export const DELETE_EVENTS_QUEUE = "delete-events";
export const ERASE_FUNCTION_NAME = "EraseUpload";

/** The pipeline's blob containers, one per storage area of the ports. */
export interface AzureContainers {
  uploads: string;
  work: string;
  renditions: string;
}

export const CONTAINERS: Readonly<AzureContainers> = { uploads: "uploads", work: "work", renditions: "renditions" };

/** App settings the step code reads, by what they hold. */
export const APP_SETTINGS = {
  storageAccountName: "STORAGE_ACCOUNT_NAME",
  uploadsContainer: "UPLOADS_CONTAINER",
  workContainer: "WORK_CONTAINER",
  renditionsContainer: "RENDITIONS_CONTAINER",
  jobsTable: "JOBS_TABLE",
  eventGridTopicEndpoint: "EVENTGRID_TOPIC_ENDPOINT",
  pipelineOptions: "PIPELINE_OPTIONS",
  jobRetentionDays: "JOB_RETENTION_DAYS",
  /** Local emulator (azurite) only: a key-bearing connection string; refused for anything but loopback. */
  storageConnectionString: "STORAGE_CONNECTION_STRING",
  /** The HTTP API: the stack's `api` block as JSON (functions/api/settings.ts). */
  apiSettings: "API_SETTINGS",
  /** The HTTP API: where renditions are served (Front Door's https://host), unset = SAS URLs. */
  deliveryBaseUrl: "DELIVERY_BASE_URL",
  /** The HTTP API: the table of per-caller request counts in the storage account (functions/azure/rateLimitStore.ts). */
  rateLimitTable: "RATE_LIMIT_TABLE",
  /** The HTTP API: set when only Front Door may reach the app, to its profile's id (the X-Azure-FDID every request must carry). */
  frontDoorId: "FRONT_DOOR_ID",
} as const;

/** The HTTP API's table of per-caller request counts (letters and digits only: a table name). */
export const RATE_LIMIT_TABLE = "apiratelimits";

/**
 * The HTTP API's functions under the host's `api` route prefix, one per top-level path of the app
 * (functions/api/app.ts), each handing its requests to the same app: no catch-all over the whole
 * prefix, which would also take `reprocess` (REPROCESS_ROUTE). The host does not rank routes by
 * specificity; it tries them in the order it registered the functions, by name
 * (https://github.com/Azure/azure-functions-host/issues/9876, https://learn.microsoft.com/answers/questions/703716/different-routing-behavior-between-web-api-and-azu.html),
 * so no two HTTP functions' routes may overlap. A catch-all also matches the empty rest, so
 * `uploads/{*rest}` takes `/api/uploads` (https://learn.microsoft.com/en-us/aspnet/core/fundamentals/routing).
 * A path under none of them gets the host's own 404, without the app's JSON body.
 */
export const API_FUNCTIONS = { ApiUploads: "uploads/{*rest}", ApiJobs: "jobs/{*rest}", ApiDocument: "openapi.json" } as const;

/** Every function app.ts registers (tests/components/azure/functionPackage.test.ts loads the package and compares); host.json names their log categories. */
export const FUNCTION_NAMES: readonly string[] = [
  STARTER_NAME,
  ORCHESTRATOR_NAME,
  ...Object.values(ACTIVITY_NAMES),
  SWEEP_FUNCTION_NAME,
  ERASE_FUNCTION_NAME,
  REPROCESS_STARTER_NAME,
  REPROCESS_STATUS_NAME,
  REPROCESS_ORCHESTRATOR_NAME,
  LIST_UPLOADS_ACTIVITY,
  ...Object.keys(API_FUNCTIONS),
];

/** What the step code needs to know about its stack; the component writes it, the adapters read it. */
export interface AzureStepSettings {
  storageAccountName: string;
  containers: AzureContainers;
  jobsTable: string;
  eventGridTopicEndpoint: string;
  processing: ProcessingOptions;
  retentionDays: number;
}

/** The app settings for `settings` (the writer's side). */
export function azureStepAppSettings(settings: AzureStepSettings): Record<string, string> {
  return {
    [APP_SETTINGS.storageAccountName]: settings.storageAccountName,
    [APP_SETTINGS.uploadsContainer]: settings.containers.uploads,
    [APP_SETTINGS.workContainer]: settings.containers.work,
    [APP_SETTINGS.renditionsContainer]: settings.containers.renditions,
    [APP_SETTINGS.jobsTable]: settings.jobsTable,
    [APP_SETTINGS.eventGridTopicEndpoint]: settings.eventGridTopicEndpoint,
    [APP_SETTINGS.pipelineOptions]: JSON.stringify(settings.processing),
    [APP_SETTINGS.jobRetentionDays]: String(settings.retentionDays),
  };
}

/** The settings as the app reads them (the reader's side); optional ones stay undefined when unset. */
export interface AzureAppEnvironment {
  storageAccountName?: string;
  connectionString?: string;
  containers: AzureContainers;
  jobsTable: string;
  eventGridTopicEndpoint?: string;
  retentionDays?: number;
}

/**
 * Reads the storage and job-store settings.
 *
 * @throws {PipelineError} CONFIG_INVALID naming the setting that is missing or malformed.
 */
export function readAzureAppEnvironment(env: NodeJS.ProcessEnv): AzureAppEnvironment {
  const connectionString = env[APP_SETTINGS.storageConnectionString] || undefined;
  return {
    connectionString,
    storageAccountName: connectionString ? undefined : requiredSetting(env[APP_SETTINGS.storageAccountName], APP_SETTINGS.storageAccountName, "the storage account name"),
    containers: {
      uploads: env[APP_SETTINGS.uploadsContainer] || CONTAINERS.uploads,
      work: env[APP_SETTINGS.workContainer] || CONTAINERS.work,
      renditions: env[APP_SETTINGS.renditionsContainer] || CONTAINERS.renditions,
    },
    jobsTable: requiredSetting(env[APP_SETTINGS.jobsTable], APP_SETTINGS.jobsTable, "the jobs table name"),
    eventGridTopicEndpoint: env[APP_SETTINGS.eventGridTopicEndpoint] || undefined,
    retentionDays: positiveNumberSetting(env[APP_SETTINGS.jobRetentionDays], APP_SETTINGS.jobRetentionDays),
  };
}

/**
 * The processing options the stack deployed, validated by the stack config's own schema.
 *
 * @throws {PipelineError} CONFIG_INVALID when the setting is not valid JSON or not valid options.
 */
export function readAzureProcessingOptions(env: NodeJS.ProcessEnv): ProcessingOptions {
  return parseProcessingOptions(env[APP_SETTINGS.pipelineOptions], `App setting ${APP_SETTINGS.pipelineOptions}`);
}

/** What the HTTP API needs besides the step settings (values may be Pulumi outputs on the writer's side). */
export interface AzureApiSettings<T = string> {
  api: ApiSettings;
  /** Front Door's base URL when it serves the renditions. */
  deliveryBaseUrl?: T;
  /** The table of per-caller request counts (the deployed API always has one). */
  rateLimitTable?: T;
  /** The Front Door profile's id when the app answers Front Door only (functions/azure/api.ts checks X-Azure-FDID against it). */
  frontDoorId?: T;
}

/** The HTTP API's extra app settings (the writer's side); merge them with azureStepAppSettings'. */
export function azureApiAppSettings<T = string>(settings: AzureApiSettings<T>): Record<string, T | string> {
  return {
    [APP_SETTINGS.apiSettings]: JSON.stringify(settings.api),
    ...(settings.deliveryBaseUrl !== undefined ? { [APP_SETTINGS.deliveryBaseUrl]: settings.deliveryBaseUrl } : {}),
    ...(settings.rateLimitTable !== undefined ? { [APP_SETTINGS.rateLimitTable]: settings.rateLimitTable } : {}),
    ...(settings.frontDoorId !== undefined ? { [APP_SETTINGS.frontDoorId]: settings.frontDoorId } : {}),
  };
}

/**
 * The HTTP API's settings (the reader's side).
 *
 * @throws {PipelineError} CONFIG_INVALID when API_SETTINGS is not valid JSON or not valid settings.
 */
export function readAzureApiSettings(env: NodeJS.ProcessEnv): AzureApiSettings {
  return {
    api: parseApiSettings(env[APP_SETTINGS.apiSettings], `App setting ${APP_SETTINGS.apiSettings}`),
    deliveryBaseUrl: env[APP_SETTINGS.deliveryBaseUrl] || undefined,
    rateLimitTable: env[APP_SETTINGS.rateLimitTable] || undefined,
    frontDoorId: env[APP_SETTINGS.frontDoorId] || undefined,
  };
}
