import type { Cloud } from "../components/config";
import type { StepHandler } from "../functions/workflow";
import type { ProcessingOptions } from "../functions/core/options";
import type { Notifier, Ports } from "../functions/ports";
import type { EraseResult } from "../functions/steps/erase";
import type { Meter } from "./cost/meter";

/**
 * The contract every local flavour implements (local/<cloud>/flavour.ts): one
 * cloud's emulators and workflow engine, started on this machine, running the
 * real step handlers. local/runtime.ts drives any flavour through it.
 */

/** Fixed ports for the emulators; unset = a free port picked by the OS. */
export interface EmulatorPorts {
  s3?: number;
  dynamo?: number;
  blob?: number;
  queue?: number;
  table?: number;
}

/** One handler invocation, as an engine makes it (retries included). */
export interface StepCall {
  handler: StepHandler;
  /** Engine state / activity name. */
  step: string;
  runId: string;
  /** 1 for the first call of this step in this run, 2 for its first retry... */
  attempt: number;
}

export interface FlavourOptions {
  processing: ProcessingOptions;
  /** Receives the pipeline's events (stands in for SNS / Event Grid). */
  notifier: Notifier;
  emulatorPorts?: EmulatorPorts;
  /** Pause before a retry, instead of the definition's seconds-long backoff (default 100 ms). */
  retryDelayMs?: number;
  /** Test hook: wraps the ports a handler call gets (fault injection). */
  decoratePorts?: (ports: Ports, call: StepCall) => Ports;
  /** Test hook: sees every handler call. */
  onStepCall?: (call: StepCall) => void;
  /**
   * Counts the run's billable operations (local/cost/): the handlers' storage calls go
   * through counting proxies, the engine records transitions or history events, and
   * each handler call its duration. Off by default: the proxies cost time.
   */
  meter?: Meter;
  /** Keep V8's default heap growth instead of the local runtime's (local/heap.ts); for the benchmark's comparison. */
  defaultHeapGrowth?: boolean;
}

/** What the upload trigger hands the workflow: the object's key and version. */
export interface UploadEvent {
  sourceKey: string;
  sourceEtag?: string;
  /** AWS: the S3 version id of this upload (see StartInput.sourceVersion). */
  sourceVersion?: string;
  /** Set by a reprocess (StartInput.generation): a new job per image per reprocess. */
  generation?: string;
}

/** A deleted upload, as the storage's delete event tells the erase function. */
export interface DeleteEvent {
  sourceKey: string;
  /** The event as the deployed function receives it. AWS: the delete rule's transformed input; Azure: the BlobDeleted CloudEvent on the delete-events queue. */
  message: unknown;
}

export interface ExecutionResult {
  runId: string;
  /** The engine's verdict; a failed image ends `failed` after NotifyError ran. */
  status: "succeeded" | "failed";
  /** The delivery was a duplicate and did no work: the run ended at Validate (AWS) or the starter started nothing (Azure). */
  duplicate?: boolean;
  output?: unknown;
  /** Engine error name and cause when the run failed. */
  error?: { name: string; cause?: string };
}

/** One cloud's engine and emulators, started and provisioned. */
export interface LocalFlavour {
  readonly cloud: Cloud;
  /** The ports over the emulators, undecorated: for uploads and for reading results. */
  readonly ports: Ports;
  /** Where the emulators listen, for the log line. */
  readonly endpoints: Record<string, string>;
  /** Puts a file in the uploads store, as a user's upload would, and returns the trigger's event. */
  upload(key: string, body: Buffer, contentType?: string): Promise<UploadEvent>;
  /**
   * Delivers one upload event to the trigger and runs what it starts to its end.
   * AWS: a new execution named `runId` (default: fresh). Azure: the starter derives
   * the instance id from the upload, so `runId` is ignored.
   */
  execute(event: UploadEvent, runId?: string): Promise<ExecutionResult>;
  /** Deletes an upload, as a user's delete would (AWS: a delete marker on the versioned bucket), and returns the storage's delete event. */
  deleteUpload(key: string): Promise<DeleteEvent>;
  /** Delivers a delete event to the erase function, as the deployed trigger does, and runs the erasure to its end (functions/steps/erase.ts). */
  erase(event: DeleteEvent): Promise<EraseResult>;
  /**
   * Deletes a finished job's intermediates: the local stand-in for the work
   * area's one-day lifecycle rule, so long runs and --watch do not fill the disk.
   */
  expireWork(jobId: string): Promise<void>;
  stop(): Promise<void>;
}
