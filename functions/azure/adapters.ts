/**
 * Azure adapters for the pipeline's ports: Blob Storage objects, Table Storage job
 * records, Event Grid events. Clients are created once per process and injected;
 * every SDK failure leaves here as a PipelineError with a stable code, never as a raw SDK error.
 */

import { BlobServiceClient, type StoragePipelineOptions } from "@azure/storage-blob";
import { odata, TableClient, type TableEntity, type TableEntityResult } from "@azure/data-tables";
import { EventGridPublisherClient } from "@azure/eventgrid";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { checkRetentionDays, expiresAtAfterDays, isLoopbackUrl, quoteEtag, storageError, unquoteEtag, versionGoneError, type Target } from "../adapters";
import { invalidParameterError, PipelineError, type SerializedError } from "../core/errors";
import { requiredSetting } from "../settings";
import { APP_SETTINGS, CONTAINERS, readAzureAppEnvironment, type AzureContainers } from "./contract";
import type { Area, ByteRange, JobRecord, JobStore, ListedObject, Notifier, ObjectInfo, ObjectStore, ObjectVersion, PipelineEvent, Ports } from "../ports";


export interface AzurePortSettings {
  /** e.g. https://acct.blob.core.windows.net; derived from accountName when absent. */
  blobServiceUrl?: string;
  /** e.g. https://acct.table.core.windows.net; derived from accountName when absent. */
  tableServiceUrl?: string;
  accountName?: string;
  /** Identity for storage and Event Grid; DefaultAzureCredential when absent. */
  credential?: TokenCredential;
  /** Local azurite only: a key-bearing connection string. In Azure the functions use their identity. */
  connectionString?: string;
  containers?: Partial<AzureContainers>;
  tableName: string;
  /** Event Grid topic endpoint (CloudEvents schema). */
  eventGridEndpoint?: string;
  /** Replaces Event Grid, e.g. the local runtime's JSON-lines notifier. */
  notifier?: Notifier;
  /** Job records get `expiresAt` (epoch seconds) this many days after their last write. */
  retentionDays?: number;
  /** Tries per call, including the first (SDK defaults: blob 4, table/Event Grid 4). */
  maxAttempts?: number;
}

// ---------------------------------------------------------------------------
// Error mapping

type AzureTarget = Target & { service: "Blob Storage" | "Table Storage" | "Event Grid" };

interface RestErrorShape {
  name?: string;
  code?: string;
  message?: string;
  statusCode?: number;
  details?: { errorCode?: string };
}

const NOT_FOUND_CODES = new Set(["BlobNotFound", "ContainerNotFound", "ResourceNotFound", "TableNotFound"]);
const THROTTLING_CODES = new Set(["ServerBusy", "TooManyRequests", "OperationTimedOutThrottled"]);
const UNAVAILABLE_CODES = new Set(["InternalError", "OperationTimedOut", "ServiceUnavailable", "REQUEST_SEND_ERROR"]);

function restStatus(thrown: unknown): number | undefined {
  return (thrown as RestErrorShape | undefined)?.statusCode;
}

/** The service's error code (BlobNotFound, TableNotFound...), or a network code such as ECONNREFUSED. */
function restCode(thrown: unknown): string | undefined {
  const error = thrown as RestErrorShape | undefined;
  return error?.details?.errorCode ?? error?.code;
}

/**
 * Turns any SDK failure into a PipelineError (functions/adapters.ts, storageError)
 * by the storage service's error codes and HTTP status.
 */
export function toAzureError(thrown: unknown, target: AzureTarget): PipelineError {
  const error = (thrown ?? {}) as RestErrorShape;
  const status = error.statusCode;
  const code = restCode(thrown);
  return storageError(
    thrown,
    target,
    {
      status,
      reason: code ?? (status !== undefined ? `HTTP ${status}` : (error.name ?? "Error")),
      networkCode: code,
      notFound: NOT_FOUND_CODES.has(code ?? ""),
      throttled: THROTTLING_CODES.has(code ?? ""),
      unavailable: UNAVAILABLE_CODES.has(code ?? "") || error.name === "AbortError",
      message: error.message,
    },
    { grantAdvice: "grant the function app's identity a data role on it" },
  );
}

