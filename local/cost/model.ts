import type { Cloud } from "../../components/config";
import { STEP_HANDLERS, type StepHandler } from "../../functions/workflow";
import type { Counts, Tally } from "./meter";
import type { PriceKey, PriceTable } from "./prices";

/**
 * Prices counted operations (./meter.ts): one line item per billed meter of the
 * stack's cloud, from the counts of a run (or of an average image) and the price
 * table (./prices.ts). What the local run cannot observe (the Durable task hub's
 * storage traffic, the trigger's delivery) is derived from what it did observe,
 * by the platforms' documented behaviour, cited where it is derived.
 */

/** The parts of the stack config that change the bill. */
export interface CostSettings {
  cloud: Cloud;
  workflowType: "STANDARD" | "EXPRESS";
  architecture: "arm64" | "x86_64";
  /** Memory of each step (Lambda). */
  memoryMb: Record<StepHandler, number>;
  /** Azure Flex Consumption instance memory. */
  flexInstanceMemoryMb: number;
}

export interface LineItem {
  /** Stable id, e.g. `s3.putCopyPostList`. */
  id: string;
  label: string;
  quantity: number;
  unit: string;
  price: PriceKey;
  /** Dollars for the quantity; absent when the price is unknown. */
  usd?: number;
}

export interface CostModel {
  items: LineItem[];
  /** Sum of the priced items. */
  usd: number;
  /** Items counted but without a price: the total leaves them out. */
  unpriced: string[];
}

const tally = (counts: Counts, key: string): Tally => counts[key] ?? { calls: 0, units: 0, bytes: 0, durationMs: 0 };
const units = (counts: Counts, ...keys: string[]) => keys.reduce((sum, key) => sum + tally(counts, key).units, 0);
const unitsWhere = (counts: Counts, test: (key: string) => boolean) => Object.entries(counts).reduce((sum, [key, t]) => sum + (test(key) ? t.units : 0), 0);

// https://github.com/rwnx/lambda-cpuinfo — quoting the Lambda docs: at 1,769 MB a function gets one vCPU's worth of CPU, linear in memory.
export const LAMBDA_MB_PER_VCPU = 1769;

/** Lambda's share of one vCPU at this memory (capped at one: the steps' libvips work runs on one thread). */
export function lambdaCpuShare(memoryMb: number): number {
  return Math.min(1, memoryMb / LAMBDA_MB_PER_VCPU);
}

/**
 * Billed milliseconds of one Lambda invocation that took `localMs` on one local core:
 * stretched by the function's CPU share, rounded up to the millisecond.
 */
// https://aws.amazon.com/lambda/pricing/ — duration "rounded up to the nearest 1 ms"; proportional CPU to memory.
export function lambdaBilledMs(localMs: number, memoryMb: number): number {
  return Math.ceil(localMs / lambdaCpuShare(memoryMb));
}

function invocations(counts: Counts, service: "lambda" | "functions"): Array<{ name: string; calls: number; durationMs: number }> {
  return Object.entries(counts)
    .filter(([key]) => key.startsWith(`${service}:invoke:`))
    .map(([key, t]) => ({ name: key.slice(`${service}:invoke:`.length), calls: t.calls, durationMs: t.durationMs }));
}

function price(prices: PriceTable, key: PriceKey, quantity: number): number | undefined {
  const entry = prices[key];
  return entry.usd === undefined ? undefined : (quantity * entry.usd) / entry.per;
}

