import { createHash } from "node:crypto";
import { etagDiffers, versionGoneError } from "../functions/adapters";
import { PipelineError } from "../functions/core/errors";
import type { Area, ByteRange, JobRecord, JobStore, ListedObject, Notifier, ObjectInfo, ObjectStore, ObjectVersion, PipelineEvent, Ports } from "../functions/ports";

/**
 * In-memory ports with the same contract as the cloud adapters, for unit tests
 * of the step handlers. The adapters themselves are tested against emulators.
 */
interface StoredVersion {
  body: Buffer;
  contentType: string;
  etag: string;
  versionId: string;
  /** User metadata (S3 `x-amz-meta-*`, blob metadata). */
  metadata?: Record<string, string>;
}

/**
 * Objects in memory. The uploads area keeps every version, as the versioned
 * uploads bucket does on AWS: a read pinned to a version id returns that
 * version after an overwrite or a plain delete (which leaves the older versions,
 * as a delete marker does); a pin with only an ETag (Azure's If-Match) fails
 * NOT_FOUND (versionGone) once the object was overwritten.
 */
export class MemoryObjectStore implements ObjectStore {
  /** The newest version of each object, by `area/key`. */
  readonly objects = new Map<string, StoredVersion>();
  /** Older versions of uploads, by `uploads/key`. */
  private readonly history = new Map<string, StoredVersion[]>();
  readonly puts: string[] = [];
  readonly deletes: string[] = [];
  private written = 0;

  private id(area: Area, key: string): string {
    return `${area}/${key}`;
  }

  private read(area: Area, key: string, version?: ObjectVersion): StoredVersion {
    const target = { service: "Memory", resource: `area "${area}"`, item: `object "${key}"`, details: { area, key } };
    const current = this.objects.get(this.id(area, key));
    const older = this.history.get(this.id(area, key)) ?? [];
    if (!current && !(version?.versionId && older.length > 0)) throw new PipelineError("NOT_FOUND", `No object ${key} in ${area}.`);
    const found = version?.versionId ? [...(current ? [current] : []), ...older].find((stored) => stored.versionId === version.versionId) : current;
    if (!found) throw versionGoneError(target, version as ObjectVersion, "NoSuchVersion");
    if (etagDiffers(version, found.etag)) throw versionGoneError(target, version as ObjectVersion, `ETag ${found.etag}`);
    return found;
  }

  async get(area: Area, key: string, version?: ObjectVersion, range?: ByteRange): Promise<Buffer> {
    const { body } = this.read(area, key, version);
    return range ? body.subarray(0, range.firstBytes) : body;
  }

  async head(area: Area, key: string, version?: ObjectVersion): Promise<ObjectInfo> {
    const { body, contentType, etag, versionId, metadata } = this.read(area, key, version);
    return { bytes: body.length, contentType, etag, versionId, ...(metadata ? { metadata } : {}) };
  }

  /** Sets the newest version's user metadata, as an uploader's `x-amz-meta-*` headers or blob metadata would. */
  setMetadata(area: Area, key: string, metadata: Record<string, string>): void {
    this.read(area, key).metadata = metadata;
  }

  async put(area: Area, key: string, body: Buffer, contentType: string): Promise<void> {
    const id = this.id(area, key);
    this.puts.push(id);
    const previous = this.objects.get(id);
    if (previous && area === "uploads") this.history.set(id, [previous, ...(this.history.get(id) ?? [])]);
    // Like S3, the ETag is the content's MD5; each write is a new version.
    this.written += 1;
    this.objects.set(id, { body, contentType, etag: createHash("md5").update(body).digest("hex"), versionId: `v${this.written}` });
  }

  async list(area: Area, prefix: string, page: { cursor?: string; limit?: number } = {}): Promise<{ items: ListedObject[]; cursor?: string }> {
    const limit = page.limit ?? 1000;
    // The cursor is the last key of the previous page, as keys come in order.
    const keys = this.keys(area)
      .filter((key) => key.startsWith(prefix) && (page.cursor === undefined || key > page.cursor))
      .sort();
    const items = keys.slice(0, limit).map((key) => {
      const { body, etag } = this.objects.get(this.id(area, key)) as StoredVersion;
      return { key, bytes: body.length, etag };
    });
    return { items, cursor: keys.length > limit ? items[items.length - 1].key : undefined };
  }

  async delete(area: Area, key: string, options: { allVersions?: boolean } = {}): Promise<void> {
    const id = this.id(area, key);
    this.deletes.push(id);
    const current = this.objects.get(id);
    this.objects.delete(id);
    if (options.allVersions) this.history.delete(id);
    // As a delete marker does on the versioned uploads bucket, a plain delete keeps the older versions readable by id.
    else if (current && area === "uploads") this.history.set(id, [current, ...(this.history.get(id) ?? [])]);
  }

  keys(area: Area): string[] {
    return [...this.objects.keys()].filter((id) => id.startsWith(`${area}/`)).map((id) => id.slice(area.length + 1));
  }
}

export class MemoryJobStore implements JobStore {
  readonly records = new Map<string, JobRecord>();

  async create(record: JobRecord): Promise<boolean> {
    if (this.records.has(record.jobId)) return false;
    this.records.set(record.jobId, { ...record });
    return true;
  }

  async finish(jobId: string, patch: Pick<JobRecord, "status"> & Partial<JobRecord>, runId?: string): Promise<boolean> {
    const existing = this.records.get(jobId);
    if (existing && existing.status !== "running") return false;
    if (existing?.runId !== undefined && runId !== undefined && existing.runId !== runId) return false;
    const now = new Date().toISOString();
    const base: JobRecord = existing ?? { jobId, sourceKey: patch.sourceKey ?? "", status: "running", createdAt: now, updatedAt: now };
    this.records.set(jobId, { ...base, ...patch, jobId });
    return true;
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const found = this.records.get(jobId);
    return found && { ...found };
  }

  async markAnnounced(jobId: string): Promise<void> {
    const found = this.records.get(jobId);
    if (found) this.records.set(jobId, { ...found, announcedAt: new Date().toISOString() });
  }

  async listOpen(createdBefore: string, limit: number): Promise<JobRecord[]> {
    return [...this.records.values()]
      .filter((record) => record.announcedAt === undefined && record.createdAt < createdBefore)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .slice(0, limit)
      .map((record) => ({ ...record }));
  }

  async delete(jobId: string): Promise<void> {
    this.records.delete(jobId);
  }
}

export class MemoryNotifier implements Notifier {
  readonly events: PipelineEvent[] = [];
  async publish(event: PipelineEvent): Promise<void> {
    this.events.push(event);
  }
}

export function memoryPorts(): Ports & { objects: MemoryObjectStore; jobs: MemoryJobStore; notifier: MemoryNotifier } {
  return { objects: new MemoryObjectStore(), jobs: new MemoryJobStore(), notifier: new MemoryNotifier() };
}