// ---------------------------------------------------------------------------
// Blob Storage

export class BlobObjectStore implements ObjectStore {
  private readonly containers: AzureContainers;

  constructor(
    private readonly blobs: BlobServiceClient,
    containers: Partial<AzureContainers> = {},
  ) {
    this.containers = { ...CONTAINERS, ...containers };
  }

  /** The one place areas map to containers. */
  containerFor(area: Area): string {
    const container = Object.hasOwn(this.containers, area) ? this.containers[area] : undefined;
    if (!container) throw invalidParameterError("area", "one of uploads, work, renditions", area);
    return container;
  }

  async get(area: Area, key: string, version?: ObjectVersion, range?: ByteRange): Promise<Buffer> {
    const container = this.containerFor(area);
    try {
      const blob = this.blobs.getContainerClient(container).getBlobClient(key);
      // A count reads bytes 0..count-1 with x-ms-range: https://learn.microsoft.com/rest/api/storageservices/specifying-the-range-header-for-blob-service-operations
      return await blob.downloadToBuffer(0, range?.firstBytes, { conditions: pinned(version) });
    } catch (thrown) {
      throw readError(thrown, this.target(container, key), version);
    }
  }

  async head(area: Area, key: string, version?: ObjectVersion): Promise<ObjectInfo> {
    const container = this.containerFor(area);
    try {
      const properties = await this.blobs.getContainerClient(container).getBlobClient(key).getProperties({ conditions: pinned(version) });
      return { bytes: properties.contentLength ?? 0, etag: unquoteEtag(properties.etag), contentType: properties.contentType, metadata: properties.metadata };
    } catch (thrown) {
      throw readError(thrown, this.target(container, key), version);
    }
  }

  async put(area: Area, key: string, body: Buffer, contentType: string): Promise<void> {
    const container = this.containerFor(area);
    try {
      await this.blobs.getContainerClient(container).getBlockBlobClient(key).uploadData(body, { blobHTTPHeaders: { blobContentType: contentType } });
    } catch (thrown) {
      throw toAzureError(thrown, this.target(container, key));
    }
  }

  async list(area: Area, prefix: string, page: { cursor?: string; limit?: number } = {}): Promise<{ items: ListedObject[]; cursor?: string }> {
    const container = this.containerFor(area);
    try {
      // A flat listing comes in name order, a page at a time, resumed by the continuation token (marker): https://learn.microsoft.com/rest/api/storageservices/list-blobs
      const pages = this.blobs.getContainerClient(container).listBlobsFlat({ prefix }).byPage({ continuationToken: page.cursor, maxPageSize: page.limit });
      const { value } = await pages.next();
      const items: ListedObject[] = (value?.segment.blobItems ?? []).map((blob: { name: string; properties: { contentLength?: number; etag?: string; lastModified?: Date } }) => ({
        key: blob.name,
        bytes: blob.properties.contentLength ?? 0,
        etag: unquoteEtag(blob.properties.etag),
        lastModified: blob.properties.lastModified?.toISOString(),
      }));
      return { items, cursor: value?.continuationToken || undefined };
    } catch (thrown) {
      throw toAzureError(thrown, { service: "Blob Storage", resource: `container "${container}"`, item: `blobs under "${prefix}"`, details: { container, prefix } });
    }
  }

  async delete(area: Area, key: string, options: { allVersions?: boolean } = {}): Promise<void> {
    const container = this.containerFor(area);
    try {
      // "include" deletes the base blob and all of its snapshots: https://learn.microsoft.com/en-us/dotnet/api/azure.storage.blobs.models.deletesnapshotsoption
      await this.blobs.getContainerClient(container).getBlobClient(key).deleteIfExists(options.allVersions ? { deleteSnapshots: "include" } : {});
    } catch (thrown) {
      throw toAzureError(thrown, this.target(container, key));
    }
  }

