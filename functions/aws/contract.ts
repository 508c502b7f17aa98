import { parseApiSettings, type ApiSettings } from "../api/settings";
import { PipelineError } from "../core/errors";
import type { ProcessingOptions } from "../core/options";
import { parseProcessingOptions, positiveNumberSetting, requiredSetting } from "../settings";

/**
 * The contract between the Lambda code and the infrastructure that deploys it:
 * the functions' environment (components/aws writes it, functions/aws reads it,
 * both through this module) and the jobs table's layout. No SDK import: the
 * Pulumi program loads this file too.
 */

/** Environment variables the step code reads, by what they hold. */
export const LAMBDA_ENV = {
  uploadsBucket: "UPLOADS_BUCKET",
  renditionsBucket: "RENDITIONS_BUCKET",
  workPrefix: "WORK_PREFIX",
  jobsTable: "JOBS_TABLE",
  topicArn: "TOPIC_ARN",
  pipelineOptions: "PIPELINE_OPTIONS",
  jobRetentionDays: "JOB_RETENTION_DAYS",
  /** The sweep only: jobs running longer than this are stuck. */
  stuckAfterSeconds: "STUCK_AFTER_SECONDS",
  /** The API function only: the stack's `api` block as JSON (functions/api/settings.ts). */
  apiSettings: "API_SETTINGS",
  /** The API function only: where renditions are served (the CDN's https://host), unset = signed URLs. */
  deliveryBaseUrl: "DELIVERY_BASE_URL",
  /** The API function only: the DynamoDB table of per-caller request counts (functions/aws/rateLimitStore.ts). */
  rateLimitTable: "RATE_LIMIT_TABLE",
} as const;

/** The rate-limit table's partition key (a string: `<caller key>#<window start ms>`). */
export const RATE_LIMIT_TABLE_KEY = "counterId";
/** The rate-limit table's TTL attribute (epoch seconds). */
export const RATE_LIMIT_TABLE_TTL_ATTRIBUTE = "expiresAt";

/** Intermediates' prefix in the renditions bucket; a lifecycle rule expires them after a day. */
export const WORK_PREFIX = "work/";

/** What the step code needs to know about its stack (values may be Pulumi outputs on the writer's side). */
export interface LambdaSettings<T = string> {
  uploadsBucket: T;
  renditionsBucket: T;
  jobsTable: T;
  topicArn: T;
  processing: ProcessingOptions;
  retentionDays: number;
}

/** The environment for `settings` (the writer's side). */
export function lambdaEnvironment<T>(settings: LambdaSettings<T>): Record<string, T | string> {
  return {
    [LAMBDA_ENV.uploadsBucket]: settings.uploadsBucket,
    [LAMBDA_ENV.renditionsBucket]: settings.renditionsBucket,
    [LAMBDA_ENV.workPrefix]: WORK_PREFIX,
    [LAMBDA_ENV.jobsTable]: settings.jobsTable,
    [LAMBDA_ENV.topicArn]: settings.topicArn,
    [LAMBDA_ENV.pipelineOptions]: JSON.stringify(settings.processing),
    [LAMBDA_ENV.jobRetentionDays]: String(settings.retentionDays),
  };
}

/** The settings as a function reads them (the reader's side); optional ones stay undefined when unset. */
export interface LambdaEnvironment {
  uploadsBucket: string;
  renditionsBucket: string;
  workPrefix?: string;
  jobsTable: string;
  topicArn?: string;
  retentionDays?: number;
}

/**
 * Reads the storage and job-store variables.
 *
 * @throws {PipelineError} CONFIG_INVALID naming the variable that is missing or malformed.
 */
export function readLambdaEnvironment(env: NodeJS.ProcessEnv): LambdaEnvironment {
  return {
    uploadsBucket: requiredSetting(env[LAMBDA_ENV.uploadsBucket], LAMBDA_ENV.uploadsBucket, "the uploads bucket name"),
    renditionsBucket: requiredSetting(env[LAMBDA_ENV.renditionsBucket], LAMBDA_ENV.renditionsBucket, "the renditions bucket name"),
    workPrefix: env[LAMBDA_ENV.workPrefix] || undefined,
    jobsTable: requiredSetting(env[LAMBDA_ENV.jobsTable], LAMBDA_ENV.jobsTable, "the jobs table name"),
    topicArn: env[LAMBDA_ENV.topicArn] || undefined,
    retentionDays: positiveNumberSetting(env[LAMBDA_ENV.jobRetentionDays], LAMBDA_ENV.jobRetentionDays),
  };
}

/**
 * The processing options the stack deployed, validated by the stack config's own schema.
 *
 * @throws {PipelineError} CONFIG_INVALID when the variable is not valid JSON or not valid options.
 */
export function readLambdaProcessingOptions(env: NodeJS.ProcessEnv): ProcessingOptions {
  return parseProcessingOptions(env[LAMBDA_ENV.pipelineOptions], `Environment variable ${LAMBDA_ENV.pipelineOptions}`);
}

