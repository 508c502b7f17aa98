import { InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import { STEP_HANDLERS, type StepHandler } from "../../functions/workflow";
import { createActivityHandler } from "../../functions/azure/activities";
import { BlobServiceClient } from "@azure/storage-blob";
import { BlobObjectStore, createAzurePorts } from "../../functions/azure/adapters";
import { ACTIVITY_NAMES, ORCHESTRATOR_NAME } from "../../functions/azure/contract";
import { pipelineOrchestrator } from "../../functions/azure/orchestrator";
import { runOrchestration, type ActivityCall, type OrchestrationResult } from "./durableReplay";
import { startPipeline } from "../../functions/azure/trigger";
import type { Ports } from "../../functions/ports";
import { LOCAL_HEAP_FLAG } from "../heap";
import { provisionAzure, startAzurite, type AzuriteEmulator } from "../emulators";
import type { ExecutionResult, FlavourOptions, LocalFlavour, StepCall, UploadEvent } from "../flavour";

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
  /** The outcome without its history, which is dropped so a long run does not keep every history in memory. */
  done: Promise<Omit<OrchestrationResult, "history">>;
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
  const { processing, notifier, emulatorPorts = {}, retryDelayMs = 100, decoratePorts, onStepCall, defaultHeapGrowth } = options;
  const azurite = await startAzurite({
    blobPort: emulatorPorts.blob,
    tablePort: emulatorPorts.table,
    queuePort: emulatorPorts.queue,
    nodeFlags: defaultHeapGrowth ? [] : [LOCAL_HEAP_FLAG],
  });
  try {
    await provisionAzure({ connectionString: azurite.connectionString, tableName: LOCAL_AZURE_TABLE });
  } catch (error) {
    await azurite.stop();
    throw error;
  }
  // maxAttempts 1: a failing call surfaces to the orchestrator, whose retry policy is the thing under test.
  const ports = createAzurePorts({ connectionString: azurite.connectionString, tableName: LOCAL_AZURE_TABLE, notifier, maxAttempts: 1 });
  const handlerByActivity = new Map(STEP_HANDLERS.map((handler) => [ACTIVITY_NAMES[handler], handler]));
  const instances = new Map<string, Instance>();

  /** The Functions host's side of an activity call: JSON in, the real handler, JSON out. */
  const callActivity = async (name: string, input: unknown, call: ActivityCall): Promise<unknown> => {
    const handler: StepHandler | undefined = handlerByActivity.get(name);
    if (!handler) throw new Error(`The orchestrator called an unknown activity "${name}".`);
    const stepCall: StepCall = { handler, step: name, runId: call.instanceId, attempt: call.attempt };
    onStepCall?.(stepCall);
    const stepPorts: Ports = decoratePorts ? decoratePorts(ports, stepCall) : ports;
    const activity = createActivityHandler(handler, () => ({ ports: stepPorts, options: processing }));
    const context = new InvocationContext({ functionName: name, invocationId: `${call.instanceId}:${call.taskId}` });
    const output = await activity(JSON.parse(JSON.stringify(input ?? null)), context);
    return JSON.parse(JSON.stringify(output ?? null));
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
    for (let attempt = 1; started === undefined; attempt++) {
      try {
        started = await startPipeline(client, { sourceKey: event.sourceKey, sourceEtag: event.sourceEtag });
      } catch (error) {
        if (attempt >= START_ATTEMPTS) throw error;
        await delay(retryDelayMs);
      }
    }
    const { instanceId } = started;
    if (!started.started) return { runId: instanceId, status: "succeeded", duplicate: true, output: { duplicate: true, existingStatus: started.existingStatus } };
    const result = await (instances.get(instanceId) as Instance).done;
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
    expireWork,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // Let started orchestrations settle first, so none talks to a stopped emulator.
      await Promise.allSettled([...instances.values()].map((instance) => instance.done));
      await azurite.stop();
    },
  };
}
