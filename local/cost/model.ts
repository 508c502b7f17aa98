import { flexActivitiesPerInstance, ORCHESTRATORS_PER_INSTANCE } from "../../components/azure/functionPackage";
import type { Cloud } from "../../components/config";
import { STEP_HANDLERS, type StepHandler } from "../../functions/workflow";
import type { Counts, Execution, Tally } from "./meter";
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
  /** The same total under another billing reading the run cannot settle (Flex: executions billed one by one; each upload alone). */
  bounds: Bound[];
}

export interface Bound {
  id: string;
  label: string;
  usd: number;
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

// https://learn.microsoft.com/en-us/azure/azure-functions/flex-consumption-plan#instance-sizes — 512 MB: 0.25 cores, 2,048 MB: 1, 4,096 MB: 2.
export const FLEX_INSTANCE_CORES: Readonly<Record<number, number>> = { 512: 0.25, 2048: 1, 4096: 2 };

/** How executions share a Flex instance: its cores and how many of each kind it runs at once. */
export interface FlexPlacement {
  cores: number;
  activitiesPerInstance: number;
  orchestratorsPerInstance: number;
  /** Starter messages one instance takes at once (host.json queues.batchSize). */
  startersPerInstance: number;
}

export function flexPlacement(instanceMemoryMb: number): FlexPlacement {
  const cores = FLEX_INSTANCE_CORES[instanceMemoryMb];
  if (cores === undefined) throw new Error(`no Flex Consumption instance size of ${instanceMemoryMb} MB; sizes: ${Object.keys(FLEX_INSTANCE_CORES).join(", ")} MB`);
  return { cores, activitiesPerInstance: flexActivitiesPerInstance(instanceMemoryMb), orchestratorsPerInstance: ORCHESTRATORS_PER_INSTANCE, startersPerInstance: 8 };
}

/**
 * Seconds a stretch of work keeps an instance of `cores` busy: the CPU time it
 * took here, run at the instance's cores (one local core = one instance core),
 * plus the wall time it spent not on CPU (storage calls, waits), which no core
 * count shortens. An upper bound when the local process did other work meanwhile.
 */
export function instanceSeconds(wallMs: number, cpuMs: number, cores: number): number {
  return (cpuMs / cores + Math.max(0, wallMs - cpuMs)) / 1000;
}

/** An activity period as Flex bills it: at least 1,000 ms, then rounded up to the next 100 ms. */
// https://learn.microsoft.com/en-us/azure/azure-functions/flex-consumption-plan#billing — "The minimum billable execution period for both execution modes is 1,000 ms. Past that, the billable activity period is rounded up to the nearest 100 ms."
export function flexBilledPeriodSeconds(seconds: number): number {
  return Math.max(1, Math.ceil(seconds * 10 - 1e-9) / 10);
}

export interface FlexBusy {
  /** Each execution billed on its own (an upper bound: overlapping executions on one instance are billed once). */
  perExecutionSeconds: number;
  /** What on-demand Flex bills: per instance, the time at least one execution runs on it. */
  busySeconds: number;
  /** The same periods if each upload arrives alone: every period billed at least 1,000 ms, in 100 ms steps. */
  isolatedSeconds: number;
  /** Activity periods: maximal stretches an instance is busy. */
  periods: number;
  /** The periods' CPU time alone, at the instance's cores: the same work without waits (load-independent here). */
  cpuSeconds: number;
}

const kindOf = (name: string): "starter" | "orchestrator" | "activity" => (name === "starter" ? "starter" : name === "orchestrator" ? "orchestrator" : "activity");

/**
 * Places a job's executions on instances as the deployed app would and bills the
 * instances' busy time. The starter (a queue trigger) scales in its own instances;
 * orchestrators and activities share the Durable group's instances, each instance
 * running up to its per-kind concurrency at once. Overlapping executions of one
 * kind on one instance (Resize ∥ ApplyFilters; episodes of concurrent uploads)
 * make one activity period, billed once.
 */
// https://learn.microsoft.com/en-us/azure/azure-functions/flex-consumption-plan#per-function-scaling — Durable triggers (orchestration, activity, entity) scale together in the same instances; other triggers in their own.
// https://learn.microsoft.com/en-us/azure/azure-functions/functions-consumption-costs — on demand: "the total amount of memory provisioned while each on demand instance is actively executing functions"; 10 concurrent requests on one instance bill one instance's GB-s.
export function flexBusy(executions: readonly Execution[], placement: FlexPlacement): FlexBusy {
  const limit = { starter: placement.startersPerInstance, orchestrator: placement.orchestratorsPerInstance, activity: placement.activitiesPerInstance };
  const seconds = (wallMs: number, cpuUs: number) => instanceSeconds(wallMs, Math.max(0, cpuUs) / 1000, placement.cores);
  const instances: Array<{ group: string; members: Execution[] }> = [];
  for (const execution of [...executions].sort((a, b) => a.startMs - b.startMs)) {
    const group = kindOf(execution.name) === "starter" ? "starter" : "durable";
    const kind = kindOf(execution.name);
    const running = (members: Execution[]) => members.filter((other) => kindOf(other.name) === kind && other.endMs > execution.startMs).length;
    const instance = instances.find((candidate) => candidate.group === group && running(candidate.members) < limit[kind]);
    if (instance) instance.members.push(execution);
    else instances.push({ group, members: [execution] });
  }
  let busySeconds = 0;
  let isolatedSeconds = 0;
  let periods = 0;
  let cpuSeconds = 0;
  // Executions merge with executions of their own kind only: an episode and the activities it schedules never
  // overlap in the cloud (the episode ends, then the activities' messages are read), only in the local replay host.
  const runs = instances.flatMap(({ members }) => ["starter", "orchestrator", "activity"].map((kind) => members.filter((execution) => kindOf(execution.name) === kind)));
  for (const members of runs) {
    let period: { startMs: number; endMs: number; cpuStartUs: number; cpuEndUs: number } | undefined;
    const close = () => {
      if (!period) return;
      const busy = seconds(period.endMs - period.startMs, period.cpuEndUs - period.cpuStartUs);
      busySeconds += busy;
      isolatedSeconds += flexBilledPeriodSeconds(busy);
      cpuSeconds += Math.max(0, period.cpuEndUs - period.cpuStartUs) / 1000 / 1000 / placement.cores;
      periods += 1;
    };
    for (const execution of members) {
      if (period && execution.startMs <= period.endMs) {
        if (execution.endMs > period.endMs) Object.assign(period, { endMs: execution.endMs, cpuEndUs: execution.cpuEndUs });
      } else {
        close();
        period = { ...execution };
      }
    }
    close();
  }
  const perExecutionSeconds = executions.reduce((sum, execution) => sum + seconds(execution.endMs - execution.startMs, execution.cpuEndUs - execution.cpuStartUs), 0);
  return { perExecutionSeconds, busySeconds, isolatedSeconds, periods, cpuSeconds };
}

/** A job's counts with its Flex busy time added (`flex:*` lines, seconds as units), for pricing and averaging. */
export function withFlexBusy(counts: Counts, executions: readonly Execution[], settings: CostSettings): Counts {
  if (settings.cloud !== "azure" || executions.length === 0) return counts;
  const busy = flexBusy(executions, flexPlacement(settings.flexInstanceMemoryMb));
  const line = (units: number) => ({ calls: 1, units, bytes: 0, durationMs: 0 });
  return {
    ...counts,
    "flex:perExecutionSeconds": line(busy.perExecutionSeconds),
    "flex:busySeconds": line(busy.busySeconds),
    "flex:isolatedSeconds": line(busy.isolatedSeconds),
    "flex:periods": line(busy.periods),
    "flex:cpuSeconds": line(busy.cpuSeconds),
  };
}

function invocations(counts: Counts, service: "lambda" | "functions"): Array<{ name: string; calls: number; durationMs: number; cpuMs?: number }> {
  return Object.entries(counts)
    .filter(([key]) => key.startsWith(`${service}:invoke:`))
    .map(([key, t]) => ({ name: key.slice(`${service}:invoke:`.length), calls: t.calls, durationMs: t.durationMs, cpuMs: t.cpuMs }));
}

/** Billed ms and GB-seconds of these Lambda invocations, each billed from its wall time (the model's figure) or from its CPU time alone. */
function lambdaBilling(counts: Counts, settings: CostSettings, from: "wall" | "cpu"): { billedMs: number; gbSeconds: number } {
  let billedMs = 0;
  let gbSeconds = 0;
  for (const call of invocations(counts, "lambda")) {
    const memoryMb = settings.memoryMb[call.name as StepHandler] ?? settings.memoryMb.validate;
    const perCall = lambdaBilledMs((from === "cpu" ? (call.cpuMs ?? call.durationMs) : call.durationMs) / call.calls, memoryMb);
    billedMs += perCall * call.calls;
    gbSeconds += ((perCall * call.calls) / 1000) * (memoryMb / 1024);
  }
  return { billedMs, gbSeconds };
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
  const { billedMs, gbSeconds } = lambdaBilling(counts, settings, "wall");
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

/**
 * Instance seconds of the executions: from the busy time `withFlexBusy` added, else
 * (counts without execution intervals) each execution's wall time at one core.
 */
function flexSeconds(counts: Counts, reading: "busy" | "perExecution" | "isolated" | "cpu"): number {
  const key = `flex:${reading}Seconds`;
  if (counts[key]) return counts[key].units;
  return invocations(counts, "functions").reduce((sum, call) => sum + call.durationMs / 1000, 0);
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
  const gbSeconds = flexSeconds(counts, "busy") * (settings.flexInstanceMemoryMb / 1024);
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
    { id: "functions.flex.gbSecond", label: `Functions instance-busy time (${settings.flexInstanceMemoryMb} MB instances)`, quantity: gbSeconds, unit: "GB-s", price: "functions.flex.gbSecond" },
  ];
}

/** The line items and total for these counts. */
export function priceCounts(counts: Counts, settings: CostSettings, prices: PriceTable): CostModel {
  const items = (settings.cloud === "aws" ? awsItems(counts, settings) : azureItems(counts, settings)).map((item) => ({ ...item, usd: price(prices, item.price, item.quantity) }));
  const usd = items.reduce((sum, item) => sum + (item.usd ?? 0), 0);
  const bounds: Bound[] = [];
  const cpuLabel = "with compute from CPU time alone (load-independent here; leaves out waits on storage)";
  const busy = items.find((item) => item.id === "functions.flex.gbSecond");
  if (busy?.usd !== undefined && counts["flex:busySeconds"]) {
    const gb = settings.flexInstanceMemoryMb / 1024;
    const other = (reading: "perExecution" | "isolated" | "cpu") => usd - busy.usd! + (price(prices, "functions.flex.gbSecond", flexSeconds(counts, reading) * gb) ?? 0);
    bounds.push({ id: "flex.perExecution", label: "if every execution were billed on its own (no credit for overlap on one instance)", usd: other("perExecution") });
    bounds.push({ id: "flex.isolated", label: "if each upload arrives alone (every activity period billed at least 1,000 ms, then in 100 ms steps)", usd: other("isolated") });
    bounds.push({ id: "compute.cpu", label: cpuLabel, usd: other("cpu") });
  }
  const lambdaDuration = items.find((item) => item.id.startsWith("lambda.gbSecond."));
  if (lambdaDuration?.usd !== undefined && invocations(counts, "lambda").some((call) => call.cpuMs !== undefined)) {
    bounds.push({ id: "compute.cpu", label: cpuLabel, usd: usd - lambdaDuration.usd + (price(prices, lambdaDuration.price, lambdaBilling(counts, settings, "cpu").gbSeconds) ?? 0) });
  }
  return { items, usd, unpriced: items.filter((item) => item.usd === undefined && item.quantity > 0).map((item) => item.id), bounds };
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
      if (t.cpuMs !== undefined) into.cpuMs = (into.cpuMs ?? 0) + t.cpuMs;
    }
  }
  const n = Math.max(1, list.length);
  return Object.fromEntries(
    Object.entries(sum).map(([key, t]) => [key, { calls: t.calls / n, units: t.units / n, bytes: t.bytes / n, durationMs: t.durationMs / n, ...(t.cpuMs !== undefined ? { cpuMs: t.cpuMs / n } : {}) }]),
  );
}