  private target(container: string, key: string): AzureTarget {
    return { service: "Blob Storage", resource: `container "${container}"`, item: `blob "${key}"`, details: { container, key } };
  }
}

/**
 * A version pin on Azure is the ETag, sent as If-Match: BlobCreated events carry
 * the blob's eTag and no version id (https://learn.microsoft.com/en-us/javascript/api/@azure/eventgrid/storageblobcreatedeventdata),
 * and azurite does not implement blob versions. The S3 version id is ignored here.
 */
function pinned(version: ObjectVersion | undefined): { ifMatch?: string } {
  return version?.etag ? { ifMatch: quoteEtag(version.etag) } : {};
}

/** If-Match fails with 412 (ConditionNotMet) once the blob was overwritten: https://learn.microsoft.com/en-us/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations */
function readError(thrown: unknown, target: AzureTarget, version: ObjectVersion | undefined): PipelineError {
  if (version?.etag && restStatus(thrown) === 412) return versionGoneError(target, version, restCode(thrown) ?? "HTTP 412", thrown);
  return toAzureError(thrown, target);
}

// ---------------------------------------------------------------------------
// Table Storage

const PARTITION = "jobs";
/** Optimistic-concurrency rounds before finish gives up with a transient error. */
const FINISH_ROUNDS = 5;
/**
 * Store-internal column: true while the job's outcome event is not out (running,
 * or finished while the publish failed), so the stuck-job sweep can filter on it.
 */
const OPEN_COLUMN = "open"; // the listOpen filter names it too
const SYSTEM_PROPERTIES = new Set(["partitionKey", "rowKey", "etag", "timestamp", "odata.metadata", OPEN_COLUMN]);

type EntityValue = string | number | boolean | { value: number; type: "Double" };
type JobEntity = TableEntity<Record<string, EntityValue>>;

/** Untyped JSON integers are stored as Int32: anything wider is marked Double so it is neither rejected nor truncated. */
function entityValue(value: unknown): EntityValue {
  if (typeof value === "number" && !(Number.isInteger(value) && Math.abs(value) < 2 ** 31)) return { value, type: "Double" };
  return value as string | number | boolean;
}

/** Table keys cannot hold / \ # ? or control characters; job ids are hex, so this is normally the identity. */
function rowKeyFor(jobId: string): string {
  return encodeURIComponent(jobId);
}

/** Table Storage has no maps: `error` is a JSON string column; undefined fields are not written. */
function toEntity(jobId: string, fields: Partial<JobRecord>, open?: boolean): JobEntity {
  const entity: JobEntity = { partitionKey: PARTITION, rowKey: rowKeyFor(jobId), ...(open === undefined ? {} : { [OPEN_COLUMN]: open }) };
  for (const [name, value] of Object.entries({ ...fields, jobId })) {
    if (value === undefined) continue;
    entity[name] = name === "error" ? JSON.stringify(value) : entityValue(value);
  }
  return entity;
}

function fromEntity(entity: TableEntityResult<Record<string, unknown>>): JobRecord {
  const record: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(entity)) {
    if (SYSTEM_PROPERTIES.has(name) || value === undefined || value === null) continue;
    record[name] = name === "error" && typeof value === "string" ? (JSON.parse(value) as SerializedError) : value;
  }
  record.jobId ??= decodeURIComponent(entity.rowKey ?? "");
  return record as unknown as JobRecord;
}

export class TableJobStore implements JobStore {
  constructor(
    private readonly table: TableClient,
    private readonly retentionDays?: number,
  ) {}