function awsItems(counts: Counts, settings: CostSettings): Array<Omit<LineItem, "usd">> {
  const s3Tier1 = unitsWhere(counts, (key) => /^s3:(PutObject|CopyObject|UploadPart|UploadPartCopy|CreateMultipartUpload|CompleteMultipartUpload|PostObject|ListObjects|ListObjectsV2|CreateBucket)$/.test(key));
  const s3Delete = unitsWhere(counts, (key) => /^s3:Delete/.test(key));
  const s3Tier2 = unitsWhere(counts, (key) => key.startsWith("s3:")) - s3Tier1 - s3Delete;
  const items: Array<Omit<LineItem, "usd">> = [
    { id: "s3.putCopyPostList", label: "S3 PUT/COPY/POST/LIST", quantity: s3Tier1, unit: "requests", price: "s3.putCopyPostList" },
    { id: "s3.getHead", label: "S3 GET/HEAD", quantity: s3Tier2, unit: "requests", price: "s3.getHead" },
    { id: "s3.delete", label: "S3 DELETE", quantity: s3Delete, unit: "requests", price: "s3.delete" },
    { id: "dynamodb.writeUnits", label: "DynamoDB writes (table + open-jobs index)", quantity: unitsWhere(counts, (key) => key.startsWith("dynamodb:WriteRequestUnits")), unit: "WRU", price: "dynamodb.writeUnits" },
    { id: "dynamodb.readUnits", label: "DynamoDB reads", quantity: units(counts, "dynamodb:ReadRequestUnits"), unit: "RRU", price: "dynamodb.readUnits" },
    { id: "sns.publish", label: "SNS publishes", quantity: units(counts, "sns:Publish"), unit: "publishes", price: "sns.publish" },
    { id: "eventbridge.awsServiceEvent", label: "EventBridge S3 events (default bus)", quantity: units(counts, "trigger:UploadEvent"), unit: "events", price: "eventbridge.awsServiceEvent" },
  ];
  const lambda = invocations(counts, "lambda");
  const localMs = lambda.reduce((sum, call) => sum + call.durationMs, 0);
  let billedMs = 0;
  let gbSeconds = 0;
  for (const call of lambda) {
    const memoryMb = settings.memoryMb[call.name as StepHandler] ?? settings.memoryMb.validate;
    const perCall = lambdaBilledMs(call.durationMs / call.calls, memoryMb);
    billedMs += perCall * call.calls;
    gbSeconds += ((perCall * call.calls) / 1000) * (memoryMb / 1024);
  }
  if (settings.workflowType === "STANDARD") {
    items.push({ id: "stepfunctions.standardTransition", label: "Step Functions Standard transitions", quantity: unitsWhere(counts, (key) => key.startsWith("stepfunctions:StateTransition")), unit: "transitions", price: "stepfunctions.standardTransition" });
  } else {
    const executions = tally(counts, "stepfunctions:Execution");
    // The run's engine time stands in for the execution; its tasks are stretched like the Lambdas'.
    const stretch = localMs > 0 ? billedMs / localMs : 1;
    // https://aws.amazon.com/step-functions/pricing/ — duration rounded up to the nearest 100 ms, memory billed in 64-MB chunks.
    const perExecutionSeconds = executions.calls > 0 ? Math.ceil(((executions.durationMs / executions.calls) * stretch) / 100) / 10 : 0;
    items.push({ id: "stepfunctions.expressRequest", label: "Step Functions Express requests", quantity: executions.calls, unit: "requests", price: "stepfunctions.expressRequest" });
    items.push({ id: "stepfunctions.expressGbSecond", label: "Step Functions Express duration (64 MB)", quantity: executions.calls * perExecutionSeconds * (64 / 1024), unit: "GB-s", price: "stepfunctions.expressGbSecond" });
  }
  items.push({ id: "lambda.request", label: "Lambda requests", quantity: lambda.reduce((sum, call) => sum + call.calls, 0), unit: "requests", price: "lambda.request" });
  items.push({ id: `lambda.gbSecond.${settings.architecture}`, label: `Lambda duration (${settings.architecture})`, quantity: gbSeconds, unit: "GB-s", price: `lambda.gbSecond.${settings.architecture}` });
  return items;
}

/**
 * What the Durable task hub (Azure Storage provider) does in storage for the history
 * the local host recorded: every message (the start, each scheduled activity and
 * its result, each timer) is put on a queue, read and deleted; each orchestrator
 * episode loads the history (one range query), appends its new rows (one batch)
 * and updates the instance row; a start inserts the instance row after the
 * starter's status read. Counted as one transaction per REST request (a batch is
 * one request); queue reads counted one per message (batched reads cost less).
 * Partition-lease renewals and idle queue polling are per app, not per image: left out.
 */
// https://learn.microsoft.com/en-us/azure/azure-functions/durable/durable-functions-azure-storage-provider — queues drive execution, tables hold history and instances, blobs hold leases.
// https://learn.microsoft.com/en-us/azure/azure-functions/durable/durable-functions-billing — the task hub's storage transactions are billed to the app's storage account.
// http://blogs.msdn.com/b/windowsazurestorage/archive/2010/07/09/understanding-windows-azure-storage-billing-bandwidth-transactions-and-capacity.aspx — each REST request is a potential billable transaction.
export function durableStorage(counts: Counts): { queueOperations: number; tableTransactions: number; messages: number } {
  const starts = units(counts, "durable:history:ExecutionStarted");
  const scheduled = units(counts, "durable:history:TaskScheduled");
  const timers = units(counts, "durable:history:TimerCreated");
  const episodes = units(counts, "durable:history:OrchestratorStarted");
  const messages = starts + 2 * scheduled + timers;
  return { messages, queueOperations: 3 * messages, tableTransactions: 3 * episodes + 2 * starts };
}

