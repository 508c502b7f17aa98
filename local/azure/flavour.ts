import { randomUUID } from "node:crypto";
import { InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import { STEP_HANDLERS, type StepHandler } from "../../functions/workflow";
import { createActivityHandler } from "../../functions/azure/activities";
import { BlobServiceClient } from "@azure/storage-blob";
import { BlobObjectStore, createAzurePorts } from "../../functions/azure/adapters";
import { ACTIVITY_NAMES, CONTAINERS, ERASE_FUNCTION_NAME, ORCHESTRATOR_NAME } from "../../functions/azure/contract";
import { pipelineOrchestrator } from "../../functions/azure/orchestrator";
import { runOrchestration, type ActivityCall, type OrchestrationResult } from "./durableReplay";
import { createEraseHandler, startPipeline } from "../../functions/azure/trigger";
import type { Ports } from "../../functions/ports";
import { LOCAL_HEAP_FLAG } from "../heap";
import { provisionAzure, startAzurite, type AzuriteEmulator } from "../emulators";
import type { DeleteEvent, ExecutionResult, FlavourOptions, LocalFlavour, StepCall, UploadEvent } from "../flavour";
import { jobIdFor } from "../../functions/steps/jobId";
import { countingNotifier, invocationTimer, timedInvocation } from "../cost/hooks";
import { startMeteringProxy, type MeteringProxy } from "../cost/proxy";
import { HistoryEventType, type HistoryEvent } from "./durableReplay";

/**
 * The Azure flavour: Blob and Table Storage from azurite (a child process on
 * 127.0.0.1), the real starter (functions/azure/trigger.ts) against a local
 * stand-in for the Durable client, and the real orchestrator driven by
 * durable-functions' own replay engine (./durableReplay.ts) calling the
 * real activity handlers with the Azure adapters.
 */

export const LOCAL_AZURE_TABLE = "imagepipelinejobs";

/** How often the starter is retried when a start races another (the queue's redelivery; the real queue gives up after 5). */
const START_ATTEMPTS = 5;

type InstanceStatus = "Running" | "Completed" | "Failed";

interface Instance {
  status: InstanceStatus;
  /** The outcome without its history, which is dropped so a long run does not keep every history in memory; once its caller took it, the status only. */
  done: Promise<Pick<OrchestrationResult, "status" | "output" | "error">>;
}

export interface AzureFlavour extends LocalFlavour {
  readonly azurite: AzuriteEmulator;
  /** Orchestration instances started so far, by instance id. */
  readonly instances: ReadonlyMap<string, Instance>;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts azurite, creates the containers and the jobs table, and returns an
 * engine that runs the Durable orchestrator in process.
 *
 * @throws {LocalRuntimeError} EMULATOR_PORT_IN_USE / EMULATOR_FAILED when azurite cannot start.
 */
export async function startAzureFlavour(options: FlavourOptions): Promise<AzureFlavour> {
  const { processing, notifier, emulatorPorts = {}, retryDelayMs = 100, decoratePorts, onStepCall, defaultHeapGrowth, meter } = options;
  const azurite = await startAzurite({
    blobPort: emulatorPorts.blob,
    tablePort: emulatorPorts.table,
    queuePort: emulatorPorts.queue,
    nodeFlags: defaultHeapGrowth ? [] : [LOCAL_HEAP_FLAG],
  });
  const proxies: MeteringProxy[] = [];
  let handlerConnection = azurite.connectionString;
  try {
    await provisionAzure({ connectionString: azurite.connectionString, tableName: LOCAL_AZURE_TABLE });
    // Metered runs: the activities (only they) talk to azurite through counting proxies.
    if (meter) {
      const blobProxy = await startMeteringProxy({ service: "blob", target: azurite.blobEndpoint, meter });
      proxies.push(blobProxy);
      const tableProxy = await startMeteringProxy({ service: "table", target: azurite.tableEndpoint, meter });
      proxies.push(tableProxy);
      handlerConnection = azurite.connectionString.replace(`BlobEndpoint=${azurite.blobEndpoint};`, `BlobEndpoint=${blobProxy.endpoint};`).replace(`TableEndpoint=${azurite.tableEndpoint};`, `TableEndpoint=${tableProxy.endpoint};`);
    }
  } catch (error) {
    await Promise.allSettled(proxies.map((proxy) => proxy.stop()));
    await azurite.stop();
    throw error;
  }
  // maxAttempts 1: a failing call surfaces to the orchestrator, whose retry policy is the thing under test.
  const ports = createAzurePorts({ connectionString: azurite.connectionString, tableName: LOCAL_AZURE_TABLE, notifier, maxAttempts: 1 });
  const handlerPorts = meter
    ? createAzurePorts({ connectionString: handlerConnection, tableName: LOCAL_AZURE_TABLE, notifier: countingNotifier(notifier, meter, "eventgrid"), maxAttempts: 1 })
    : ports;
  const handlerByActivity = new Map(STEP_HANDLERS.map((handler) => [ACTIVITY_NAMES[handler], handler]));
  const instances = new Map<string, Instance>();

  /** The Functions host's side of an activity call: JSON in, the real handler, JSON out. */
  const callActivity = async (name: string, input: unknown, call: ActivityCall): Promise<unknown> => {
    const handler: StepHandler | undefined = handlerByActivity.get(name);
    if (!handler) throw new Error(`The orchestrator called an unknown activity "${name}".`);
    const stepCall: StepCall = { handler, step: name, runId: call.instanceId, attempt: call.attempt };
    onStepCall?.(stepCall);
    const stepPorts: Ports = decoratePorts ? decoratePorts(handlerPorts, stepCall) : handlerPorts;
    const activity = createActivityHandler(handler, () => ({ ports: stepPorts, options: processing }));
    // The step records go nowhere locally (the run prints its own table), as on the AWS flavour.
    const context = new InvocationContext({ functionName: name, invocationId: `${call.instanceId}:${call.taskId}`, logHandler: () => undefined });
    const output = await timedInvocation(meter, "functions", handler, call.instanceId, () => activity(JSON.parse(JSON.stringify(input ?? null)), context));
    return JSON.parse(JSON.stringify(output ?? null));
  };

  /**
   * Records each history event the Durable host appends, and each orchestrator
   * episode (one replay: an invocation of the orchestrator function) with its time.
   */
  const historyMeter = (instanceId: string) => {
    let episode: ReturnType<typeof invocationTimer> | undefined;
    const names = new Map<number, string>(Object.entries(HistoryEventType).map(([name, type]) => [type, name]));
    return (event: HistoryEvent) => {
      meter?.record({ service: "durable", op: `history:${names.get(event.EventType) ?? event.EventType}`, jobId: instanceId });
      if (event.EventType === HistoryEventType.OrchestratorStarted) episode = invocationTimer();
      const ends = [HistoryEventType.OrchestratorCompleted, HistoryEventType.ExecutionCompleted, HistoryEventType.ExecutionFailed] as number[];
      if (episode !== undefined && ends.includes(event.EventType)) {
        meter?.record({ service: "functions", op: "invoke:orchestrator", jobId: instanceId, ...episode.stop() });
        episode = undefined;
      }
    };
  };

  /** Just what the starter uses of the Durable client, backed by the in-process instances. */
  const client = {
    async getStatus(instanceId: string) {
      const instance = instances.get(instanceId);
      // The real client reports an unknown instance as an HTTP 404; the starter relies on that.
      if (!instance) throw new Error(`404 Not Found: no orchestration instance "${instanceId}".`);
      return { instanceId, runtimeStatus: instance.status };
    },
    async startNew(name: string, start: { instanceId: string; input: unknown }) {
      if (name !== ORCHESTRATOR_NAME) throw new Error(`No orchestrator named "${name}" is registered.`);
      const existing = instances.get(start.instanceId);
      if (existing?.status === "Running") throw new Error(`409 Conflict: an orchestration with instance id "${start.instanceId}" is already running.`);
      const instance: Instance = {
        status: "Running",
        done: runOrchestration(pipelineOrchestrator, {
          name: ORCHESTRATOR_NAME,
          instanceId: start.instanceId,
          input: start.input,
          callActivity,
          // Durable timers of retry backoff, shortened for local runs.
          sleep: (ms) => delay(Math.min(ms, retryDelayMs)),
          onEvent: meter ? historyMeter(start.instanceId) : undefined,
        }).then(({ status, output, error }) => ({ status, output, error })),
      };
      instance.done.then(
        (result) => (instance.status = result.status),
        () => (instance.status = "Failed"),
      );
      instances.set(start.instanceId, instance);
      return start.instanceId;
    },
  } as unknown as Pick<DurableClient, "getStatus" | "startNew">;

  const execute = async (event: UploadEvent): Promise<ExecutionResult> => {
    // The queue-triggered starter, redelivered like a queue message when it throws (a racing duplicate).
    let started: Awaited<ReturnType<typeof startPipeline>> | undefined;
    const jobId = jobIdFor(event.sourceKey, event.sourceEtag, undefined, event.generation);
    meter?.registerJob(jobId, event.sourceKey);
    // Blob → Event Grid → storage queue delivered this upload's event to the starter.
    meter?.record({ service: "trigger", op: "UploadEvent", jobId });
    for (let attempt = 1; started === undefined; attempt++) {
      try {
        started = await timedInvocation(meter, "functions", "starter", jobId, () => startPipeline(client, { sourceKey: event.sourceKey, sourceEtag: event.sourceEtag, generation: event.generation }));
      } catch (error) {
        if (attempt >= START_ATTEMPTS) throw error;
        await delay(retryDelayMs);
      }
    }
    const { instanceId } = started;
    if (!started.started) return { runId: instanceId, status: "succeeded", duplicate: true, output: { duplicate: true, existingStatus: started.existingStatus } };
    const instance = instances.get(instanceId) as Instance;
    const result = await instance.done;
    // The outcome is this call's now; the instance keeps its status only, as the host keeps no outputs in memory (the task hub stores them).
    instance.done = Promise.resolve({ status: result.status, output: undefined });
    if (result.status === "Completed") {
      const duplicate = (result.output as { duplicate?: unknown } | null)?.duplicate === true;
      return { runId: instanceId, status: "succeeded", output: result.output, duplicate };
    }
    return { runId: instanceId, status: "failed", output: result.output, error: { name: "OrchestrationFailed", cause: result.error } };
  };

  const upload = async (key: string, body: Buffer, contentType = "application/octet-stream"): Promise<UploadEvent> => {
    await ports.objects.put("uploads", key, body, contentType);
    // BlobCreated events carry the blob's ETag.
    const { etag } = await ports.objects.head("uploads", key);
    return { sourceKey: key, sourceEtag: etag };
  };

  const deleteUpload = async (key: string): Promise<DeleteEvent> => {
    await ports.objects.delete("uploads", key);
    // What Event Grid puts on the delete-events queue (CloudEvents 1.0); BlobDeleted carries no eTag.
    const message = {
      specversion: "1.0",
      type: "Microsoft.Storage.BlobDeleted",
      source: "/subscriptions/local/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
      subject: `/blobServices/default/containers/${CONTAINERS.uploads}/blobs/${key}`,
      id: randomUUID(),
      time: new Date().toISOString(),
      data: { api: "DeleteBlob", blobType: "BlockBlob", url: `${azurite.blobEndpoint}/${CONTAINERS.uploads}/${key}` },
    };
    return { sourceKey: key, message };
  };
  // The deployed EraseUpload function's handler, with this flavour's ports.
  const eraseHandler = createEraseHandler(CONTAINERS.uploads, () => ({ ports, options: processing }));
  const erase = async (event: DeleteEvent) => {
    const result = await eraseHandler(event.message, new InvocationContext({ functionName: ERASE_FUNCTION_NAME, logHandler: () => undefined }));
    if (!result) throw new Error(`The erase function ignored the delete event of "${event.sourceKey}".`);
    return result;
  };

  const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const expireWork = async (jobId: string) => {
    // Intermediates live under `<jobId>/` in the work area (functions/steps/keys.ts, workKey).
    const container = blobs.getContainerClient((ports.objects as BlobObjectStore).containerFor("work"));
    for await (const blob of container.listBlobsFlat({ prefix: `${jobId}/` })) await container.deleteBlob(blob.name, { deleteSnapshots: "include" });
  };

  let stopped = false;
  return {
    cloud: "azure",
    ports,
    azurite,
    instances,
    endpoints: { blob: azurite.blobEndpoint, table: azurite.tableEndpoint },
    upload,
    execute,
    deleteUpload,
    erase,
    expireWork,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // Let started orchestrations settle first, so none talks to a stopped emulator.
      await Promise.allSettled([...instances.values()].map((instance) => instance.done));
      await Promise.allSettled(proxies.map((proxy) => proxy.stop()));
      await azurite.stop();
    },
  };
}