  async create(record: JobRecord): Promise<boolean> {
    const entity = toEntity(record.jobId, { ...record, expiresAt: record.expiresAt ?? expiresAtAfterDays(this.retentionDays) }, record.announcedAt === undefined);
    try {
      await this.table.createEntity(entity);
      return true;
    } catch (thrown) {
      if (restStatus(thrown) === 409) return false;
      throw toAzureError(thrown, this.target(record.jobId));
    }
  }

  async finish(jobId: string, patch: Pick<JobRecord, "status"> & Partial<JobRecord>, runId?: string): Promise<boolean> {
    const now = new Date().toISOString();
    const fields: Partial<JobRecord> = {
      ...patch,
      updatedAt: patch.updatedAt ?? now,
      expiresAt: patch.expiresAt ?? expiresAtAfterDays(this.retentionDays),
    };
    try {
      for (let round = 0; round < FINISH_ROUNDS; round += 1) {
        const existing = await this.read(jobId);
        if (existing?.status !== undefined && existing.status !== "running") return false;
        // Only the owning run (or a record without an owner) may finish a running job when runId is given.
        if (existing && runId !== undefined && typeof existing.runId === "string" && existing.runId !== runId) return false;
        try {
          if (existing) {
            // Merge under the etag just read: a concurrent finish makes this fail with 412 instead of overwriting.
            // A finished job stays open until its outcome event is out.
            await this.table.updateEntity(toEntity(jobId, fields, true), "Merge", { etag: existing.etag });
          } else {
            // No record (the run failed before Validate wrote one): create the final record, conditionally.
            await this.table.createEntity(toEntity(jobId, { createdAt: now, ...fields }, true));
          }
          return true;
        } catch (thrown) {
          const status = restStatus(thrown);
          // 412: changed since read; 409: created since read; 404: deleted since read. Read again and decide.
          if (status !== 412 && status !== 409 && status !== 404) throw thrown;
        }
      }
    } catch (thrown) {
      throw toAzureError(thrown, this.target(jobId));
    }
    throw new PipelineError(
      "THROTTLED",
      `Job "${jobId}" in table "${this.table.tableName}" kept changing during ${FINISH_ROUNDS} attempts to finish it; the step will be retried.`,
      { table: this.table.tableName, jobId },
    );
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    try {
      const entity = await this.read(jobId);
      return entity && fromEntity(entity);
    } catch (thrown) {
      throw toAzureError(thrown, this.target(jobId));
    }
  }

  async markAnnounced(jobId: string): Promise<void> {
    try {
      await this.table.updateEntity(toEntity(jobId, { announcedAt: new Date().toISOString() }, false), "Merge");
    } catch (thrown) {
      // The record expired meanwhile: nothing is open any more.
      if (restStatus(thrown) === 404 && restCode(thrown) !== "TableNotFound") return;
      throw toAzureError(thrown, this.target(jobId));
    }
  }

