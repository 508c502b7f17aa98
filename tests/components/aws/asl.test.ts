import * as assert from "node:assert/strict";
import { aslTaskStates, renderAsl, type AslStateMachine } from "../../../components/aws/asl";
import { failureToError } from "../../../functions/steps/notify";
import { STEP_HANDLERS, workflow, type StepHandler, type WorkflowDefinition } from "../../../functions/workflow";

// Node 20 lacks Promise.withResolvers, which aws-local-stepfunctions uses on every Task.
const promiseStatics = Promise as unknown as { withResolvers?: unknown };
promiseStatics.withResolvers ??= function withResolvers<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

interface AslValidation {
  isValid: boolean;
  errorsText: (separator?: string) => string;
}
// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (definition: unknown, options?: { checkArn?: boolean; checkPaths?: boolean }) => AslValidation;

const ARNS = Object.fromEntries(STEP_HANDLERS.map((h) => [h, `arn:aws:lambda:eu-west-1:123456789012:function:pipeline-${h}`])) as Record<StepHandler, string>;

/** asl-validator annotates the document it checks: give it a copy. */
function validate(machine: AslStateMachine): AslValidation {
  return aslValidator(structuredClone(machine), { checkArn: true, checkPaths: true });
}

describe("ASL rendered from the workflow definition", () => {
  // Rendered in each test, not once at load time: a test then sees the code as it is when it runs.
  let machine: AslStateMachine;
  let tasks: ReturnType<typeof aslTaskStates>;
  beforeEach(() => {
    machine = renderAsl(workflow, ARNS, { taskTimeoutSeconds: { validate: 40, optimize: 70 } });
    tasks = aslTaskStates(machine);
  });

  it("is a valid state machine for asl-validator (ARNs and paths checked)", () => {
    const result = validate(machine);

    assert.ok(result.isValid, result.errorsText("\n"));
  });

  it("starts at Validate and times the whole run out after the definition's timeout", () => {
    assert.equal(machine.StartAt, "Validate");
    assert.equal(machine.TimeoutSeconds, 900);
    assert.equal(machine.Comment, "Validate an upload, render renditions and effects in parallel, encode them for the web, and notify.");
  });

  it("has one Task per step of the definition, each calling its handler's Lambda ARN directly", () => {
    assert.deepEqual(
      tasks.map(({ name, state }) => [name, state.Resource]),
      [
        ["Validate", "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-validate"],
        ["Resize", "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-resize"],
        ["ApplyFilters", "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-applyFilters"],
        ["Optimize", "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-optimize"],
        ["NotifySuccess", "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-notifySuccess"],
        ["NotifyError", "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-notifyError"],
      ],
    );
  });

  it("retries every Task on TransientError and the Lambda service errors AWS recommends, and a timeout once", () => {
    for (const { name, state } of tasks) {
      assert.deepEqual(
        state.Retry,
        [
          {
            ErrorEquals: [
              "TransientError",
              "Lambda.ServiceException",
              "Lambda.AWSLambdaException",
              "Lambda.SdkClientException",
              "Lambda.ClientExecutionTimeoutException",
              "Lambda.TooManyRequestsException",
            ],
            IntervalSeconds: 2,
            BackoffRate: 2,
            MaxDelaySeconds: 30,
            MaxAttempts: 3,
          },
          { ErrorEquals: ["Sandbox.Timedout", "States.Timeout"], IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 30, MaxAttempts: 1 },
        ],
        name,
      );
      const retried = state.Retry.flatMap((r) => r.ErrorEquals);
      for (const never of ["PermanentError", "States.ALL", "Runtime.OutOfMemory"]) assert.ok(!retried.includes(never), `${name} never retries ${never}`);
    }
  });

  it("catches everything on every top-level Task and on the Parallel, names the state, then runs NotifyError", () => {
    const catchers = Object.entries(machine.States).filter(([name, state]) => (state.Type === "Task" || state.Type === "Parallel") && name !== "NotifyError");

    assert.deepEqual(catchers.map(([name]) => name), ["Validate", "Process", "Optimize", "NotifySuccess"]);
    for (const [name, state] of catchers) {
      assert.deepEqual("Catch" in state && state.Catch, [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: `${name}Failed` }], name);
      const recorder = machine.States[`${name}Failed`];
      assert.deepEqual(recorder && { ...recorder, Comment: undefined }, { Type: "Pass", Comment: undefined, Result: name, ResultPath: "$.error.Step", Next: "NotifyError" }, name);
    }
  });

  it("runs Resize and ApplyFilters as the two one-state branches of the Parallel, then Optimize", () => {
    const parallel = machine.States.Process;
    assert.ok(parallel?.Type === "Parallel");

    assert.deepEqual(
      parallel.Branches.map((branch) => ({ StartAt: branch.StartAt, states: Object.entries(branch.States).map(([name, state]) => [name, state.Type, "End" in state && state.End]) })),
      [
        { StartAt: "Resize", states: [["Resize", "Task", true]] },
        { StartAt: "ApplyFilters", states: [["ApplyFilters", "Task", true]] },
      ],
    );
    assert.equal(parallel.Next, "Optimize");
    assert.equal("Retry" in parallel, false, "the block itself never retries: that would redo the branch that succeeded");
  });

  it("leaves branch failures to the Parallel's catcher (a branch cannot jump outside itself)", () => {
    const branchTasks = tasks.filter((t) => t.inBranch);

    assert.deepEqual(branchTasks.map((t) => t.name), ["Resize", "ApplyFilters"]);
    for (const { name, state } of branchTasks) assert.equal(state.Catch, undefined, name);
  });

  it("sends a failing NotifyError straight to the Fail state, which reports the original error", () => {
    const notifyError = machine.States.NotifyError;
    const failed = machine.States.Failed;

    assert.ok(notifyError?.Type === "Task");
    assert.deepEqual(notifyError.Catch, [{ ErrorEquals: ["States.ALL"], ResultPath: "$.notificationError", Next: "Failed" }]);
    assert.equal(notifyError.Next, "Failed");
    assert.deepEqual(failed, { Type: "Fail", Comment: "Reports the error that sent the run to the error handler.", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" });
  });

  it("ends a duplicate delivery after Validate through a Choice on $.duplicate", () => {
    assert.equal(machine.States.Validate?.Type === "Task" && machine.States.Validate.Next, "IsDuplicate");
    const choice = machine.States.IsDuplicate;
    assert.ok(choice?.Type === "Choice");
    assert.deepEqual(choice, {
      Type: "Choice",
      Comment: 'Ends the run when Validate sets "duplicate" (a duplicate delivery of the same upload).',
      Choices: [{ Variable: "$.duplicate", BooleanEquals: true, Next: "SkipDuplicate" }],
      Default: "Process",
    });
    assert.deepEqual(machine.States.SkipDuplicate, { Type: "Succeed", Comment: 'Validate found "duplicate": nothing more to do.' });
  });

  it("nests results under their keys and the parallel branches under $.processed", () => {
    const resultPaths = Object.fromEntries(Object.entries(machine.States).map(([name, state]) => [name, "ResultPath" in state ? state.ResultPath : undefined]));

    assert.deepEqual(resultPaths, {
      Validate: undefined,
      IsDuplicate: undefined,
      SkipDuplicate: undefined,
      Process: "$.processed",
      Optimize: "$.optimized",
      NotifySuccess: "$.notified",
      NotifyError: "$.notified",
      Failed: undefined,
      ValidateFailed: "$.error.Step",
      ProcessFailed: "$.error.Step",
      OptimizeFailed: "$.error.Step",
      NotifySuccessFailed: "$.error.Step",
    });
    assert.equal(machine.States.NotifySuccess?.Type === "Task" && machine.States.NotifySuccess.End, true);
  });

  it("sets the task timeouts it is given, and none otherwise", () => {
    const timeouts = Object.fromEntries(tasks.map(({ name, state }) => [name, state.TimeoutSeconds]));

    assert.deepEqual(timeouts, { Validate: 40, Resize: undefined, ApplyFilters: undefined, Optimize: 70, NotifySuccess: undefined, NotifyError: undefined });
  });

  it("follows a change of retry policy in the definition, listing each retried error once", () => {
    const retry = { errors: ["TransientError", "Lambda.ServiceException", "Throttled"], intervalSeconds: 1, backoffRate: 1.5, maxRetries: 6, maxDelaySeconds: 10, maxTimeoutRetries: 2 };
    const changed: WorkflowDefinition = { ...workflow, retry };

    const retriers = aslTaskStates(renderAsl(changed, ARNS)).map(({ state }) => state.Retry);

    assert.equal(retriers.length, 6);
    for (const retrier of retriers) {
      assert.deepEqual(retrier, [
        {
          ErrorEquals: ["TransientError", "Lambda.ServiceException", "Throttled", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.ClientExecutionTimeoutException", "Lambda.TooManyRequestsException"],
          IntervalSeconds: 1,
          BackoffRate: 1.5,
          MaxDelaySeconds: 10,
          MaxAttempts: 6,
        },
        { ErrorEquals: ["Sandbox.Timedout", "States.Timeout"], IntervalSeconds: 1, BackoffRate: 1.5, MaxDelaySeconds: 10, MaxAttempts: 2 },
      ]);
    }
  });

  it("retries timeouts as often as other errors when the definition sets no separate count", () => {
    const { maxTimeoutRetries: _unset, ...retry } = workflow.retry;

    const retriers = aslTaskStates(renderAsl({ ...workflow, retry }, ARNS)).map(({ state }) => state.Retry[1]?.MaxAttempts);

    assert.deepEqual([...new Set(retriers)], [3]);
  });

  it("gives each Task retriers of its own, so changing one state leaves the others alone", () => {
    const [first, second] = aslTaskStates(renderAsl(workflow, ARNS));

    first?.state.Retry[0]?.ErrorEquals.push("Custom.Error");

    assert.equal(second?.state.Retry[0]?.ErrorEquals.includes("Custom.Error"), false);
  });

  it("ends with the Parallel when it is the last step", () => {
    const parallelLast: WorkflowDefinition = { ...workflow, steps: [workflow.steps[1]!] };

    const rendered = renderAsl(parallelLast, ARNS);

    assert.equal(rendered.StartAt, "Process");
    assert.deepEqual(rendered.States.Process?.Type === "Parallel" && [rendered.States.Process.End, rendered.States.Process.Next], [true, undefined]);
  });

  it("refuses a workflow without steps", () => {
    assert.throws(() => renderAsl({ ...workflow, steps: [] }, ARNS), /the workflow has no steps/);
  });

  it("refuses to render without an ARN for a handler the workflow calls", () => {
    const { optimize: _omitted, ...partial } = ARNS;

    assert.throws(() => renderAsl(workflow, partial as Record<StepHandler, string>), /no function ARN for handler "optimize"/);
  });
});

describe("ASL run by aws-local-stepfunctions (the local runtime's engine)", () => {
  type Handler = (input: Record<string, unknown>) => unknown;

  /** Runs the machine with local handlers by state name; returns the outcome and every call made. */
  async function run(input: Record<string, unknown>, overrides: Partial<Record<string, Handler>> = {}) {
    const { StateMachine, ExecutionError } = await import("aws-local-stepfunctions");
    const machine = renderAsl(workflow, ARNS);
    const calls: { state: string; input: Record<string, unknown> }[] = [];
    const handlers: Record<string, Handler> = {
      Validate: ({ input: i }) => {
        const start = i as Record<string, unknown>;
        return { jobId: `job-${String(start.sourceKey)}`, sourceKey: start.sourceKey, duplicate: start.sourceKey === "again.jpg" };
      },
      Resize: () => ({ items: [{ name: "thumb", kind: "rendition", key: "j/thumb", width: 320, height: 240 }] }),
      ApplyFilters: () => ({ items: [] }),
      Optimize: () => ({ manifestKey: "photo/manifest.json", outputs: 2, bytesIn: 10, bytesOut: 5 }),
      NotifySuccess: (i) => ({ jobId: i.jobId, status: "succeeded", published: true }),
      NotifyError: (i) => ({ jobId: i.jobId ?? "unknown", status: "failed", published: true }),
      ...overrides,
    };
    const taskResourceLocalHandlers = Object.fromEntries(
      Object.entries(handlers).map(([state, handler]) => [
        state,
        async (stateInput: unknown) => {
          calls.push({ state, input: stateInput as Record<string, unknown> });
          return (await handler!(stateInput as Record<string, unknown>)) as never;
        },
      ]),
    );
    const retryIntervalOverrides = Object.fromEntries(aslTaskStates(machine).map(({ name }) => [name, 0]));
    const execution = new StateMachine(structuredClone(machine) as never).run(input as never, {
      overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
      context: { Execution: { Id: "arn:aws:states:eu-west-1:123456789012:execution:image-pipeline:run-1" } },
    });
    try {
      return { status: "succeeded" as const, output: (await execution.result) as Record<string, unknown>, calls };
    } catch (error) {
      if (!(error instanceof ExecutionError)) throw error;
      const cause = (error as Error & { cause?: Error }).cause;
      return { status: "failed" as const, error: { name: cause?.name, message: cause?.message }, calls };
    }
  }

  const failing = (name: string, message: string) => () => {
    throw Object.assign(new Error(message), { name });
  };

  it("runs Validate, both branches, Optimize and NotifySuccess, nesting each result", async () => {
    const result = await run({ sourceKey: "photo.jpg", sourceEtag: "e1" });

    assert.equal(result.status, "succeeded");
    assert.deepEqual(result.calls.map((c) => c.state).sort(), ["ApplyFilters", "NotifySuccess", "Optimize", "Resize", "Validate"]);
    assert.equal(result.output?.jobId, "job-photo.jpg");
    assert.equal((result.output?.processed as unknown[]).length, 2);
    assert.deepEqual(result.output?.optimized, { manifestKey: "photo/manifest.json", outputs: 2, bytesIn: 10, bytesOut: 5 });
    assert.deepEqual(result.output?.notified, { jobId: "job-photo.jpg", status: "succeeded", published: true });
  });

  it("hands Validate the execution id as the run's identity, next to the start input", async () => {
    const result = await run({ sourceKey: "photo.jpg", sourceEtag: "e1" });

    const validate = result.calls.find((c) => c.state === "Validate");
    assert.deepEqual(validate?.input, { input: { sourceKey: "photo.jpg", sourceEtag: "e1" }, runId: "arn:aws:states:eu-west-1:123456789012:execution:image-pipeline:run-1" });
  });

  it("stops after Validate, successfully, for a duplicate delivery", async () => {
    const result = await run({ sourceKey: "again.jpg" });

    assert.equal(result.status, "succeeded");
    assert.deepEqual(result.calls.map((c) => c.state), ["Validate"]);
  });

  it("retries a TransientError and goes on when the retry succeeds", async () => {
    let attempts = 0;
    const result = await run(
      { sourceKey: "photo.jpg" },
      {
        Optimize: () => {
          attempts += 1;
          if (attempts < 3) throw Object.assign(new Error("THROTTLED: slow down"), { name: "TransientError" });
          return { manifestKey: "m", outputs: 1, bytesIn: 1, bytesOut: 1 };
        },
      },
    );

    assert.equal(result.status, "succeeded");
    assert.equal(attempts, 3);
  });

  it("sends a PermanentError in a branch to NotifyError once, with the original input, and fails the run with it", async () => {
    const result = await run({ sourceKey: "bad.jpg", sourceEtag: "e2" }, { Resize: failing("PermanentError", "CORRUPT_IMAGE: not an image") });

    assert.equal(result.status, "failed");
    assert.equal(result.error?.name, "PermanentError");
    assert.equal(result.calls.filter((c) => c.state === "Resize").length, 1, "no retry of a permanent error");
    const notifyError = result.calls.filter((c) => c.state === "NotifyError");
    assert.equal(notifyError.length, 1);
    // As Validate, NotifyError gets the run's identity next to its input: it only finishes a job its own run owns.
    const { input, runId } = notifyError[0]?.input as { input: { jobId: string; error: { Error: string } }; runId: string };
    assert.equal(runId, "arn:aws:states:eu-west-1:123456789012:execution:image-pipeline:run-1");
    assert.equal(input.jobId, "job-bad.jpg");
    assert.equal(input.error.Error, "PermanentError");
    assert.equal(result.calls.some((c) => c.state === "Optimize"), false);
  });

  it("gives up after the retries of a TransientError and notifies the failure", async () => {
    const result = await run({ sourceKey: "photo.jpg" }, { Validate: failing("TransientError", "STORAGE_UNAVAILABLE: S3 down") });

    assert.equal(result.status, "failed");
    assert.equal(result.error?.name, "TransientError");
    assert.equal(result.calls.filter((c) => c.state === "Validate").length, 4, "the first attempt and 3 retries");
    assert.deepEqual((result.calls.find((c) => c.state === "NotifyError")?.input as { input: { sourceKey: string } }).input.sourceKey, "photo.jpg");
  });

  /** What Lambda hands Step Functions when it stops a function at its timeout. */
  const lambdaTimeout = () =>
    Object.assign(new Error(JSON.stringify({ errorType: "Sandbox.Timedout", errorMessage: "RequestId: 4e1c Error: Task timed out after 30.00 seconds" })), { name: "Sandbox.Timedout" });

  /** NotifyError as deployed turns the caught failure into the recorded code (functions/steps/notify.ts). */
  const recordingNotifyError = (i: Record<string, unknown>) => {
    const { input } = i as { input: { jobId?: string; error: { Error: string; Cause?: string; Step?: string } } };
    return { jobId: input.jobId ?? "unknown", status: "failed", published: true, recorded: failureToError(input.error) };
  };

  it("retries a Lambda timeout (Sandbox.Timedout) once, then NotifyError records TIMEOUT naming the step", async () => {
    let attempts = 0;
    const result = await run(
      { sourceKey: "huge.jpg" },
      {
        Optimize: () => {
          attempts += 1;
          throw lambdaTimeout();
        },
        NotifyError: recordingNotifyError,
      },
    );

    assert.equal(result.status, "failed");
    assert.equal(result.error?.name, "Sandbox.Timedout");
    assert.equal(attempts, 2, "the first attempt and one retry");
    const notifyError = result.calls.filter((c) => c.state === "NotifyError");
    assert.equal(notifyError.length, 1);
    const { input } = notifyError[0]?.input as { input: { error: { Error: string; Step: string } } };
    assert.equal(input.error.Error, "Sandbox.Timedout");
    assert.equal(input.error.Step, "Optimize");
    const recorded = recordingNotifyError(notifyError[0]!.input).recorded;
    assert.equal(recorded.code, "TIMEOUT");
    assert.match(recorded.message, /The Optimize step ran past its timeout; raise steps\.optimize\.timeoutSeconds or timeoutSeconds/);
  });

  it("goes on when a timed-out step succeeds on its retry", async () => {
    let attempts = 0;
    const result = await run(
      { sourceKey: "photo.jpg" },
      {
        Validate: ({ input: i }) => {
          attempts += 1;
          if (attempts === 1) throw lambdaTimeout();
          return { jobId: "job-photo.jpg", sourceKey: (i as Record<string, unknown>).sourceKey, duplicate: false };
        },
      },
    );

    assert.equal(result.status, "succeeded");
    assert.equal(attempts, 2);
  });

  it("never retries an out-of-memory in a branch; NotifyError records OUT_OF_MEMORY naming the block", async () => {
    let attempts = 0;
    const result = await run(
      { sourceKey: "huge.png" },
      {
        Resize: () => {
          attempts += 1;
          throw Object.assign(new Error(JSON.stringify({ errorType: "Runtime.OutOfMemory", errorMessage: "RequestId: 9a2b Error: Runtime exited with error: signal: killed" })), { name: "Runtime.OutOfMemory" });
        },
        NotifyError: recordingNotifyError,
      },
    );

    assert.equal(result.status, "failed");
    assert.equal(attempts, 1);
    const notifyError = result.calls.find((c) => c.state === "NotifyError");
    const recorded = recordingNotifyError(notifyError!.input).recorded;
    assert.equal(recorded.code, "OUT_OF_MEMORY");
    assert.equal(recorded.permanent, true);
    assert.match(recorded.message, /The Process step ran out of memory; raise steps\.resize\.memoryMb or steps\.applyFilters\.memoryMb or memoryMb/);
  });

  it("still fails with the original error when NotifyError itself fails", async () => {
    const result = await run(
      { sourceKey: "photo.jpg" },
      { Optimize: failing("PermanentError", "TOO_LARGE: big"), NotifyError: failing("PermanentError", "CONFIG_INVALID: no topic") },
    );

    assert.equal(result.status, "failed");
    assert.equal(result.error?.name, "PermanentError");
    assert.match(String(result.error?.message), /TOO_LARGE/);
  });
});