function azureItems(counts: Counts, settings: CostSettings): Array<Omit<LineItem, "usd">> {
  const blob = (pattern: RegExp) => unitsWhere(counts, (key) => key.startsWith("blob:") && pattern.test(key.slice(5)));
  const writes = blob(/^(PutBlob|PutBlock|PutBlockList|CopyBlob|SetBlobTier|AppendBlock)$/);
  const reads = blob(/^GetBlob$/);
  const listCreate = blob(/^(ListBlobs|ListContainers|CreateContainer)$/);
  const deletes = blob(/^Delete/);
  const other = unitsWhere(counts, (key) => key.startsWith("blob:")) - writes - reads - listCreate - deletes;
  const durable = durableStorage(counts);
  const uploads = units(counts, "trigger:UploadEvent");
  const publishes = units(counts, "eventgrid:Publish");
  const functions = invocations(counts, "functions");
  const executions = functions.reduce((sum, call) => sum + call.calls, 0);
  // https://learn.microsoft.com/en-US/Azure/azure-functions/functions-consumption-costs — on demand: memory provisioned while an instance is executing (GB-s), plus executions.
  const gbSeconds = functions.reduce((sum, call) => sum + (call.durationMs / 1000) * (settings.flexInstanceMemoryMb / 1024), 0);
  return [
    { id: "blob.write", label: "Blob write operations", quantity: writes, unit: "operations", price: "blob.write" },
    { id: "blob.read", label: "Blob read operations", quantity: reads, unit: "operations", price: "blob.read" },
    { id: "blob.listCreate", label: "Blob list/create operations", quantity: listCreate, unit: "operations", price: "blob.listCreate" },
    { id: "blob.other", label: "Blob other operations (properties...)", quantity: other, unit: "operations", price: "blob.other" },
    { id: "blob.delete", label: "Blob deletes", quantity: deletes, unit: "operations", price: "blob.delete" },
    { id: "table.jobs", label: "Table transactions (jobs table)", quantity: unitsWhere(counts, (key) => key.startsWith("table:")), unit: "transactions", price: "table.transaction" },
    { id: "table.taskHub", label: "Table transactions (Durable history, instances)", quantity: durable.tableTransactions, unit: "transactions", price: "table.transaction" },
    { id: "queue.taskHub", label: "Queue operations (Durable messages)", quantity: durable.queueOperations, unit: "operations", price: "queue.operation" },
    // https://learn.microsoft.com/en-us/answers/questions/5830137/azure-event-grid-pricing — each event ingress and each delivery attempt is an operation.
    { id: "queue.uploadEvents", label: "Queue operations (upload events: put, get, delete)", quantity: 3 * uploads, unit: "operations", price: "queue.operation" },
    { id: "eventgrid.operation", label: "Event Grid operations (BlobCreated in + out, publishes)", quantity: 2 * uploads + publishes, unit: "operations", price: "eventgrid.operation" },
    { id: "functions.flex.execution", label: "Functions executions (starter, orchestrator replays, activities)", quantity: executions, unit: "executions", price: "functions.flex.execution" },
    { id: "functions.flex.gbSecond", label: `Functions execution time (${settings.flexInstanceMemoryMb} MB instances)`, quantity: gbSeconds, unit: "GB-s", price: "functions.flex.gbSecond" },
  ];
}

/** The line items and total for these counts. */
export function priceCounts(counts: Counts, settings: CostSettings, prices: PriceTable): CostModel {
  const items = (settings.cloud === "aws" ? awsItems(counts, settings) : azureItems(counts, settings)).map((item) => ({ ...item, usd: price(prices, item.price, item.quantity) }));
  return {
    items,
    usd: items.reduce((sum, item) => sum + (item.usd ?? 0), 0),
    unpriced: items.filter((item) => item.usd === undefined && item.quantity > 0).map((item) => item.id),
  };
}

/** The mean of several jobs' counts: one average image. */
export function averageCounts(list: readonly Counts[]): Counts {
  const sum: Counts = {};
  for (const counts of list) {
    for (const [key, t] of Object.entries(counts)) {
      const into = (sum[key] ??= { calls: 0, units: 0, bytes: 0, durationMs: 0 });
      into.calls += t.calls;
      into.units += t.units;
      into.bytes += t.bytes;
      into.durationMs += t.durationMs;
    }
  }
  const n = Math.max(1, list.length);
  return Object.fromEntries(Object.entries(sum).map(([key, t]) => [key, { calls: t.calls / n, units: t.units / n, bytes: t.bytes / n, durationMs: t.durationMs / n }]));
}

/** Counts scaled by a factor (e.g. one image → a million). */
export function scaleModel(model: CostModel, factor: number): CostModel {
  return { ...model, items: model.items.map((item) => ({ ...item, quantity: item.quantity * factor, usd: item.usd === undefined ? undefined : item.usd * factor })), usd: model.usd * factor };
}

export function settingsFrom(config: { cloud: Cloud; workflowType: "STANDARD" | "EXPRESS"; architecture: "arm64" | "x86_64"; memoryMb: number; steps: Partial<Record<StepHandler, { memoryMb?: number }>>; azure: { flexInstanceMemoryMb: number } }): CostSettings {
  return {
    cloud: config.cloud,
    workflowType: config.workflowType,
    architecture: config.architecture,
    memoryMb: Object.fromEntries(STEP_HANDLERS.map((handler) => [handler, config.steps[handler]?.memoryMb ?? config.memoryMb])) as Record<StepHandler, number>,
    flexInstanceMemoryMb: config.azure.flexInstanceMemoryMb,
  };
}