/** The sweep's threshold. @throws {PipelineError} CONFIG_INVALID when unset or malformed. */
export function readStuckAfterSeconds(env: NodeJS.ProcessEnv): number {
  const seconds = positiveNumberSetting(env[LAMBDA_ENV.stuckAfterSeconds], LAMBDA_ENV.stuckAfterSeconds);
  if (seconds === undefined) {
    throw new PipelineError("CONFIG_INVALID", `${LAMBDA_ENV.stuckAfterSeconds} is not set; deploy the stack again to set it.`, { key: LAMBDA_ENV.stuckAfterSeconds });
  }
  return seconds;
}

/**
 * The jobs table's layout, shared by the adapter (functions/aws/adapters.ts),
 * the component that creates the table and the local provisioning:
 *
 * - key `jobId` (string);
 * - TTL attribute `expiresAt` (epoch seconds);
 * - sparse index of open jobs, those whose outcome has not been announced yet
 *   (still running, or finished while the event failed to go out): `openShard`
 *   is written by create and finish and removed once the event is out, so the
 *   index holds only those, oldest first (sort key `createdAt`), keys only: the
 *   stuck-job sweep reads the records it lists. One partition: fine up to about a thousand job
 *   starts and finishes per second.
 */
export const JOBS_TABLE_KEY = "jobId";
export const JOBS_TABLE_TTL_ATTRIBUTE = "expiresAt";

export const OPEN_JOBS_INDEX = {
  name: "open-jobs",
  partitionKey: "openShard",
  sortKey: "createdAt",
  /** The one value of `openShard`. */
  shard: "open",
  /**
   * Keys only: a finish then changes nothing the index holds, so it costs no index write (one WRU per job less);
   * the sweep reads each listed job's record, and lists only jobs past the stuck limit (normally none).
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
   */
  projection: "KEYS_ONLY",
} as const;

/** What the delete rule's input transformer hands the erase function (components/aws/deleteTrigger.ts). */
export interface DeletedUploadEvent {
  sourceKey?: unknown;
  sourceEtag?: unknown;
  sourceVersion?: unknown;
  deletionType?: unknown;
}

/**
 * The erasure an Object Deleted event asks for. Only a "Permanently Deleted" event's ETag and
 * version id name the deleted upload; a "Delete Marker Created" event's are the marker's own
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), so only the key counts.
 *
 * @throws {PipelineError} CONFIG_INVALID when the event names no key (a broken input transformer).
 */
export function eraseInputFor(event: DeletedUploadEvent | undefined): { sourceKey: string; sourceEtag?: string; sourceVersion?: string } {
  const sourceKey = typeof event?.sourceKey === "string" ? event.sourceKey : "";
  if (sourceKey === "") throw new PipelineError("CONFIG_INVALID", "The erase function needs the deleted upload's key (sourceKey); check the delete rule's input transformer.");
  const permanently = event?.deletionType === "Permanently Deleted" && typeof event.sourceEtag === "string" && typeof event.sourceVersion === "string";
  return permanently ? { sourceKey, sourceEtag: event.sourceEtag as string, sourceVersion: event.sourceVersion as string } : { sourceKey };
}

/** What the API function needs besides the step settings (values may be Pulumi outputs on the writer's side). */
export interface LambdaApiSettings<T = string> {
  api: ApiSettings;
  /** The CDN's base URL when one serves the renditions. */
  deliveryBaseUrl?: T;
  /** The table of per-caller request counts (the deployed API always has one). */
  rateLimitTable?: T;
}

/** The API function's extra environment (the writer's side); merge it with lambdaEnvironment's. */
export function lambdaApiEnvironment<T>(settings: LambdaApiSettings<T>): Record<string, T | string> {
  return {
    [LAMBDA_ENV.apiSettings]: JSON.stringify(settings.api),
    ...(settings.deliveryBaseUrl !== undefined ? { [LAMBDA_ENV.deliveryBaseUrl]: settings.deliveryBaseUrl } : {}),
    ...(settings.rateLimitTable !== undefined ? { [LAMBDA_ENV.rateLimitTable]: settings.rateLimitTable } : {}),
  };
}

/**
 * The API function's settings (the reader's side).
 *
 * @throws {PipelineError} CONFIG_INVALID when API_SETTINGS is not valid JSON or not valid settings.
 */
export function readLambdaApiSettings(env: NodeJS.ProcessEnv): LambdaApiSettings {
  return {
    api: parseApiSettings(env[LAMBDA_ENV.apiSettings], `Environment variable ${LAMBDA_ENV.apiSettings}`),
    deliveryBaseUrl: env[LAMBDA_ENV.deliveryBaseUrl] || undefined,
    rateLimitTable: env[LAMBDA_ENV.rateLimitTable] || undefined,
  };
}
