/**
 * AWS adapters for the pipeline's ports: S3 objects, DynamoDB job records, SNS
 * events. SDK clients are created once per cold start and injected; every SDK
 * failure leaves here as a PipelineError with a stable code, never as a raw SDK error.
 */

import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { checkRetentionDays, etagDiffers, expiresAtAfterDays, isLoopbackUrl, storageError, unquoteEtag, versionGoneError, type Target } from "../adapters";
import { invalidParameterError, PipelineError } from "../core/errors";
import { positiveNumberSetting, requiredSetting } from "../settings";
import type { Area, ByteRange, JobRecord, JobStore, ListedObject, Notifier, ObjectInfo, ObjectStore, ObjectVersion, PipelineEvent, Ports } from "../ports";
import { JOBS_TABLE_KEY, LAMBDA_ENV, OPEN_JOBS_INDEX, readLambdaEnvironment, WORK_PREFIX } from "./contract";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsPortSettings {
  /** Defaults to the SDK's chain (AWS_REGION in Lambda); `us-east-1` when an endpoint is given. */
  region?: string;
  uploadsBucket: string;
  renditionsBucket: string;
  /** Prefix of intermediates in the renditions bucket (lifecycle-expired); default `work/`. */
  workPrefix?: string;
  tableName: string;
  topicArn?: string;
  /** S3 endpoint for a local emulator; path-style addressing is used with it. */
  endpoint?: string;
  dynamoEndpoint?: string;
  /** Defaults to the SDK's chain; fake static credentials when a loopback endpoint is given. */
  credentials?: AwsCredentials;
  /** Replaces SNS, e.g. the local runtime's JSON-lines notifier. */
  notifier?: Notifier;
  /** Job records get `expiresAt` (DynamoDB TTL) this many days after their last write. */
  retentionDays?: number;
  /** SDK attempts per call (SDK default 3); 1 makes a stopped emulator fail at once. */
  maxAttempts?: number;
}

/** Credentials the emulators accept; never valid against AWS. */
export const LOCAL_AWS_CREDENTIALS: AwsCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };


const LOCAL_REGION = "us-east-1";

// ---------------------------------------------------------------------------
// Error mapping

type AwsTarget = Target & { service: "S3" | "DynamoDB" | "SNS" };

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const NOT_FOUND_NAMES = new Set(["NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchVersion", "ResourceNotFoundException", "NotFoundException"]);
const THROTTLING_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "SlowDown",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "TooManyRequests",
  "RequestThrottled",
  "RequestThrottledException",
]);
/** What an S3-compatible store that keeps no versions answers a version listing with. */
const VERSIONLESS_NAMES = new Set(["MethodNotAllowed", "NotImplemented"]);
const UNAVAILABLE_NAMES = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "ServiceUnavailable",
  "InternalError",
  "InternalServerError",
  "InternalFailure",
]);

/**
 * Turns any SDK failure into a PipelineError (functions/adapters.ts, storageError)
 * by the AWS SDK's error names and HTTP status.
 */
export function toAwsError(thrown: unknown, target: AwsTarget): PipelineError {
  const error = (thrown ?? {}) as SdkErrorShape;
  const name = error.name ?? "Error";
  return storageError(
    thrown,
    target,
    {
      status: error.$metadata?.httpStatusCode,
      reason: error.code ?? name,
      networkCode: error.code,
      notFound: NOT_FOUND_NAMES.has(name),
      throttled: THROTTLING_NAMES.has(name) || error.$retryable?.throttling === true,
      unavailable: UNAVAILABLE_NAMES.has(name),
      message: error.message,
      details: { sdkError: name },
    },
    { grantAdvice: "grant the function's role access to it" },
  );
}

// ---------------------------------------------------------------------------
// S3

export class S3ObjectStore implements ObjectStore {
  private readonly workPrefix: string;

  constructor(
    private readonly s3: S3Client,
    private readonly buckets: { uploadsBucket: string; renditionsBucket: string; workPrefix?: string },
  ) {
    this.workPrefix = buckets.workPrefix ?? WORK_PREFIX;
  }

  /** The one place areas map to buckets: intermediates share the renditions bucket under a prefix. */
  keyFor(area: Area, key: string): { Bucket: string; Key: string } {
    switch (area) {
      case "uploads":
        return { Bucket: this.buckets.uploadsBucket, Key: key };
      case "work":
        return { Bucket: this.buckets.renditionsBucket, Key: `${this.workPrefix}${key}` };
      case "renditions":
        return { Bucket: this.buckets.renditionsBucket, Key: key };
      default:
        throw invalidParameterError("area", "one of uploads, work, renditions", area);
    }
  }