/** Counts scaled by a factor (e.g. one image → a million). */
export function scaleModel(model: CostModel, factor: number): CostModel {
  return {
    ...model,
    items: model.items.map((item) => ({ ...item, quantity: item.quantity * factor, usd: item.usd === undefined ? undefined : item.usd * factor })),
    usd: model.usd * factor,
    bounds: model.bounds.map((bound) => ({ ...bound, usd: bound.usd * factor })),
  };
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

/** Bytes in a billed GB: both clouds count storage in binary gigabytes (see the storage prices' notes in ./prices.ts). */
export const BYTES_PER_BILLED_GB = 2 ** 30;

export interface KeptStorage {
  /** Outputs kept per million images, in billed GB. */
  gb: number;
  /** What keeping them costs a month at the stack's storage price; absent when unpriced. */
  usdPerMonth?: number;
  price: PriceKey;
}

/**
 * What the outputs of a million images cost to keep, per month: the bytes the steps wrote per
 * image (the stored files and the manifest) at the cloud's hot storage price. Not part of the
 * per-image total: it is paid every month for as long as the outputs are kept.
 * @example keptStoragePerMillion(800_000, "aws", PRICES) // { gb: 745.06, usdPerMonth: 17.14, price: "s3.storageGbMonth" }
 */
export function keptStoragePerMillion(bytesPerImage: number, cloud: Cloud, prices: PriceTable): KeptStorage {
  const key: PriceKey = cloud === "aws" ? "s3.storageGbMonth" : "blob.storageGbMonth";
  const gb = (bytesPerImage * 1_000_000) / BYTES_PER_BILLED_GB;
  const usdPerMonth = price(prices, key, gb);
  return { gb, ...(usdPerMonth === undefined ? {} : { usdPerMonth }), price: key };
}
