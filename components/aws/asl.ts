import type { ParallelStep, StepHandler, TaskStep, WorkflowDefinition } from "../../functions/workflow";

/**
 * Renders the cloud-neutral workflow (functions/workflow.ts) as Amazon States
 * Language. Pure and Pulumi-free: the AWS component feeds it the deployed
 * function ARNs, and the local runtime runs the very same document with
 * `aws-local-stepfunctions`, overriding each Task by its state name.
 *
 * Task states name the Lambda ARN directly as `Resource` (not the optimized
 * `arn:aws:states:::lambda:invoke` integration): the state input is the event and
 * the function's return value is the result, with no `Payload` envelope, so the
 * local engine runs the document unchanged. Retry and Catch behave the same in
 * both forms.
 */

/**
 * Lambda service errors worth a retry, as AWS recommends for every Lambda task, plus throttling
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
 */
export const LAMBDA_RETRY_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.TooManyRequestsException",
] as const;

/**
 * A function that ran past its own timeout (Lambda reports `Sandbox.Timedout`:
 * https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html), or a Task past its
 * TimeoutSeconds (`States.Timeout`: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 * Retried by a retrier of their own, fewer times: each retry costs a whole timeout.
 */
export const TIMEOUT_RETRY_ERRORS = ["Sandbox.Timedout", "States.Timeout"] as const;

/** Where the catchers put the failure's state name, next to its Error and Cause, for NotifyError's message. */
export const FAILED_STEP_FIELD = "Step";

/** Where a failure of NotifyError itself is kept, so the Fail state still reports the original error. */
export const NOTIFY_FAILURE_KEY = "notificationError";

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  BackoffRate: number;
  MaxAttempts: number;
  MaxDelaySeconds: number;
}

export interface AslCatcher {
  ErrorEquals: string[];
  ResultPath: string;
  Next: string;
}

interface Transition {
  Next?: string;
  End?: true;
}

export interface AslTaskState extends Transition {
  Type: "Task";
  Comment?: string;
  Resource: string;
  Parameters?: Record<string, string>;
  ResultPath?: string;
  TimeoutSeconds?: number;
  Retry: AslRetrier[];
  Catch?: AslCatcher[];
}

export interface AslParallelState extends Transition {
  Type: "Parallel";
  Comment?: string;
  Branches: AslStateMachine[];
  ResultPath: string;
  Catch: AslCatcher[];
}

export interface AslChoiceState {
  Type: "Choice";
  Comment?: string;
  Choices: { Variable: string; BooleanEquals: boolean; Next: string }[];
  Default: string;
}

export interface AslSucceedState {
  Type: "Succeed";
  Comment?: string;
}

export interface AslFailState {
  Type: "Fail";
  Comment?: string;
  ErrorPath: string;
  CausePath: string;
}

export interface AslPassState {
  Type: "Pass";
  Comment?: string;
  Result: string;
  ResultPath: string;
  Next: string;
}

export type AslState = AslTaskState | AslParallelState | AslChoiceState | AslSucceedState | AslFailState | AslPassState;

export interface AslStateMachine {
  Comment?: string;
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, AslState>;
}

export interface RenderAslOptions {
  /**
   * Per-handler task timeouts in seconds. A hung invocation then fails with
   * `States.Timeout` (retried) instead of holding the run until its own timeout.
   */
  taskTimeoutSeconds?: Partial<Record<StepHandler, number>>;
}

/**
 * Renders the workflow as an ASL state machine.
 *
 * - every Task retries `definition.retry.errors` plus {@link LAMBDA_RETRY_ERRORS} with the definition's backoff,
 *   and {@link TIMEOUT_RETRY_ERRORS} with a retrier of their own (`retry.maxTimeoutRetries` attempts);
 * - every top-level Task and the Parallel catch `States.ALL` with the failure at `$.<errorKey>` next to the
 *   original input, then a Pass state `<name>Failed` adds the state's name (`$.<errorKey>.Step`) and goes on
 *   to the onError step; tasks inside a Parallel branch cannot jump out of it, so their failures reach the
 *   same catcher through the Parallel (named after the Parallel);
 * - a step with `endWhen` is followed by a Choice that ends the run successfully when that field is true;
 * - the onError step ends in a Fail state that reports the original error and cause.
 *
 * @param functionArns the Lambda ARN of every handler the workflow calls
 * @throws {Error} when a handler the workflow calls has no ARN
 * @example renderAsl(workflow, { validate: "arn:aws:lambda:eu-west-1:123456789012:function:p-validate", ... })
 */