  async listOpen(createdBefore: string, limit: number): Promise<JobRecord[]> {
    const open: JobRecord[] = [];
    try {
      // One partition holds every job; the filter runs in the service, a page at a time.
      const entities = this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${PARTITION} and open eq ${true} and createdAt lt ${createdBefore}` },
      });
      for await (const entity of entities) {
        open.push(fromEntity(entity));
        if (open.length >= limit) break;
      }
    } catch (thrown) {
      throw toAzureError(thrown, { service: "Table Storage", resource: `table "${this.table.tableName}"`, details: { table: this.table.tableName } });
    }
    return open;
  }

  async delete(jobId: string): Promise<void> {
    try {
      await this.table.deleteEntity(PARTITION, rowKeyFor(jobId));
    } catch (thrown) {
      // Already gone is fine; a missing table is a deployment problem, not a missing job.
      if (restStatus(thrown) === 404 && restCode(thrown) !== "TableNotFound") return;
      throw toAzureError(thrown, this.target(jobId));
    }
  }

  private async read(jobId: string): Promise<(TableEntityResult<Record<string, unknown>> & { status?: string }) | undefined> {
    try {
      return await this.table.getEntity<Record<string, unknown>>(PARTITION, rowKeyFor(jobId));
    } catch (thrown) {
      // A missing table is a deployment problem, not a missing job.
      if (restStatus(thrown) === 404 && restCode(thrown) !== "TableNotFound") return undefined;
      throw thrown;
    }
  }

  private target(jobId: string): AzureTarget {
    return { service: "Table Storage", resource: `table "${this.table.tableName}"`, item: `job "${jobId}"`, details: { table: this.table.tableName, jobId } };
  }
}

// ---------------------------------------------------------------------------
// Event Grid

export const EVENT_SOURCE = "image-pipeline";

export class EventGridNotifier implements Notifier {
  constructor(private readonly publisher: EventGridPublisherClient<"CloudEvent">) {}

  async publish(event: PipelineEvent): Promise<void> {
    try {
      await this.publisher.send([
        {
          type: event.type,
          source: EVENT_SOURCE,
          subject: event.sourceKey,
          // Stable per job and outcome, so subscribers can drop a redelivered event.
          id: `${event.jobId}:${event.type}`,
          time: new Date(event.time),
          datacontenttype: "application/json",
          data: event,
        },
      ]);
    } catch (thrown) {
      throw toAzureError(thrown, {
        service: "Event Grid",
        resource: `topic "${this.publisher.endpointUrl}"`,
        item: `event "${event.type}" of job "${event.jobId}"`,
        details: { endpoint: this.publisher.endpointUrl, jobId: event.jobId },
      });
    }
  }
}

// ---------------------------------------------------------------------------
// Wiring

interface AzureClients {
  blobs: BlobServiceClient;
  table: TableClient;
  publisher?: EventGridPublisherClient<"CloudEvent">;
}

/** One set of clients per distinct connection settings, kept for the life of the process. */
const clientCache = new Map<string, AzureClients>();
const credentialIds = new WeakMap<TokenCredential, number>();
let credentialCount = 0;
let defaultCredential: TokenCredential | undefined;

function credentialId(credential: TokenCredential | undefined): number {
  if (!credential) return 0;
  if (!credentialIds.has(credential)) credentialIds.set(credential, (credentialCount += 1));
  return credentialIds.get(credential) as number;
}

function isLoopbackEndpoint(connectionString: string): boolean {
  const endpoints = [...connectionString.matchAll(/(?:Blob|Table)Endpoint=([^;]+)/gi)].map((match) => match[1]);
  if (endpoints.length === 0) return /UseDevelopmentStorage=true/i.test(connectionString);
  return endpoints.every((url) => isLoopbackUrl(url));
}

function clientsFor(settings: AzurePortSettings): AzureClients {
  const blobUrl = settings.blobServiceUrl ?? (settings.accountName && `https://${settings.accountName}.blob.core.windows.net`);
  const tableUrl = settings.tableServiceUrl ?? (settings.accountName && `https://${settings.accountName}.table.core.windows.net`);
  const cacheKey = JSON.stringify([
    settings.connectionString,
    blobUrl,
    tableUrl,
    settings.tableName,
    settings.notifier ? undefined : settings.eventGridEndpoint,
    settings.maxAttempts,
    credentialId(settings.credential),
  ]);
  const cached = clientCache.get(cacheKey);
  if (cached) return cached;

  const blobOptions: StoragePipelineOptions = settings.maxAttempts ? { retryOptions: { maxTries: settings.maxAttempts } } : {};
  const tableOptions = settings.maxAttempts ? { retryOptions: { maxRetries: settings.maxAttempts - 1 } } : {};
  const credential = (): TokenCredential => settings.credential ?? (defaultCredential ??= new DefaultAzureCredential());

  let clients: AzureClients;
  if (settings.connectionString) {
    clients = {
      blobs: BlobServiceClient.fromConnectionString(settings.connectionString, blobOptions),
      table: TableClient.fromConnectionString(settings.connectionString, settings.tableName, { ...tableOptions, allowInsecureConnection: true }),
    };
  } else {
    if (!blobUrl) throw invalidParameterError("blobServiceUrl", "a Blob service URL, an accountName or a connectionString", blobUrl);
    if (!tableUrl) throw invalidParameterError("tableServiceUrl", "a Table service URL, an accountName or a connectionString", tableUrl);
    clients = {
      blobs: new BlobServiceClient(blobUrl, credential(), blobOptions),
      table: new TableClient(tableUrl, settings.tableName, credential(), tableOptions),
    };
  }
  if (!settings.notifier && settings.eventGridEndpoint) {
    clients.publisher = new EventGridPublisherClient(settings.eventGridEndpoint, "CloudEvent", credential(), tableOptions);
  }
  clientCache.set(cacheKey, clients);
  return clients;
}

/**
 * The pipeline's ports on Azure. Clients are shared between calls with the same
 * connection settings, so a function app builds them once per process.
 *
 * @example
 * const ports = createAzurePorts({ accountName: "imgpipe", tableName: "jobs", eventGridEndpoint });
 * await ports.objects.get("uploads", "cat.jpg");
 * @throws {PipelineError} CONFIG_INVALID when the table, the storage location, or both Event Grid endpoint and notifier are missing.
 */
export function createAzurePorts(settings: AzurePortSettings): Ports {
  if (!settings.tableName) throw invalidParameterError("tableName", "a Table Storage table name", settings.tableName);
  if (!settings.notifier && !settings.eventGridEndpoint) {
    throw invalidParameterError("eventGridEndpoint", "an Event Grid topic endpoint (or a notifier)", settings.eventGridEndpoint);
  }
  checkRetentionDays(settings.retentionDays);
  const clients = clientsFor(settings);
  return {
    objects: new BlobObjectStore(clients.blobs, settings.containers),
    jobs: new TableJobStore(clients.table, settings.retentionDays),
    notifier: settings.notifier ?? new EventGridNotifier(clients.publisher as EventGridPublisherClient<"CloudEvent">),
  };
}



/**
 * The ports from a function app's settings: STORAGE_ACCOUNT_NAME (reached with the
 * app's identity via DefaultAzureCredential, never keys), UPLOADS_CONTAINER,
 * WORK_CONTAINER, RENDITIONS_CONTAINER, JOBS_TABLE, EVENTGRID_TOPIC_ENDPOINT,
 * JOB_RETENTION_DAYS. STORAGE_CONNECTION_STRING is accepted only for a loopback
 * emulator (azurite). `overrides` win over the environment (e.g. a local notifier).
 *
 * @throws {PipelineError} CONFIG_INVALID naming the setting that is missing or malformed.
 */
export function azurePortsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AzurePortSettings> = {}): Ports {
  const { connectionString, storageAccountName, containers, jobsTable, eventGridTopicEndpoint, retentionDays } = readAzureAppEnvironment(env);
  if (connectionString && !isLoopbackEndpoint(connectionString)) {
    throw new PipelineError(
      "CONFIG_INVALID",
      `${APP_SETTINGS.storageConnectionString} is for the local emulator only; in Azure set ${APP_SETTINGS.storageAccountName} and grant the function app's identity a data role.`,
      { key: APP_SETTINGS.storageConnectionString },
    );
  }
  const settings: AzurePortSettings = {
    connectionString,
    accountName: storageAccountName,
    containers,
    tableName: jobsTable,
    eventGridEndpoint: eventGridTopicEndpoint,
    retentionDays,
    ...overrides,
  };
  if (!settings.notifier) requiredSetting(settings.eventGridEndpoint, APP_SETTINGS.eventGridTopicEndpoint, "the Event Grid topic endpoint");
  return createAzurePorts(settings);
}
