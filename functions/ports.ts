import type { SerializedError } from "./core/errors";

/**
 * The three ports the workflow steps talk to. Each cloud has adapters
 * (functions/aws, functions/azure); the local runtime uses the same adapters
 * against emulators. Adapters turn SDK failures into PipelineErrors:
 * a missing object is `NOT_FOUND` (permanent), throttling/5xx/network are
 * `STORAGE_UNAVAILABLE` or `THROTTLED` (transient, retried by the engine).
 */

/**
 * Logical storage areas. AWS: uploads bucket; renditions bucket with a `work/`
 * prefix (1-day lifecycle) for intermediates. Azure: one container per area.
 */
export type Area = "uploads" | "work" | "renditions";

export interface ObjectInfo {
  bytes: number;
  /** Without quotes. */
  etag?: string;
  /** The S3 version id, where the store keeps versions. */
  versionId?: string;
  contentType?: string;
  /**
   * The uploader's metadata, names without prefix; read by `focal` crops. S3 returns `x-amz-meta-*` names lower-case
   * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html); blob metadata names are case-insensitive
   * (https://learn.microsoft.com/rest/api/storageservices/setting-and-retrieving-properties-and-metadata-for-blob-resources).
   */
  metadata?: Record<string, string>;
}

/**
 * The version of an object a read must return: the one the upload event named,
 * so a job renders the bytes it was started for even when the key is
 * overwritten meanwhile (the newer upload has its own job).
 */
export interface ObjectVersion {
  /** S3: the version id; S3 keeps the version after an overwrite, so the read still returns its bytes. */
  versionId?: string;
  /** The ETag (quotes optional): an object with another ETag is not this version (Azure: If-Match). */
  etag?: string;
}

/** Set (true) in the details of the NOT_FOUND a read throws when the version it was asked for is gone. */
export const VERSION_GONE_DETAIL = "versionGone";

/** True for the NOT_FOUND of a pinned read whose version was replaced or deleted (see ObjectStore.get). */
export function isVersionGone(error: unknown): boolean {
  const details = (error as { code?: string; details?: Record<string, unknown> } | undefined)?.details;
  return (error as { code?: string } | undefined)?.code === "NOT_FOUND" && details?.[VERSION_GONE_DETAIL] === true;
}

/** One object of a listing; `key` is relative to its area, as the other calls take it. */
export interface ListedObject {
  key: string;
  bytes: number;
  etag?: string;
  lastModified?: string;
}

/** A ranged read: the object's first `firstBytes` bytes (all of a shorter one). */
export interface ByteRange {
  firstBytes: number;
}

export interface ObjectStore {
  /**
   * Whole object: the newest version, or the one `version` names. Throws
   * `NOT_FOUND` if absent, and `NOT_FOUND` with `details.versionGone` when the
   * named version cannot be read any more (overwritten on a store that keeps no
   * versions, or expired): never another version's bytes.
   */
  get(area: Area, key: string, version?: ObjectVersion, range?: ByteRange): Promise<Buffer>;
  /** Size and etag without the body, of the newest version or the one `version` names; fails as `get` does. */
  head(area: Area, key: string, version?: ObjectVersion): Promise<ObjectInfo>;
  /** Writes (overwrites) an object. */
  put(area: Area, key: string, body: Buffer, contentType: string): Promise<void>;
  /** One page of keys under `prefix` in key order; pass the returned cursor for the next page. */
  list(area: Area, prefix: string, page?: { cursor?: string; limit?: number }): Promise<{ items: ListedObject[]; cursor?: string }>;
  /** Deletes the object; absent is fine (idempotent). `allVersions`: every version and delete marker (S3); Azure: the blob and its snapshots. */
  delete(area: Area, key: string, options?: { allVersions?: boolean }): Promise<void>;
}

/** `superseded`: a newer upload (or a delete) replaced the job's version before it published; it wrote nothing more and announced nothing (functions/steps/current.ts). */
export type JobStatus = "running" | "succeeded" | "failed" | "superseded";

export interface JobRecord {
  jobId: string;
  /** Key of the upload in the uploads area. */
  sourceKey: string;
  sourceEtag?: string;
  status: JobStatus;
  /** The workflow run that owns the job (see StartInput.runId). */
  runId?: string;
  createdAt: string;
  updatedAt: string;
  /** Set when succeeded: the manifest's key in the renditions area. */
  manifestKey?: string;
  outputs?: number;
  bytesIn?: number;
  bytesOut?: number;
  error?: SerializedError;
  /** Set when superseded: the ETag of the upload's newest version then; absent (with supersededByVersion) when the upload was gone. Flat fields: Table Storage has no maps. */
  supersededByEtag?: string;
  /** Set when superseded on a versioned store (S3): the newest version's id. */
  supersededByVersion?: string;
  /** Epoch seconds after which the store may drop the record (DynamoDB TTL / lifecycle). */
  expiresAt?: number;
  /** When the outcome event (`image.processed` / `image.failed`) went out. */
  announcedAt?: string;
}

export interface JobStore {
  /**
   * Conditional create: returns false, writing nothing, when a record with this
   * jobId exists. This is what makes duplicate upload events harmless.
   */
  create(record: JobRecord): Promise<boolean>;
  /**
   * Conditional finish: moves a `running` job to `succeeded` or `failed`. Returns
   * false, writing nothing, if the job is not running any more (already finished
   * by a duplicate delivery), so notifications go out once. With `runId`, also
   * false when another run owns the job (its record names a different runId): a
   * duplicate delivery's run that failed cannot end the run doing the work.
   * Without a record at all, it writes the final record.
   */
  finish(jobId: string, patch: Pick<JobRecord, "status"> & Partial<JobRecord>, runId?: string): Promise<boolean>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /**
   * Records that the job's outcome event went out: the job is no longer open.
   */
  markAnnounced(jobId: string): Promise<void>;
  /**
   * Open jobs created before `createdBefore` (ISO time), at most `limit`, in no
   * promised order. Open: no outcome event yet, either still `running` (or a
   * run that will never finish: the execution was ended, an orchestration was
   * lost) or finished while its event failed to go out. Each has at least
   * jobId, sourceKey, status, createdAt and updatedAt.
   */
  listOpen(createdBefore: string, limit: number): Promise<JobRecord[]>;
  /** Removes the job record; absent is fine. */
  delete(jobId: string): Promise<void>;
}

/** `image.deleted`: the upload was deleted and what the pipeline made of it is gone (functions/steps/erase.ts). */
export type PipelineEventType = "image.processed" | "image.failed" | "image.deleted";

export interface PipelineEvent {
  type: PipelineEventType;
  jobId: string;
  sourceKey: string;
  time: string;
  manifestKey?: string;
  outputs?: number;
  bytesIn?: number;
  bytesOut?: number;
  error?: SerializedError;
}

export interface Notifier {
  publish(event: PipelineEvent): Promise<void>;
}

export interface Ports {
  objects: ObjectStore;
  jobs: JobStore;
  notifier: Notifier;
}
