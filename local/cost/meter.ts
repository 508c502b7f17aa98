import { outputPrefix } from "../../functions/steps/keys";

/**
 * Counts the billable operations of a local run, per job and in total. The
 * counting proxies (./proxy.ts) in front of the emulators, the flavours'
 * engines (state transitions, history events) and their handler calls
 * (invocations and durations) record here; ./model.ts prices the counts.
 *
 * Attribution: an operation names the job it served (a job id in a work key or
 * a table key, the upload key, or a key under the upload's output prefix).
 * Operations that name no job (provisioning, a sweep) stay `unattributed`.
 */

/** A billing meter: the service and the operation as the cloud bills it. */
export type Service =
  | "s3"
  | "dynamodb"
  | "sns"
  | "stepfunctions"
  | "lambda"
  | "blob"
  | "table"
  | "queue"
  | "eventgrid"
  | "functions"
  | "durable"
  /** Upload events delivered to the workflow's trigger (S3 → EventBridge; Blob → Event Grid → queue). */
  | "trigger";

export interface OperationRecord {
  service: Service;
  /** e.g. `PutObject`, `WriteRequestUnits`, `StateTransition`, `invoke:resize`. */
  op: string;
  /** Billing units of this operation (requests, WRU, transitions...); default 1. */
  units?: number;
  /** Payload bytes moved by the request and its response (object stores). */
  bytes?: number;
  /** Measured run time, for invocations. */
  durationMs?: number;
  /** When an invocation ran (performance.now() ms) and the process's CPU time (µs, user + system) at its ends: Flex bills instance-busy time. */
  interval?: { startMs: number; endMs: number; cpuStartUs: number; cpuEndUs: number };
  /** The job, when the recorder knows it (engines do). */
  jobId?: string;
  /** A key, path or table key the operation touched, for attribution when jobId is unknown. */
  resource?: string;
}

/** One line of counts: how often, how many units, how many bytes and milliseconds. */
export interface Tally {
  calls: number;
  units: number;
  bytes: number;
  durationMs: number;
  /** The process's CPU time during the invocations (ms), when they were timed with an interval. */
  cpuMs?: number;
}

/** `service:op` → tally. */
export type Counts = Record<string, Tally>;

/** One timed function execution of a job (Azure Functions: the starter, an orchestrator episode, an activity). */
export interface Execution {
  /** The handler: `starter`, `orchestrator`, `resize`... */
  name: string;
  startMs: number;
  endMs: number;
  /** The process's cumulative CPU time at the start and the end, in µs. */
  cpuStartUs: number;
  cpuEndUs: number;
}

export interface Usage {
  /** Counts per job id, for the jobs the run registered. */
  perJob: Record<string, Counts>;
  /** What no job claimed (provisioning, sweeps, unknown keys). */
  unattributed: Counts;
  total: Counts;
  /** Each registered job's upload key. */
  jobs: Record<string, { sourceKey: string }>;
  /** Each job's timed function executions, in the order they ended (for instance-busy billing). */
  executions: Record<string, Execution[]>;
}

export function countKey(service: Service, op: string): string {
  return `${service}:${op}`;
}

function add(counts: Counts, key: string, record: OperationRecord): void {
  const tally = (counts[key] ??= { calls: 0, units: 0, bytes: 0, durationMs: 0 });
  tally.calls += 1;
  tally.units += record.units ?? 1;
  tally.bytes += record.bytes ?? 0;
  tally.durationMs += record.durationMs ?? 0;
  if (record.interval) tally.cpuMs = (tally.cpuMs ?? 0) + (record.interval.cpuEndUs - record.interval.cpuStartUs) / 1000;
}

export class Meter {
  private readonly jobs = new Map<string, { sourceKey: string; stem: string }>();
  private readonly perJob = new Map<string, Counts>();
  private readonly unattributed: Counts = {};
  private readonly total: Counts = {};
  private readonly executions = new Map<string, Execution[]>();

  /** Makes a job known, so operations on its keys are attributed to it. */
  registerJob(jobId: string, sourceKey: string): void {
    if (!this.jobs.has(jobId)) this.jobs.set(jobId, { sourceKey, stem: `${outputPrefix(sourceKey)}/` });
  }

  record(record: OperationRecord): void {
    const key = countKey(record.service, record.op);
    add(this.total, key, record);
    const jobId = record.jobId ?? (record.resource !== undefined ? this.jobFor(record.resource) : undefined);
    if (jobId === undefined) {
      add(this.unattributed, key, record);
      return;
    }
    let counts = this.perJob.get(jobId);
    if (!counts) this.perJob.set(jobId, (counts = {}));
    add(counts, key, record);
    if (record.interval && record.service === "functions" && record.op.startsWith("invoke:")) {
      let list = this.executions.get(jobId);
      if (!list) this.executions.set(jobId, (list = []));
      list.push({ name: record.op.slice("invoke:".length), ...record.interval });
    }
  }

  /**
   * The job a resource (an object key inside its bucket, a table key) belongs to: one
   * whose id appears in it, else the one uploaded under that key, else the one with
   * the longest output prefix (`photos/cat.jpg/` for `photos/cat.jpg`) the key lies in.
   */
  jobFor(resource: string): string | undefined {
    let best: { jobId: string; length: number } | undefined;
    for (const [jobId, { sourceKey, stem }] of this.jobs) {
      if (resource.includes(jobId) || resource.includes(encodeURIComponent(jobId))) return jobId;
      if (resource === sourceKey) return jobId;
      if (resource.startsWith(stem) && (best === undefined || stem.length > best.length)) best = { jobId, length: stem.length };
    }
    return best?.jobId;
  }

  snapshot(): Usage {
    const clone = (counts: Counts): Counts => Object.fromEntries(Object.entries(counts).map(([key, tally]) => [key, { ...tally }]));
    return {
      perJob: Object.fromEntries([...this.perJob].map(([jobId, counts]) => [jobId, clone(counts)])),
      unattributed: clone(this.unattributed),
      total: clone(this.total),
      jobs: Object.fromEntries([...this.jobs].map(([jobId, { sourceKey }]) => [jobId, { sourceKey }])),
      executions: Object.fromEntries([...this.executions].map(([jobId, list]) => [jobId, list.map((execution) => ({ ...execution }))])),
    };
  }
}