  async get(area: Area, key: string, version?: ObjectVersion, range?: ByteRange): Promise<Buffer> {
    const location = this.keyFor(area, key);
    const target = this.target(location);
    // GetObject's Range takes one HTTP byte range, "bytes=0-N" inclusive: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
    const Range = range ? `bytes=0-${Math.max(0, range.firstBytes - 1)}` : undefined;
    // GetObject with VersionId returns that version, also after an overwrite (needs s3:GetObjectVersion): https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
    const response = await this.readPinned(target, version, (VersionId) => this.s3.send(new GetObjectCommand({ ...location, VersionId, Range })));
    try {
      if (!response.Body) return Buffer.alloc(0);
      const bytes = await response.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (thrown) {
      throw toAwsError(thrown, target);
    }
  }

  async head(area: Area, key: string, version?: ObjectVersion): Promise<ObjectInfo> {
    const location = this.keyFor(area, key);
    // HeadObject takes the same VersionId: https://docs.aws.amazon.com/AmazonS3/latest/userguide/RetMetaOfObjVersion.html
    const response = await this.readPinned(this.target(location), version, (VersionId) => this.s3.send(new HeadObjectCommand({ ...location, VersionId })));
    return { bytes: response.ContentLength ?? 0, etag: unquoteEtag(response.ETag), versionId: response.VersionId, contentType: response.ContentType, metadata: response.Metadata };
  }

  /**
   * Sends a read of the pinned version. A store without versions (an unversioned bucket, the
   * local emulator) answers with the newest object whatever the VersionId: its ETag gives it away,
   * as S3 events carry the object's ETag (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html).
   */
  private async readPinned<R extends { ETag?: string; Body?: unknown }>(target: AwsTarget, version: ObjectVersion | undefined, send: (versionId: string | undefined) => Promise<R>): Promise<R> {
    let response: R;
    try {
      response = await send(version?.versionId);
    } catch (thrown) {
      const error = toAwsError(thrown, target);
      // A 404 for a named version: S3 answers NoSuchVersion (HEAD has no body, so only the status) once it expired or was deleted.
      if (version?.versionId && error.code === "NOT_FOUND") throw versionGoneError(target, version, String(error.details.reason), thrown);
      throw error;
    }
    if (etagDiffers(version, response.ETag)) {
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw versionGoneError(target, version as ObjectVersion, `ETag ${unquoteEtag(response.ETag)}`);
    }
    return response;
  }

  async put(area: Area, key: string, body: Buffer, contentType: string): Promise<void> {
    const location = this.keyFor(area, key);
    try {
      await this.s3.send(new PutObjectCommand({ ...location, Body: body, ContentType: contentType }));
    } catch (thrown) {
      throw toAwsError(thrown, this.target(location));
    }
  }

  async list(area: Area, prefix: string, page: { cursor?: string; limit?: number } = {}): Promise<{ items: ListedObject[]; cursor?: string }> {
    const { Bucket, Key: fullPrefix } = this.keyFor(area, prefix);
    const inArea = area === "work" ? this.workPrefix : "";
    try {
      // Keys come in ascending order, at most 1,000 a page; a truncated page without NextMarker resumes after its last key: https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/s3/aws.sdk.kotlin.services.s3.model/-list-objects-response/next-marker.html
      // ListObjects (not V2): s3rver builds V2 continuation tokens with DES, which Node 20's OpenSSL 3 refuses, so a truncated V2 page fails there.
      const response = await this.s3.send(new ListObjectsCommand({ Bucket, Prefix: fullPrefix, Marker: page.cursor, MaxKeys: page.limit }));
      const lastKey = response.Contents?.[response.Contents.length - 1]?.Key;
      const items: ListedObject[] = [];
      for (const object of response.Contents ?? []) {
        const key = object.Key ?? "";
        // Intermediates share the renditions bucket: a renditions listing leaves them out, as the areas are apart.
        if (area === "renditions" && key.startsWith(this.workPrefix)) continue;
        items.push({ key: key.slice(inArea.length), bytes: object.Size ?? 0, etag: unquoteEtag(object.ETag), lastModified: object.LastModified?.toISOString() });
      }
      return { items, cursor: response.IsTruncated ? (response.NextMarker ?? lastKey) : undefined };
    } catch (thrown) {
      throw toAwsError(thrown, { service: "S3", resource: `bucket "${Bucket}"`, item: `keys under "${fullPrefix}"`, details: { bucket: Bucket, prefix: fullPrefix } });
    }
  }

  async delete(area: Area, key: string, options: { allVersions?: boolean } = {}): Promise<void> {
    const location = this.keyFor(area, key);
    const target = this.target(location);
    try {
      const versions = options.allVersions ? await this.versionsOf(location) : undefined;
      // A store that keeps no versions (s3rver) has only the object itself to delete.
      if (versions === undefined) {
        // DeleteObject answers 204 whether or not the key exists; on a versioned bucket it adds a delete marker: https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html
        await this.s3.send(new DeleteObjectCommand(location));
        return;
      }
      // With a VersionId, DeleteObject removes that version or delete marker for good (s3:DeleteObjectVersion): https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html
      for (const VersionId of versions) await this.s3.send(new DeleteObjectCommand({ ...location, VersionId }));
    } catch (thrown) {
      throw toAwsError(thrown, target);
    }
  }

  /**
   * Every version id and delete-marker id of exactly this key, or undefined when the store keeps
   * no versions. ListObjectVersions pages with KeyMarker/VersionIdMarker (s3:ListBucketVersions):
   * https://docs.aws.amazon.com/cli/v1/reference/s3api/list-object-versions.html
   */
  private async versionsOf({ Bucket, Key }: { Bucket: string; Key: string }): Promise<string[] | undefined> {
    const ids: string[] = [];
    let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (;;) {
      let response;
      try {
        response = await this.s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: Key, ...markers }));
      } catch (thrown) {
        // s3rver answers `?versions` with MethodNotAllowed; S3 lists versions on every bucket (a "null" version when unversioned).
        if (VERSIONLESS_NAMES.has((thrown as SdkErrorShape | undefined)?.name ?? "")) return undefined;
        throw thrown;
      }
      // The prefix also matches longer keys (`a.jpg` and `a.jpg/thumb.webp`): only this key's own versions go.
      for (const entry of [...(response.Versions ?? []), ...(response.DeleteMarkers ?? [])]) {
        if (entry.Key === Key && entry.VersionId) ids.push(entry.VersionId);
      }
      // Keys come in order and this key is the first with its prefix: past it, nothing more of it follows.
      if (!response.IsTruncated || (response.NextKeyMarker !== undefined && response.NextKeyMarker !== Key)) return ids;
      markers = { KeyMarker: response.NextKeyMarker, VersionIdMarker: response.NextVersionIdMarker };
    }
  }

  private target({ Bucket, Key }: { Bucket: string; Key: string }): AwsTarget {
    return { service: "S3", resource: `bucket "${Bucket}"`, item: `object "${Key}"`, details: { bucket: Bucket, key: Key } };
  }
}