export function renderAsl(definition: WorkflowDefinition, functionArns: Record<StepHandler, string>, options: RenderAslOptions = {}): AslStateMachine {
  const { steps, onError, errorKey, retry, timeoutSeconds, comment } = definition;
  const { taskTimeoutSeconds = {} } = options;
  const errorPath = `$.${errorKey}`;
  const failStateName = "Failed";

  const backoff = { IntervalSeconds: retry.intervalSeconds, BackoffRate: retry.backoffRate, MaxDelaySeconds: retry.maxDelaySeconds };
  const retriers = (): AslRetrier[] => [
    { ErrorEquals: [...new Set([...retry.errors, ...LAMBDA_RETRY_ERRORS])], ...backoff, MaxAttempts: retry.maxRetries },
    { ErrorEquals: [...TIMEOUT_RETRY_ERRORS], ...backoff, MaxAttempts: retry.maxTimeoutRetries ?? retry.maxRetries },
  ];
  const catchInto = (next: string, resultPath: string): AslCatcher[] => [{ ErrorEquals: ["States.ALL"], ResultPath: resultPath, Next: next }];

  const states: Record<string, AslState> = {};
  /** Catches into a Pass state that names the failed state, then the onError step. */
  const catchNamed = (stateName: string): AslCatcher[] => {
    const recorder = `${stateName}Failed`;
    states[recorder] = {
      Type: "Pass",
      Comment: `Names ${stateName} as the failed step, for ${onError.name}'s message.`,
      Result: stateName,
      ResultPath: `${errorPath}.${FAILED_STEP_FIELD}`,
      Next: onError.name,
    };
    return catchInto(recorder, errorPath);
  };

  const task = (step: TaskStep, transition: Transition, catchers?: AslCatcher[]): AslTaskState => {
    const resource = functionArns[step.handler];
    if (!resource) throw new Error(`renderAsl: no function ARN for handler "${step.handler}" (state ${step.name}).`);
    const timeout = taskTimeoutSeconds[step.handler];
    return {
      Type: "Task",
      Resource: resource,
      // The execution id is the run's identity (validate's duplicate check); Catch still sees the plain state input.
      ...(step.receivesRunId ? { Parameters: { "input.$": "$", "runId.$": "$$.Execution.Id" } } : {}),
      ...(step.resultKey ? { ResultPath: `$.${step.resultKey}` } : {}),
      ...(timeout ? { TimeoutSeconds: timeout } : {}),
      Retry: retriers(),
      ...(catchers ? { Catch: catchers } : {}),
      ...transition,
    };
  };

  const parallel = (step: ParallelStep, transition: Transition): AslParallelState => ({
    Type: "Parallel",
    Branches: step.branches.map((branch) => ({ StartAt: branch.name, States: { [branch.name]: task(branch, { End: true }) } })),
    ResultPath: `$.${step.resultKey}`,
    // No Retry here: the branch tasks retry themselves; retrying the block would redo the branch that succeeded.
    Catch: catchNamed(step.name),
    ...transition,
  });

  steps.forEach((step, index) => {
    const next = steps[index + 1]?.name;
    if (step.kind === "parallel") {
      states[step.name] = parallel(step, next ? { Next: next } : { End: true });
      return;
    }
    if (!step.endWhen) {
      states[step.name] = task(step, next ? { Next: next } : { End: true }, catchNamed(step.name));
      return;
    }
    const field = step.endWhen.charAt(0).toUpperCase() + step.endWhen.slice(1);
    const choiceName = `Is${field}`;
    const endName = `Skip${field}`;
    states[step.name] = task(step, { Next: choiceName }, catchNamed(step.name));
    states[choiceName] = {
      Type: "Choice",
      Comment: `Ends the run when ${step.name} sets "${step.endWhen}" (a duplicate delivery of the same upload).`,
      Choices: [{ Variable: `$.${step.endWhen}`, BooleanEquals: true, Next: endName }],
      Default: next ?? endName,
    };
    states[endName] = { Type: "Succeed", Comment: `${step.name} found "${step.endWhen}": nothing more to do.` };
  });

  // A failing NotifyError must not loop into itself: its own failure goes straight to the Fail state.
  states[onError.name] = task(onError, { Next: failStateName }, catchInto(failStateName, `$.${NOTIFY_FAILURE_KEY}`));
  states[failStateName] = {
    Type: "Fail",
    Comment: "Reports the error that sent the run to the error handler.",
    ErrorPath: `${errorPath}.Error`,
    CausePath: `${errorPath}.Cause`,
  };

  const first = steps[0];
  if (!first) throw new Error("renderAsl: the workflow has no steps.");
  return { Comment: comment, StartAt: first.name, TimeoutSeconds: timeoutSeconds, States: states };
}

/** Every Task state of a rendered machine, branches included, with its name. */
export function aslTaskStates(machine: AslStateMachine): { name: string; state: AslTaskState; inBranch: boolean }[] {
  const found: { name: string; state: AslTaskState; inBranch: boolean }[] = [];
  const walk = (states: Record<string, AslState>, inBranch: boolean) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === "Task") found.push({ name, state, inBranch });
      if (state.Type === "Parallel") state.Branches.forEach((branch) => walk(branch.States, true));
    }
  };
  walk(machine.States, false);
  return found;
}
