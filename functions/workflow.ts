/**
 * The pipeline's workflow, described once and cloud-neutral. The AWS component
 * renders it to Amazon States Language; the Azure orchestrator walks it at run
 * time. A change of step order, retry policy or timeout is made here only.
 *
 * No Pulumi or cloud SDK import here: the Azure function bundle includes this file.
 */

import { TRANSIENT_ERROR_NAME } from "./core/errors";

/** Handler names: each is one Lambda on AWS and one activity on Azure. */
export const STEP_HANDLERS = ["validate", "resize", "applyFilters", "optimize", "notifySuccess", "notifyError"] as const;
export type StepHandler = (typeof STEP_HANDLERS)[number];

/**
 * The one function outside the workflow: the stuck-job sweep (functions/steps/sweep.ts),
 * run on a schedule (AWS: an EventBridge schedule → Lambda; Azure: a timer function).
 * It fails jobs still running past the whole-run timeout, which no engine reports.
 */
export const SWEEP_HANDLER = "sweepStuckJobs";
/**
 * The other function outside the workflow: erasure on delete (functions/steps/erase.ts), run for each
 * upload deleted (AWS: an EventBridge rule on Object Deleted → Lambda; Azure: BlobDeleted → a queue function).
 */
export const ERASE_HANDLER = "eraseUpload";
export type FunctionHandler = StepHandler | typeof SWEEP_HANDLER | typeof ERASE_HANDLER;
/** How often the sweep runs, in minutes. */
export const SWEEP_INTERVAL_MINUTES = 5;

export interface RetryPolicy {
  /** Error names retried; permanent errors (a bad image) are never listed. */
  errors: string[];
  intervalSeconds: number;
  backoffRate: number;
  /** Attempts after the first one. */
  maxRetries: number;
  maxDelaySeconds: number;
  /**
   * Attempts after the first one for a step that ran past its timeout. Kept low: a timeout is mostly
   * deterministic (the same image needs the same time), and every retry costs a whole timeout.
   * Default: maxRetries.
   */
  maxTimeoutRetries?: number;
}

export interface TaskStep {
  kind: "task";
  /** State name in ASL, and the name shown in job histories. */
  name: string;
  handler: StepHandler;
  /** Where the result goes in the state: `undefined` replaces the state, a name nests it. */
  resultKey?: string;
  /** When the result has this boolean field set, the workflow ends successfully (duplicate delivery). */
  endWhen?: string;
  /**
   * The step gets the run's identity next to its input (`{ input, runId }`), so it
   * can tell a retry of its own run from a duplicate delivery that started another run.
   */
  receivesRunId?: boolean;
}

export interface ParallelStep {
  kind: "parallel";
  name: string;
  branches: TaskStep[];
  /** Branch results, in branch order, go under this key. */
  resultKey: string;
}

export type Step = TaskStep | ParallelStep;

export interface WorkflowDefinition {
  name: string;
  comment: string;
  steps: Step[];
  /** Runs on any failure with the original input plus `error`, then the run ends failed. */
  onError: TaskStep;
  /** Key the failure is stored under for onError. */
  errorKey: string;
  retry: RetryPolicy;
  /** Whole-run timeout. */
  timeoutSeconds: number;
}

export const workflow: WorkflowDefinition = {
  name: "image-pipeline",
  comment: "Validate an upload, render renditions and effects in parallel, encode them for the web, and notify.",
  steps: [
    { kind: "task", name: "Validate", handler: "validate", endWhen: "duplicate", receivesRunId: true },
    {
      kind: "parallel",
      name: "Process",
      resultKey: "processed",
      branches: [
        { kind: "task", name: "Resize", handler: "resize" },
        { kind: "task", name: "ApplyFilters", handler: "applyFilters" },
      ],
    },
    { kind: "task", name: "Optimize", handler: "optimize", resultKey: "optimized" },
    { kind: "task", name: "NotifySuccess", handler: "notifySuccess", resultKey: "notified" },
  ],
  onError: { kind: "task", name: "NotifyError", handler: "notifyError", resultKey: "notified", receivesRunId: true },
  errorKey: "error",
  retry: {
    errors: [TRANSIENT_ERROR_NAME],
    intervalSeconds: 2,
    backoffRate: 2,
    maxRetries: 3,
    maxDelaySeconds: 30,
    maxTimeoutRetries: 1,
  },
  timeoutSeconds: 15 * 60,
};

/**
 * The handlers a state runs: itself for a task, its branches for a parallel block (whose failure the
 * engines report under the block's name). Empty for a name the workflow does not have.
 */
export function handlersOfState(stateName: string, definition: WorkflowDefinition = workflow): StepHandler[] {
  const step = [...definition.steps, definition.onError].find((candidate) => candidate.name === stateName);
  if (!step) return [];
  return step.kind === "parallel" ? step.branches.map((branch) => branch.handler) : [step.handler];
}

/** The steps that call a handler, in definition order (parallel branches flattened). */
export function taskSteps(definition: WorkflowDefinition = workflow): TaskStep[] {
  const tasks = definition.steps.flatMap((step) => (step.kind === "parallel" ? step.branches : [step]));
  return [...tasks, definition.onError];
}
