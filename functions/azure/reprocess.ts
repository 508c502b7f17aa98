import * as df from "durable-functions";
import type { OrchestrationContext, Task } from "durable-functions";
import { jobIdFor } from "../steps/jobId";
import type { StartInput } from "../steps/types";
import type { Area } from "../ports";
import { LIST_UPLOADS_ACTIVITY, ORCHESTRATOR_NAME, REPROCESS_SETTINGS } from "./contract";

/**
 * The deployed reprocess on Azure: a Durable orchestrator that lists the
 * uploads container one page at a time (an activity), runs the pipeline
 * orchestrator as a sub-orchestration per blob with at most `maxConcurrency`
 * in flight, then continues as new with the next page's cursor. Each page is
 * one generation of history, so history stays bounded however many blobs
 * there are (https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-eternal-orchestrations);
 * fan-out is the documented pattern (https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-cloud-backup).
 * Each sub-orchestration's instance id is the blob's job id in this
 * reprocess's generation, so each image gets a new job per reprocess.
 */

export interface ReprocessTotals {
  pages: number;
  started: number;
  succeeded: number;
  failed: number;
  /** Runs that ended superseded: the blob was replaced (or deleted) while reprocessed; its newer upload's job renders it. */
  superseded: number;
  /** Keys ending in "/": folder markers, no upload. */
  skipped: number;
}

export interface ReprocessInput {
  /** Part of every job id of this reprocess (StartInput.generation); default: the instance id. */
  generation?: string;
  prefix?: string;
  /** Where the next page starts; absent on the first page. */
  cursor?: string;
  /** Blobs per page (config reprocess.batchSize). */
  pageSize: number;
  /** Sub-orchestrations running at once (config reprocess.maxConcurrency). */
  maxConcurrency: number;
  /** Carried across continue-as-new: what earlier pages did. */
  totals?: ReprocessTotals;
}

/** One listing page as the activity returns it (ObjectStore.list's shape). */
export interface UploadPage {
  items: { key: string; etag?: string }[];
  cursor?: string;
}

/** The listing activity's input. */
export interface ListPageInput {
  prefix: string;
  cursor?: string;
  limit: number;
}

/** What the listing activity needs of the object store (ObjectStore.list, functions/ports.ts). */
export interface UploadLister {
  list(area: Area, prefix: string, page?: { cursor?: string; limit?: number }): Promise<{ items: { key: string; etag?: string }[]; cursor?: string }>;
}

const EMPTY_TOTALS: ReprocessTotals = { pages: 0, started: 0, succeeded: 0, failed: 0, superseded: 0, skipped: 0 };

/** Listing is a storage read: retried like a step (transient storage errors), at most 5 attempts. */
const LIST_RETRY = (() => {
  const options = new df.RetryOptions(2000, 5);
  options.backoffCoefficient = 2;
  return options;
})();

/** The start input of one blob's pipeline run in this reprocess. */
export function reprocessStartInput(item: { key: string; etag?: string }, generation: string): StartInput & { jobId: string } {
  const jobId = jobIdFor(item.key, item.etag, undefined, generation);
  return { sourceKey: item.key, ...(item.etag ? { sourceEtag: item.etag } : {}), generation, jobId };
}

export function* reprocessOrchestrator(context: OrchestrationContext): Generator<Task, ReprocessTotals | undefined, unknown> {
  const input = context.df.getInput() as ReprocessInput;
  const generation = input.generation ?? context.df.instanceId;
  const totals = { ...EMPTY_TOTALS, ...input.totals };
  const listInput: ListPageInput = { prefix: input.prefix ?? "", cursor: input.cursor, limit: input.pageSize };
  const page = (yield context.df.callActivityWithRetry(LIST_UPLOADS_ACTIVITY, LIST_RETRY, listInput)) as UploadPage;
  const items = page.items.filter((item) => !item.key.endsWith("/"));
  totals.skipped += page.items.length - items.length;
  totals.pages += 1;

  // A sliding window: whenever one run ends, the next starts, so at most maxConcurrency run at once.
  const running: Task[] = [];
  let next = 0;
  const startNext = () => {
    const start = reprocessStartInput(items[next++], generation);
    running.push(context.df.callSubOrchestrator(ORCHESTRATOR_NAME, start, start.jobId));
    totals.started += 1;
  };
  while (next < items.length && running.length < Math.max(1, input.maxConcurrency)) startNext();
  while (running.length > 0) {
    // Task.any completes with the first task to end, failed or not: https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-orchestrations
    const ended = (yield context.df.Task.any(running)) as Task;
    running.splice(running.indexOf(ended), 1);
    // A failed pipeline run has recorded its job as failed (NotifyError): count it and go on.
    if (ended.isFaulted) totals.failed += 1;
    // The pipeline's output is its final state; NotifySuccess's result is under `notified` (functions/workflow.ts).
    else if ((ended.result as { notified?: { status?: string } } | undefined)?.notified?.status === "superseded") totals.superseded += 1;
    else totals.succeeded += 1;
    if (next < items.length) startNext();
  }

  if (page.cursor) {
    context.df.continueAsNew({ ...input, generation, cursor: page.cursor, totals } satisfies ReprocessInput);
    return undefined;
  }
  return totals;
}

/** The listing activity: one page of the uploads area. */
export function createListUploadsActivity(objects: () => UploadLister) {
  return async (input: ListPageInput): Promise<UploadPage> => {
    const page = await objects().list("uploads", input.prefix, { cursor: input.cursor, limit: input.limit });
    // Only what the orchestrator needs: its history holds every page it listed in this generation.
    return { items: page.items.map(({ key, etag }) => ({ key, ...(etag ? { etag } : {}) })), ...(page.cursor ? { cursor: page.cursor } : {}) };
  };
}

/** Reads a positive integer setting, or the default. */
function positiveSetting(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** The reprocess input for a start request: the body's prefix and generation, the app's page size and concurrency. */
export function reprocessInputFrom(body: unknown, env: NodeJS.ProcessEnv = process.env): ReprocessInput {
  const fields = body && typeof body === "object" ? (body as Record<string, unknown>) : {};
  return {
    ...(typeof fields.prefix === "string" ? { prefix: fields.prefix } : {}),
    ...(typeof fields.generation === "string" && fields.generation !== "" ? { generation: fields.generation } : {}),
    pageSize: positiveSetting(env, REPROCESS_SETTINGS.pageSize, 50),
    maxConcurrency: positiveSetting(env, REPROCESS_SETTINGS.maxConcurrency, 100),
  };
}
