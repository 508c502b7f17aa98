import "../polyfills";
import { randomUUID } from "node:crypto";
import { ExecutionError, StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { aslTaskStates, renderAsl, type AslStateMachine } from "../../components/aws/asl";
import { STEP_HANDLERS, workflow, type StepHandler, type WorkflowDefinition } from "../../functions/workflow";
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { createAwsPorts, LOCAL_AWS_CREDENTIALS, S3ObjectStore } from "../../functions/aws/adapters";
import type { Ports } from "../../functions/ports";
import { eraseUpload, runStep, type StartInput } from "../../functions/steps";
import { eraseInputFor, type DeletedUploadEvent } from "../../functions/aws/contract";
import { provisionAws, startDynamo, startS3, type DynamoEmulator, type S3Emulator } from "../emulators";
import type { DeleteEvent, ExecutionResult, FlavourOptions, LocalFlavour, StepCall, UploadEvent } from "../flavour";
import { jobIdFor } from "../../functions/steps/jobId";
import { countingNotifier, timedInvocation } from "../cost/hooks";
import { startMeteringProxy } from "../cost/proxy";

/**
 * The AWS flavour: S3 from s3rver, DynamoDB from dynalite, and the very ASL the
 * deployed state machine runs (components/aws/asl.ts), executed by
 * aws-local-stepfunctions with each Task state overridden by the real Lambda
 * step handler (runStep + the AWS adapters), called the way Lambda calls it.
 */

const LOCAL_ACCOUNT = "000000000000";
const LOCAL_REGION = "us-east-1";
const STATE_MACHINE_NAME = "image-pipeline-local";
export const LOCAL_AWS_NAMES = { uploadsBucket: "image-pipeline-uploads", renditionsBucket: "image-pipeline-renditions", tableName: "image-pipeline-jobs" } as const;

/** Step Functions refuses state payloads over 256 KB; steps must pass keys, not bytes. */
export const STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024;

/**
 * Local task timeout: generous, since concurrent runs share this machine's
 * cores where each Lambda has its own. Without it the engine's default is 60 s.
 */
const LOCAL_TASK_TIMEOUT_SECONDS = 600;

/** The fake ARN each handler's Lambda has locally; only used to find the handler of a Task state. */
export function localFunctionArns(prefix = STATE_MACHINE_NAME): Record<StepHandler, string> {
  return Object.fromEntries(STEP_HANDLERS.map((handler) => [handler, `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${prefix}-${handler}`])) as Record<StepHandler, string>;
}

/** The deployed state machine's definition, with local ARNs. */
export function localAsl(definition: WorkflowDefinition = workflow): AslStateMachine {
  const timeouts = Object.fromEntries(STEP_HANDLERS.map((handler) => [handler, LOCAL_TASK_TIMEOUT_SECONDS]));
  return renderAsl(definition, localFunctionArns(), { taskTimeoutSeconds: timeouts });
}

/** An error the engine can neither retry nor catch: the run fails as a real one would. */
function terminalError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, isRetryable: false, isCatchable: false });
}

/**
 * What Lambda hands Step Functions when a function throws: the error's name as
 * `Error`, and a JSON `Cause` with errorType/errorMessage/trace.
 */
function lambdaFailure(thrown: unknown): Error {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  const cause = JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: (error.stack ?? "").split("\n").slice(1, 6) });
  return Object.assign(new Error(cause), { name: error.name });
}

/** Payloads cross a JSON boundary in the cloud: so they do here (no Buffers, Dates or undefined survive). */
function overTheWire(value: unknown, what: string): unknown {
  const json = JSON.stringify(value ?? null);
  if (Buffer.byteLength(json) > STATE_PAYLOAD_LIMIT_BYTES) {
    throw terminalError("States.DataLimitExceeded", `${what} is ${Buffer.byteLength(json)} bytes, over Step Functions' ${STATE_PAYLOAD_LIMIT_BYTES}-byte limit; pass object keys, not data.`);
  }
  return JSON.parse(json);
}

/**
 * Standard workflows bill a transition each time a state runs, retries included:
 * one per state entered, one per retry.
 */
// https://aws.amazon.com/step-functions/pricing/ — "Step Functions counts a state transition each time a step of your workflow is executed ... including retries."
async function countTransitions(events: AsyncGenerator<{ type: string }>, record: (op: string) => void): Promise<void> {
  for await (const event of events) {
    if (event.type === "StateEntered") record("StateTransition");
    else if (event.type === "StateRetried") record("StateTransition:retry");
  }
}

