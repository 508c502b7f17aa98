import * as assert from "node:assert/strict";
import { workflow } from "../../../functions/workflow";
import { FAILURE_KEY, settleActivity } from "../../../functions/azure/failure";
import { ACTIVITY_NAMES, ORCHESTRATOR_NAME } from "../../../functions/azure/contract";
import { PipelineRunFailed, pipelineOrchestrator, retryOptionsFor } from "../../../functions/azure/orchestrator";
import {
  HistoryEventType,
  historyEvents as h,
  leafActions,
  replayOnce,
  runOrchestration,
  type ActivityCall,
  type HistoryEvent,
  type ReplayAction,
} from "../../../local/azure/durableReplay";

// The real orchestrator, fed histories through durable-functions' own replay
// engine (first by hand, event by event, then by the replay host).

const instanceId = "0123456789abcdef0123456789abcdef";
const start = { sourceKey: "photos/cat.jpg", sourceEtag: "0x8DC1", jobId: instanceId };
const validated = { jobId: instanceId, sourceKey: "photos/cat.jpg", sourceEtag: "0x8DC1", duplicate: false, image: { format: "jpeg", width: 800, height: 600, hasAlpha: false, frames: 1, bytes: 1234 } };
const resized = { items: [{ name: "thumb", kind: "rendition", key: `${instanceId}/rendition-thumb.v`, width: 320, height: 240 }] };
const filtered = { items: [], placeholder: { dataUri: "data:image/webp;base64,AA", width: 16, height: 12, bytes: 40 } };
const optimized = { manifestKey: "photos/cat/manifest.json", outputs: 2, bytesIn: 1234, bytesOut: 600 };
const notified = { jobId: instanceId, status: "succeeded", published: true };

type Names = Array<string | undefined | Names>;
const names = (actions: ReplayAction[]): Names => actions.map((action) => (action.compoundActions ? names(action.compoundActions) : action.functionName));

function started(): HistoryEvent[] {
  return [h.orchestratorStarted(), h.executionStarted(ORCHESTRATOR_NAME, start)];
}

async function replay(history: HistoryEvent[]) {
  return replayOnce(pipelineOrchestrator, { history, input: start, instanceId });
}

/** A transient failure as runStep throws it. */
function transient(message = "STORAGE_UNAVAILABLE: Blob Storage did not answer; the step will be retried.") {
  return Object.assign(new Error(message), { name: "TransientError", code: message.split(":")[0], permanent: false });
}

/** A permanent failure as runStep throws it. */
function permanent(message = "CORRUPT_IMAGE: The upload is not a readable image.") {
  return Object.assign(new Error(message), { name: "PermanentError", code: message.split(":")[0], permanent: true });
}