// ---------------------------------------------------------------------------
// DynamoDB

function isConditionFailure(thrown: unknown): boolean {
  return (thrown as SdkErrorShape | undefined)?.name === "ConditionalCheckFailedException";
}

/** A stored item as a JobRecord: the index key is the store's business, not the record's. */
function withoutIndexKey(item: Record<string, unknown>): JobRecord {
  const { [OPEN_JOBS_INDEX.partitionKey]: _shard, ...record } = item;
  return record as unknown as JobRecord;
}

/** Drops undefined fields, so an update never writes them and a patch never clears a field by accident. */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays?: number,
  ) {}

  async create(record: JobRecord): Promise<boolean> {
    // Open (in the open-jobs index) until its outcome event is out.
    const open = record.announcedAt === undefined ? { [OPEN_JOBS_INDEX.partitionKey]: OPEN_JOBS_INDEX.shard } : {};
    const item = defined({ ...record, ...open, expiresAt: record.expiresAt ?? expiresAtAfterDays(this.retentionDays) });
    try {
      await this.documents.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(jobId)" }),
      );
      return true;
    } catch (thrown) {
      if (isConditionFailure(thrown)) return false;
      throw toAwsError(thrown, this.target(record.jobId));
    }
  }

  async finish(jobId: string, patch: Pick<JobRecord, "status"> & Partial<JobRecord>, runId?: string): Promise<boolean> {
    const now = new Date().toISOString();
    const fields: Record<string, unknown> = defined({
      ...patch,
      updatedAt: patch.updatedAt ?? now,
      expiresAt: patch.expiresAt ?? expiresAtAfterDays(this.retentionDays),
    });
    delete fields.jobId;
    // A finished job stays open (in the open-jobs index) until its outcome event is out.
    const names: Record<string, string> = { "#status": "status", "#openShard": OPEN_JOBS_INDEX.partitionKey };
    const values: Record<string, unknown> = { ":running": "running", ":open": OPEN_JOBS_INDEX.shard };
    const assignments: string[] = ["#openShard = :open"];
    for (const [index, [field, value]] of Object.entries(fields).entries()) {
      names[`#f${index}`] = field;
      values[`:f${index}`] = value;
      assignments.push(`#f${index} = :f${index}`);
    }
    // A finish without a record (the run failed before Validate recorded it) still leaves a complete record.
    if (!("createdAt" in fields)) {
      names["#createdAt"] = "createdAt";
      values[":now"] = now;
      assignments.push("#createdAt = if_not_exists(#createdAt, :now)");
    }
    // Only the owning run (or a record without an owner) may finish a running job when runId is given.
    let ownedBy = "";
    if (runId !== undefined) {
      names["#runId"] = "runId";
      values[":runId"] = runId;
      ownedBy = " AND (attribute_not_exists(#runId) OR #runId = :runId)";
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          UpdateExpression: `SET ${assignments.join(", ")}`,
          ConditionExpression: `attribute_not_exists(jobId) OR (#status = :running${ownedBy})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (thrown) {
      if (isConditionFailure(thrown)) return false;
      throw toAwsError(thrown, this.target(jobId));
    }
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    try {
      const response = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { jobId }, ConsistentRead: true }));
      return response.Item && withoutIndexKey(response.Item);
    } catch (thrown) {
      throw toAwsError(thrown, this.target(jobId));
    }
  }

  async markAnnounced(jobId: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          // Leaves the open-jobs index.
          UpdateExpression: "SET #announcedAt = :now REMOVE #openShard",
          ConditionExpression: "attribute_exists(jobId)",
          ExpressionAttributeNames: { "#announcedAt": "announcedAt", "#openShard": OPEN_JOBS_INDEX.partitionKey },
          ExpressionAttributeValues: { ":now": new Date().toISOString() },
        }),
      );
    } catch (thrown) {
      // The record expired meanwhile: nothing is open any more.
      if (isConditionFailure(thrown)) return;
      throw toAwsError(thrown, this.target(jobId));
    }
  }

  async listOpen(createdBefore: string, limit: number): Promise<JobRecord[]> {
    let listed: string[];
    try {
      const response = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: OPEN_JOBS_INDEX.name,
          KeyConditionExpression: "#shard = :open AND #createdAt < :before",
          ExpressionAttributeNames: { "#shard": OPEN_JOBS_INDEX.partitionKey, "#createdAt": OPEN_JOBS_INDEX.sortKey },
          ExpressionAttributeValues: { ":open": OPEN_JOBS_INDEX.shard, ":before": createdBefore },
          Limit: limit,
        }),
      );
      listed = (response.Items ?? []).map((item) => String(item[JOBS_TABLE_KEY]));
    } catch (thrown) {
      throw toAwsError(thrown, { service: "DynamoDB", resource: `table "${this.tableName}"`, item: `index "${OPEN_JOBS_INDEX.name}"`, details: { table: this.tableName } });
    }
    // The index holds keys only (OPEN_JOBS_INDEX.projection): read each record; one announced meanwhile has left it.
    const records = await Promise.all(listed.map((jobId) => this.get(jobId)));
    return records.filter((record): record is JobRecord => record !== undefined && record.announcedAt === undefined);
  }

  async delete(jobId: string): Promise<void> {
    try {
      // DeleteItem of a missing key succeeds unless a condition is given: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteItem.html
      await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { jobId } }));
    } catch (thrown) {
      throw toAwsError(thrown, this.target(jobId));
    }
  }

  private target(jobId: string): AwsTarget {
    return { service: "DynamoDB", resource: `table "${this.tableName}"`, item: `job "${jobId}"`, details: { table: this.tableName, jobId } };
  }
}

// ---------------------------------------------------------------------------
// SNS

export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(event: PipelineEvent): Promise<void> {
    try {
      await this.sns.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          // Email subscribers see the subject; SNS allows printable ASCII only, under 100 characters.
          Subject: `${event.type} ${event.jobId}`.replace(/[^\x20-\x7E]/g, "?").slice(0, 99),
          Message: JSON.stringify(event),
          // Subscribers filter on the type without parsing the body.
          MessageAttributes: { type: { DataType: "String", StringValue: event.type } },
        }),
      );
    } catch (thrown) {
      throw toAwsError(thrown, {
        service: "SNS",
        resource: `topic "${this.topicArn}"`,
        item: `event "${event.type}" of job "${event.jobId}"`,
        details: { topicArn: this.topicArn, jobId: event.jobId },
      });
    }
  }
}

// ---------------------------------------------------------------------------
// Wiring

interface AwsClients {
  s3: S3Client;
  documents: DynamoDBDocumentClient;
  sns: SNSClient;
}

/** One set of clients per distinct connection settings, kept for the life of the process (the cold start). */
const clientCache = new Map<string, AwsClients>();

function clientsFor(settings: AwsPortSettings): AwsClients {
  const local = isLoopbackUrl(settings.endpoint) || isLoopbackUrl(settings.dynamoEndpoint);
  const region = settings.region ?? (local ? LOCAL_REGION : undefined);
  const credentials = settings.credentials ?? (local ? LOCAL_AWS_CREDENTIALS : undefined);
  const cacheKey = JSON.stringify([region, settings.endpoint, settings.dynamoEndpoint, settings.maxAttempts, credentials?.accessKeyId, credentials?.sessionToken]);
  const cached = clientCache.get(cacheKey);
  if (cached) return cached;

  const common = {
    region,
    credentials,
    maxAttempts: settings.maxAttempts,
    // Options form of NodeHttpHandler: keep-alive agents (its default) and a short connect timeout.
    requestHandler: { connectionTimeout: local ? 2_000 : 5_000 },
  };
  const s3 = new S3Client({
    ...common,
    endpoint: settings.endpoint,
    forcePathStyle: settings.endpoint !== undefined,
    // Emulators do not speak the flexible-checksum protocol; S3 itself does not require it.
    ...(settings.endpoint ? { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } : {}),
  });
  const dynamo = new DynamoDBClient({ ...common, endpoint: settings.dynamoEndpoint });
  const documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
  const sns = new SNSClient(common);
  const clients = { s3, documents, sns };
  clientCache.set(cacheKey, clients);
  return clients;
}


/**
 * The pipeline's ports on AWS. Clients are shared between calls with the same
 * connection settings, so a Lambda builds them once per cold start.
 *
 * @example
 * const ports = createAwsPorts({ uploadsBucket: "up", renditionsBucket: "out", tableName: "jobs", topicArn });
 * await ports.objects.get("uploads", "cat.jpg");
 * @throws {PipelineError} CONFIG_INVALID when a bucket, the table, or both topic and notifier are missing.
 */
export function createAwsPorts(settings: AwsPortSettings): Ports {
  const uploadsBucket = requiredSetting(settings.uploadsBucket, "uploadsBucket", "an S3 bucket name");
  const renditionsBucket = requiredSetting(settings.renditionsBucket, "renditionsBucket", "an S3 bucket name");
  const tableName = requiredSetting(settings.tableName, "tableName", "a DynamoDB table name");
  if (!settings.notifier && !settings.topicArn) throw invalidParameterError("topicArn", "an SNS topic ARN (or a notifier)", settings.topicArn);
  checkRetentionDays(settings.retentionDays);
  const clients = clientsFor(settings);
  return {
    objects: new S3ObjectStore(clients.s3, { uploadsBucket, renditionsBucket, workPrefix: settings.workPrefix }),
    jobs: new DynamoJobStore(clients.documents, tableName, settings.retentionDays),
    notifier: settings.notifier ?? new SnsNotifier(clients.sns, settings.topicArn as string),
  };
}


/**
 * The ports from a Lambda's environment: UPLOADS_BUCKET, RENDITIONS_BUCKET,
 * WORK_PREFIX, JOBS_TABLE, TOPIC_ARN, JOB_RETENTION_DAYS, AWS_MAX_ATTEMPTS. The standard
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB (or AWS_ENDPOINT_URL) point it at
 * emulators. `overrides` win over the environment (e.g. a local notifier).
 *
 * @throws {PipelineError} CONFIG_INVALID naming the variable that is missing or malformed.
 */
export function awsPortsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AwsPortSettings> = {}): Ports {
  const { uploadsBucket, renditionsBucket, workPrefix, jobsTable, topicArn, retentionDays } = readLambdaEnvironment(env);
  const settings: AwsPortSettings = {
    region: env.AWS_REGION || undefined,
    uploadsBucket,
    renditionsBucket,
    workPrefix,
    tableName: jobsTable,
    topicArn,
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
    dynamoEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined,
    retentionDays,
    maxAttempts: positiveNumberSetting(env.AWS_MAX_ATTEMPTS, "AWS_MAX_ATTEMPTS"),
    ...overrides,
  };
  if (!settings.notifier) requiredSetting(settings.topicArn, LAMBDA_ENV.topicArn, "the SNS topic ARN");
  return createAwsPorts(settings);
}