/** A unique execution name, as each delivery of an event to the trigger gets. */
function newExecutionName(): string {
  return `exec-${randomUUID()}`;
}

/**
 * The execution input, exactly as the deployed EventBridge rule builds it
 * (components/aws/trigger.ts, START_INPUT_TEMPLATE): key and ETag, nothing
 * else. The run's identity comes from the context object (`$$.Execution.Id`).
 */
export function startInputFor(event: UploadEvent): StartInput {
  return { sourceKey: event.sourceKey, sourceEtag: event.sourceEtag, ...(event.sourceVersion ? { sourceVersion: event.sourceVersion } : {}), ...(event.generation ? { generation: event.generation } : {}) };
}

export interface AwsFlavour extends LocalFlavour {
  readonly asl: AslStateMachine;
  readonly s3: S3Emulator;
  readonly dynamo: DynamoEmulator;
}

/**
 * Starts s3rver and dynalite on 127.0.0.1, creates the buckets and the table,
 * and returns an engine that runs the generated ASL.
 *
 * @throws {LocalRuntimeError} EMULATOR_PORT_IN_USE / EMULATOR_FAILED when an emulator cannot start.
 */
export async function startAwsFlavour(options: FlavourOptions): Promise<AwsFlavour> {
  const { processing, notifier, emulatorPorts = {}, retryDelayMs = 100, decoratePorts, onStepCall, meter } = options;
  const stops: Array<() => Promise<void>> = [];
  try {
    const s3 = await startS3({ port: emulatorPorts.s3 });
    stops.push(s3.stop);
    const dynamo = await startDynamo({ port: emulatorPorts.dynamo });
    stops.push(dynamo.stop);
    await provisionAws({ s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, ...LOCAL_AWS_NAMES });

    // maxAttempts 1: a failing call surfaces to the workflow, whose Retry is the thing under test.
    const ports = createAwsPorts({ ...LOCAL_AWS_NAMES, endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, notifier, maxAttempts: 1 });
    // Metered runs: the handlers (only they) talk to the emulators through counting proxies.
    let handlerPorts = ports;
    if (meter) {
      const s3Proxy = await startMeteringProxy({ service: "s3", target: s3.endpoint, meter });
      stops.push(s3Proxy.stop);
      const dynamoProxy = await startMeteringProxy({ service: "dynamodb", target: dynamo.endpoint, meter });
      stops.push(dynamoProxy.stop);
      handlerPorts = createAwsPorts({ ...LOCAL_AWS_NAMES, endpoint: s3Proxy.endpoint, dynamoEndpoint: dynamoProxy.endpoint, notifier: countingNotifier(notifier, meter, "sns"), maxAttempts: 1 });
    }
    const asl = localAsl();
    const machine = new StateMachine(asl as unknown as StateMachineDefinition);
    const handlerByArn = new Map(Object.entries(localFunctionArns()).map(([handler, arn]) => [arn, handler as StepHandler]));
    const tasks = aslTaskStates(asl).map(({ name, state }) => {
      const handler = handlerByArn.get(state.Resource);
      if (!handler) throw new Error(`The generated ASL's state ${name} calls ${state.Resource}, which is no step handler.`);
      return { name, handler };
    });
    const retryStates = Object.entries(asl.States).filter(([, state]) => "Retry" in state).map(([name]) => name);

    const execute = async (event: UploadEvent, runId = newExecutionName()): Promise<ExecutionResult> => {
      const attempts = new Map<string, number>();
      const jobId = jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion, event.generation);
      meter?.registerJob(jobId, event.sourceKey);
      // S3 → EventBridge delivered this upload's event to the state machine.
      meter?.record({ service: "trigger", op: "UploadEvent", jobId });
      // Each Task runs the real handler as Lambda would: JSON in, JSON out, errors as Lambda reports them.
      const invoke = (step: string, handler: StepHandler) => async (input: unknown) => {
        const attempt = (attempts.get(step) ?? 0) + 1;
        attempts.set(step, attempt);
        const call: StepCall = { handler, step, runId, attempt };
        onStepCall?.(call);
        const stepPorts: Ports = decoratePorts ? decoratePorts(handlerPorts, call) : handlerPorts;
        let output: unknown;
        try {
          output = await timedInvocation(meter, "lambda", handler, jobId, () => runStep(handler, overTheWire(input, `The input of ${step}`), stepPorts, processing));
        } catch (thrown) {
          throw lambdaFailure(thrown);
        }
        return overTheWire(output, `The output of ${step}`) as never;
      };
      const taskResourceLocalHandlers = Object.fromEntries(tasks.map(({ name, handler }) => [name, invoke(name, handler)]));
      const taskNames = tasks.map(({ name }) => name);
      const retryIntervalOverrides = Object.fromEntries([...new Set([...taskNames, ...retryStates])].map((name) => [name, retryDelayMs]));
      const input = startInputFor(event);
      const started = performance.now();
      const execution = machine.run(input as never, {
        overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
        context: { Execution: { Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${STATE_MACHINE_NAME}:${runId}`, Name: runId } },
      });
      const transitions = meter ? countTransitions(execution.eventLogs, (op) => meter.record({ service: "stepfunctions", op, jobId })) : Promise.resolve();
      const settled = () => transitions.then(() => meter?.record({ service: "stepfunctions", op: "Execution", durationMs: performance.now() - started, jobId }));
      try {
        const output = await execution.result;
        await settled();
        return { runId, status: "succeeded", output, duplicate: (output as { duplicate?: unknown } | null)?.duplicate === true };
      } catch (thrown) {
        await settled();
        if (!(thrown instanceof ExecutionError)) throw thrown;
        const cause = (thrown as Error & { cause?: Error }).cause;
        return { runId, status: "failed", error: { name: cause?.name ?? thrown.name, cause: cause?.message ?? thrown.message } };
      }
    };

    const upload = async (key: string, body: Buffer, contentType = "application/octet-stream"): Promise<UploadEvent> => {
      await ports.objects.put("uploads", key, body, contentType);
      // S3 events carry the key, the ETag and the new version's id. s3rver keeps no versions,
      // so each local upload gets a fresh id, as each PUT to the versioned bucket does.
      const { etag } = await ports.objects.head("uploads", key);
      return { sourceKey: key, sourceEtag: etag, sourceVersion: `local-${randomUUID()}` };
    };

    const deleteUpload = async (key: string): Promise<DeleteEvent> => {
      await ports.objects.delete("uploads", key);
      // The versioned bucket adds a delete marker: the event's ETag (of no bytes) and version id are the marker's
      // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). s3rver keeps no versions: the object is gone.
      const message: DeletedUploadEvent = { sourceKey: key, sourceEtag: "d41d8cd98f00b204e9800998ecf8427e", sourceVersion: `local-marker-${randomUUID()}`, deletionType: "Delete Marker Created" };
      return { sourceKey: key, message };
    };
    // The erase Lambda's path (functions/aws/handlers.ts eraseUpload): the rule's input, then the shared erasure.
    const erase = async (event: DeleteEvent) => eraseUpload(eraseInputFor(event.message as DeletedUploadEvent), ports, processing);

    const s3Client = new S3Client({ region: LOCAL_REGION, endpoint: s3.endpoint, forcePathStyle: true, credentials: LOCAL_AWS_CREDENTIALS, maxAttempts: 1 });
    stops.unshift(async () => s3Client.destroy());
    const expireWork = async (jobId: string) => {
      // Intermediates live under `<jobId>/` in the work area (functions/steps/keys.ts, workKey).
      const { Bucket, Key: Prefix } = (ports.objects as S3ObjectStore).keyFor("work", `${jobId}/`);
      const listed = await s3Client.send(new ListObjectsV2Command({ Bucket, Prefix }));
      // One by one: s3rver fails DeleteObjects when the SDK sends a CRC32 checksum instead of Content-MD5.
      for (const object of listed.Contents ?? []) if (object.Key) await s3Client.send(new DeleteObjectCommand({ Bucket, Key: object.Key }));
    };

    let stopped = false;
    return {
      cloud: "aws",
      ports,
      asl,
      s3,
      dynamo,
      endpoints: { s3: s3.endpoint, dynamodb: dynamo.endpoint },
      upload,
      execute,
      deleteUpload,
      erase,
      expireWork,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await Promise.allSettled(stops.reverse().map((stop) => stop()));
      },
    };
  } catch (error) {
    await Promise.allSettled(stops.reverse().map((stop) => stop()));
    throw error;
  }
}