describe("Azure orchestrator (durable-functions replay engine)", () => {
  describe("fed histories by hand", () => {
    it("schedules Validate first, with the workflow's retry policy and the instance id as runId", async () => {
      const step = await replay(started());

      assert.equal(step.isDone, false);
      assert.deepEqual(names(step.actions), [ACTIVITY_NAMES.validate]);
      const [validate] = step.actions;
      assert.equal(validate.actionType, 1, "CallActivityWithRetry");
      // The shape the ASL's Parameters give the Lambda: the state under `input`, the run's identity next to it.
      assert.deepEqual(validate.input, { input: start, runId: instanceId });
      assert.deepEqual(
        { ...validate.retryOptions },
        { firstRetryIntervalInMilliseconds: 2000, maxNumberOfAttempts: 4, backoffCoefficient: 2, maxRetryIntervalInMilliseconds: 30000 },
      );
    });

    it("schedules Resize and ApplyFilters together after Validate, then Optimize, then NotifySuccess", async () => {
      const history = [...started(), h.taskScheduled(0, "Validate"), h.orchestratorCompleted(), h.orchestratorStarted(), h.taskCompleted(0, validated)];
      const afterValidate = await replay(history);
      assert.deepEqual(names(afterValidate.actions), ["Validate", ["Resize", "ApplyFilters"]]);
      assert.equal(afterValidate.actions[1].actionType, 12, "WhenAll");
      for (const branch of afterValidate.actions[1].compoundActions ?? []) assert.deepEqual(branch.input, validated);

      // Branches finish out of order; results still land in branch order.
      history.push(h.taskScheduled(1, "Resize"), h.taskScheduled(2, "ApplyFilters"), h.orchestratorCompleted(), h.orchestratorStarted(), h.taskCompleted(2, filtered));
      assert.deepEqual(names((await replay(history)).actions), ["Validate", ["Resize", "ApplyFilters"]], "waits for both branches");
      history.push(h.orchestratorCompleted(), h.orchestratorStarted(), h.taskCompleted(1, resized));
      const afterProcess = await replay(history);
      assert.deepEqual(names(afterProcess.actions), ["Validate", ["Resize", "ApplyFilters"], "Optimize"]);
      assert.deepEqual(afterProcess.actions[2].input, { ...validated, processed: [resized, filtered] });

      history.push(h.taskScheduled(3, "Optimize"), h.orchestratorCompleted(), h.orchestratorStarted(), h.taskCompleted(3, optimized));
      const afterOptimize = await replay(history);
      assert.deepEqual(names(afterOptimize.actions).at(-1), "NotifySuccess");
      assert.deepEqual(afterOptimize.actions[3].input, { ...validated, processed: [resized, filtered], optimized });

      history.push(h.taskScheduled(4, "NotifySuccess"), h.orchestratorCompleted(), h.orchestratorStarted(), h.taskCompleted(4, notified));
      const done = await replay(history);
      assert.equal(done.isDone, true);
      assert.deepEqual(done.output, { ...validated, processed: [resized, filtered], optimized, notified });
    });

    it("stops after Validate when the upload event is a duplicate", async () => {
      const duplicate = { jobId: instanceId, sourceKey: start.sourceKey, duplicate: true };
      const step = await replay([...started(), h.taskScheduled(0, "Validate"), h.orchestratorCompleted(), h.orchestratorStarted(), h.taskCompleted(0, duplicate)]);

      assert.equal(step.isDone, true);
      assert.deepEqual(names(step.actions), ["Validate"]);
      assert.deepEqual(step.output, duplicate);
    });

    it("waits on the host's retry timer after a transient failure, then on the rescheduled task", async () => {
      const history = [...started(), h.taskScheduled(0, "Validate"), h.orchestratorCompleted(), h.orchestratorStarted(), h.taskFailed(0, transient())];
      const failedOnce = await replay(history);
      assert.equal(failedOnce.isDone, false);
      assert.equal(failedOnce.error, undefined, "a transient failure is not the end");
      assert.deepEqual(names(failedOnce.actions), ["Validate"], "the retry is the host's: no new action");

      const fireAt = new Date(Date.now() + 2000);
      history.push(h.timerCreated(1, fireAt), h.orchestratorCompleted(), h.orchestratorStarted(), h.timerFired(1, fireAt));
      assert.deepEqual(names((await replay(history)).actions), ["Validate"]);

      history.push(h.taskScheduled(2, "Validate"), h.orchestratorCompleted(), h.orchestratorStarted(), h.taskCompleted(2, validated));
      assert.deepEqual(names((await replay(history)).actions), ["Validate", ["Resize", "ApplyFilters"]]);
    });

    it("routes a permanent failure envelope straight to NotifyError, then ends failed", async () => {
      const envelope = { [FAILURE_KEY]: { Error: "PermanentError", Cause: "CORRUPT_IMAGE: The upload is not a readable image." } };
      const history = [...started(), h.taskScheduled(0, "Validate"), h.orchestratorCompleted(), h.orchestratorStarted(), h.taskCompleted(0, envelope)];
      const step = await replay(history);

      assert.deepEqual(names(step.actions), ["Validate", "NotifyError"]);
      assert.deepEqual(step.actions[1].input, { input: { ...start, error: envelope[FAILURE_KEY] }, runId: instanceId });

      history.push(h.taskScheduled(1, "NotifyError"), h.orchestratorCompleted(), h.orchestratorStarted(), h.taskCompleted(1, { jobId: instanceId, status: "failed", published: true }));
      const done = await replay(history);
      assert.equal(done.isDone, false);
      assert.match(done.error ?? "", /^PermanentError: CORRUPT_IMAGE: The upload is not a readable image\.$/);
    });
  });

  describe("driven by the replay host", () => {
    type Script = Partial<Record<string, (input: unknown, call: ActivityCall) => unknown>>;

    function activities(script: Script = {}) {
      const calls: Array<{ name: string; attempt: number; input: unknown }> = [];
      const results: Record<string, unknown> = { Validate: validated, Resize: resized, ApplyFilters: filtered, Optimize: optimized, NotifySuccess: notified, NotifyError: { jobId: instanceId, status: "failed", published: true } };
      const callActivity = (name: string, input: unknown, call: ActivityCall) => {
        calls.push({ name, attempt: call.attempt, input });
        // The activity side of the failure contract, as functions/azure/activities.ts applies it.
        return settleActivity(async () => (script[name] ? script[name](input, call) : results[name]));
      };
      return { calls, callActivity };
    }

    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    beforeEach(() => {
      sleeps.length = 0;
    });

    it("runs the steps in the defined order and parallel shape, and completes", async () => {
      const { calls, callActivity } = activities();

      const result = await runOrchestration(pipelineOrchestrator, { instanceId, input: start, callActivity, sleep, name: ORCHESTRATOR_NAME });

      assert.equal(result.status, "Completed");
      assert.deepEqual(calls.map((c) => c.name), ["Validate", "Resize", "ApplyFilters", "Optimize", "NotifySuccess"]);
      const scheduled = result.history.filter((e) => e.EventType === HistoryEventType.TaskScheduled).map((e) => [e.EventId, e.Name]);
      assert.deepEqual(scheduled, [[0, "Validate"], [1, "Resize"], [2, "ApplyFilters"], [3, "Optimize"], [4, "NotifySuccess"]]);
      // Resize and ApplyFilters are scheduled in the same episode: both before either completes.
      const order = result.history.map((e) => `${e.EventType}:${e.EventId}:${e.TaskScheduledId ?? ""}`);
      assert.ok(order.indexOf(`${HistoryEventType.TaskScheduled}:2:`) < order.indexOf(`${HistoryEventType.TaskCompleted}:-1:1`));
      assert.deepEqual((result.output as { notified: unknown }).notified, notified);
    });

    it("ends after Validate for a duplicate event", async () => {
      const { calls, callActivity } = activities({ Validate: () => ({ ...validated, duplicate: true }) });

      const result = await runOrchestration(pipelineOrchestrator, { instanceId, input: start, callActivity, sleep });

      assert.equal(result.status, "Completed");
      assert.deepEqual(calls.map((c) => c.name), ["Validate"]);
    });

    it("retries a transient failure after a timer and then succeeds", async () => {
      const { calls, callActivity } = activities({
        Resize: (_input, call) => {
          if (call.attempt === 1) throw transient();
          return resized;
        },
      });

      const result = await runOrchestration(pipelineOrchestrator, { instanceId, input: start, callActivity, sleep });

      assert.equal(result.status, "Completed");
      assert.deepEqual(calls.filter((c) => c.name === "Resize").map((c) => c.attempt), [1, 2]);
      assert.deepEqual(sleeps, [2000], "first retry after intervalSeconds");
      const kinds = result.history.map((e) => e.EventType);
      const failedAt = kinds.indexOf(HistoryEventType.TaskFailed);
      assert.ok(failedAt > 0);
      assert.ok(kinds.indexOf(HistoryEventType.TimerCreated, failedAt) < kinds.indexOf(HistoryEventType.TimerFired, failedAt));
      const rescheduled = result.history.filter((e) => e.EventType === HistoryEventType.TaskScheduled && e.Name === "Resize");
      assert.equal(rescheduled.length, 2);
      assert.deepEqual((result.output as { processed: unknown }).processed, [resized, filtered]);
    });

    it("gives up after the policy's attempts with exponential backoff and notifies the typed error", async () => {
      const { calls, callActivity } = activities({
        Optimize: () => {
          throw transient("THROTTLED: Blob Storage throttled the request; the step will be retried.");
        },
      });

      const result = await runOrchestration(pipelineOrchestrator, { instanceId, input: start, callActivity, sleep });

      assert.equal(result.status, "Failed");
      assert.equal(calls.filter((c) => c.name === "Optimize").length, workflow.retry.maxRetries + 1);
      assert.deepEqual(sleeps, [2000, 4000, 8000, 16000], "the extension times a backoff after the last attempt too");
      const notifyError = calls.find((c) => c.name === "NotifyError");
      assert.deepEqual((notifyError?.input as { input: { error: unknown } }).input.error, { Error: "TransientError", Cause: "THROTTLED: Blob Storage throttled the request; the step will be retried.", Step: "Optimize" });
      assert.equal(calls.at(-1)?.name, "NotifyError");
      assert.match(String(result.output), /^TransientError: THROTTLED: /);
    });

    it("routes a permanent failure to NotifyError without retrying it", async () => {
      const { calls, callActivity } = activities({
        ApplyFilters: () => {
          throw permanent();
        },
      });

      const result = await runOrchestration(pipelineOrchestrator, { instanceId, input: start, callActivity, sleep });

      assert.equal(result.status, "Failed");
      assert.equal(calls.filter((c) => c.name === "ApplyFilters").length, 1);
      assert.deepEqual(sleeps, []);
      assert.ok(!calls.some((c) => c.name === "Optimize"));
      const notifyError = calls.find((c) => c.name === "NotifyError");
      assert.deepEqual(notifyError?.input, { input: { ...validated, error: { Error: "PermanentError", Cause: "CORRUPT_IMAGE: The upload is not a readable image." } }, runId: instanceId });
      assert.match(result.error ?? "", /^PermanentError: CORRUPT_IMAGE/);
    });

    it("replays deterministically whatever order the parallel branches and retries finish in", async () => {
      for (let seed = 1; seed <= 8; seed += 1) {
        let random = seed;
        const jitter = () => {
          random = (random * 16807) % 2147483647;
          return random % 7;
        };
        const later = <T>(value: () => T) => new Promise<T>((resolve, reject) => setTimeout(() => {
          try {
            resolve(value());
          } catch (error) {
            reject(error);
          }
        }, jitter()));
        const { calls, callActivity } = activities({
          Resize: (_input, call) => later(() => {
            if (call.attempt < 3) throw transient();
            return resized;
          }),
          ApplyFilters: (_input, call) => later(() => {
            if (call.attempt < 2 && seed % 2 === 0) throw transient();
            return filtered;
          }),
        });

        const result = await runOrchestration(pipelineOrchestrator, { instanceId, input: start, callActivity, sleep: () => later(() => undefined) });

        assert.equal(result.status, "Completed", `seed ${seed}`);
        assert.deepEqual((result.output as { processed: unknown }).processed, [resized, filtered], `seed ${seed}`);
        assert.equal(calls.filter((c) => c.name === "Resize").length, 3, `seed ${seed}`);
      }
    });

    it("still ends with the step's failure when NotifyError itself fails", async () => {
      const { callActivity } = activities({
        Validate: () => {
          throw permanent("TOO_LARGE: The upload is 60000000 bytes, over the limit.");
        },
        NotifyError: () => {
          throw transient();
        },
      });

      const result = await runOrchestration(pipelineOrchestrator, { instanceId, input: start, callActivity, sleep });

      assert.equal(result.status, "Failed");
      assert.equal(result.error, new PipelineRunFailed({ Error: "PermanentError", Cause: "TOO_LARGE: The upload is 60000000 bytes, over the limit." }).message);
    });
  });

  it("derives Durable retry options from the workflow's retry policy", () => {
    const options = retryOptionsFor({ errors: ["TransientError"], intervalSeconds: 5, backoffRate: 1.5, maxRetries: 2, maxDelaySeconds: 60 });

    assert.equal(options.firstRetryIntervalInMilliseconds, 5000);
    assert.equal(options.maxNumberOfAttempts, 3);
    assert.equal(options.backoffCoefficient, 1.5);
    assert.equal(options.maxRetryIntervalInMilliseconds, 60000);
  });

  it("flattens compound actions in scheduling order", () => {
    const leaves = leafActions([{ actionType: 1, functionName: "A" }, { actionType: 12, compoundActions: [{ actionType: 1, functionName: "B" }, { actionType: 1, functionName: "C" }] }]);

    assert.deepEqual(leaves.map((a) => a.functionName), ["A", "B", "C"]);
  });
});
