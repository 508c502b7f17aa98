import { PipelineError } from "../functions/core/errors";
import type { Area, JobRecord, JobStore, Notifier, ObjectInfo, ObjectStore, PipelineEvent, Ports } from "../functions/ports";

/**
 * In-memory ports with the same contract as the cloud adapters, for unit tests
 * of the step handlers. The adapters themselves are tested against emulators.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, { body: Buffer; contentType: string }>();
  readonly puts: string[] = [];

  private id(area: Area, key: string): string {
    return `${area}/${key}`;
  }

  async get(area: Area, key: string): Promise<Buffer> {
    const found = this.objects.get(this.id(area, key));
    if (!found) throw new PipelineError("NOT_FOUND", `No object ${key} in ${area}.`);
    return found.body;
  }

  async head(area: Area, key: string): Promise<ObjectInfo> {
    const body = await this.get(area, key);
    return { bytes: body.length, contentType: this.objects.get(this.id(area, key))?.contentType };
  }

  async put(area: Area, key: string, body: Buffer, contentType: string): Promise<void> {
    this.puts.push(this.id(area, key));
    this.objects.set(this.id(area, key), { body, contentType });
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
