import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import { workflow as pipelineWorkflow, type ParallelStep, type RetryPolicy, type TaskStep, type WorkflowDefinition } from "../workflow";
import type { StartInput, StepFailure } from "../steps/types";
import { activityFailure, failureFromError } from "./failure";
import { ACTIVITY_NAMES } from "./contract";

/**
 * The Durable orchestrator: walks the cloud-neutral workflow definition at run
 * time, so the order, the parallel block and the retry policy are the ones the
 * AWS state machine is rendered from.
 *
 * State threads through the steps as in Amazon States Language: a task without
 * `resultKey` replaces the state with its result, one with `resultKey` nests it;
 * a parallel block nests its branch results, in branch order, under `resultKey`.
 * Any failure runs `onError` with the failing step's input plus `{ Error, Cause }`
 * under `errorKey`, then the orchestration fails (runtime status Failed, like the
 * ASL Fail state); the job record NotifyError wrote is the authoritative outcome.
 */

/** Thrown after NotifyError has run: ends the orchestration Failed, carrying the step's failure. */
export class PipelineRunFailed extends Error {
  readonly failure: StepFailure;
  constructor(failure: StepFailure) {
    super(`${failure.Error}: ${failure.Cause ?? "no cause recorded"}`);
    this.name = "PipelineRunFailed";
    this.failure = failure;
  }
}

/**
 * The workflow's retry policy as Durable retry options. `maxRetries` counts
 * attempts after the first; Durable counts all attempts.
 */
export function retryOptionsFor(policy: RetryPolicy): df.RetryOptions {
  const options = new df.RetryOptions(policy.intervalSeconds * 1000, policy.maxRetries + 1);
  options.backoffCoefficient = policy.backoffRate;
  options.maxRetryIntervalInMilliseconds = policy.maxDelaySeconds * 1000;
  return options;
}

type State = Record<string, unknown>;
type Outcome = { kind: "completed"; state: unknown } | { kind: "failed"; failure: StepFailure; state: State };

/**
 * Calls a step's activity. A step marked `receivesRunId` gets `{ input, runId }`
 * with the instance id as runId: the shape the ASL's Parameters give the Lambda.
 */
function callStep(context: OrchestrationContext, step: TaskStep, retry: df.RetryOptions, input: unknown): Task {
  const payload = step.receivesRunId ? { input, runId: context.df.instanceId } : input;
  return context.df.callActivityWithRetry(ACTIVITY_NAMES[step.handler], retry, payload);
}

function place(state: State, resultKey: string | undefined, result: unknown): unknown {
  return resultKey === undefined ? result : { ...state, [resultKey]: result };
}

function* runSteps(context: OrchestrationContext, definition: WorkflowDefinition, input: State): Generator<Task, Outcome, unknown> {
  const retry = retryOptionsFor(definition.retry);
  let state: State = input;
  for (const step of definition.steps) {
    try {
      if (step.kind === "task") {
        const result = yield callStep(context, step, retry, state);
        const failure = activityFailure(result);
        if (failure) return { kind: "failed", failure, state };
        const next = place(state, step.resultKey, result);
        if (step.endWhen && (result as State | null)?.[step.endWhen] === true) return { kind: "completed", state: next };
        state = next as State;
      } else {
        const results = (yield context.df.Task.all((step as ParallelStep).branches.map((branch) => callStep(context, branch, retry, state)))) as unknown[];
        const failure = results.map(activityFailure).find((found) => found !== undefined);
        if (failure) return { kind: "failed", failure, state };
        state = place(state, step.resultKey, results) as State;
      }
    } catch (error) {
      // A task that threw until its retries ran out (transient errors only reach here).
      return { kind: "failed", failure: failureFromError(error, step.name), state };
    }
  }
  return { kind: "completed", state };
}

/**
 * Builds the orchestrator for a workflow definition (the deployed one by
 * default; tests and the local runtime may pass another).
 */
export function createPipelineOrchestrator(definition: WorkflowDefinition = pipelineWorkflow): OrchestrationHandler {
  return function* pipelineOrchestrator(context: OrchestrationContext): Generator<Task, unknown, unknown> {
    const start = (context.df.getInput() ?? {}) as StartInput;
    const outcome = yield* runSteps(context, definition, { ...start });
    if (outcome.kind === "completed") return outcome.state;

    const failed = { ...outcome.state, [definition.errorKey]: outcome.failure };
    if (!context.df.isReplaying) context.warn(`${definition.name} ${context.df.instanceId} failed: ${outcome.failure.Cause ?? outcome.failure.Error}`);
    try {
      yield callStep(context, definition.onError, retryOptionsFor(definition.retry), failed);
    } catch (error) {
      // The run still ends with the step's failure; the job record stays "running" until it expires.
      if (!context.df.isReplaying) context.error(`${definition.onError.name} failed for ${context.df.instanceId}: ${failureFromError(error).Cause}`);
    }
    throw new PipelineRunFailed(outcome.failure);
  };
}

/** The orchestrator registered as ORCHESTRATOR_NAME (functions/azure/app.ts). */
export const pipelineOrchestrator: OrchestrationHandler = createPipelineOrchestrator();
