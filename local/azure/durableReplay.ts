import { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { ActivityHandler, OrchestrationHandler } from "durable-functions";
import { Orchestrator, type OrchestratorStateResult } from "durable-functions/lib/src/orchestrations/Orchestrator";

/**
 * A small Durable Functions host for one orchestration, outside Azure: it runs
 * the real orchestrator through durable-functions' own replay engine and plays
 * the part of the Durable extension — it appends history events (TaskScheduled,
 * TaskCompleted/TaskFailed, TimerCreated/TimerFired), replays after each one,
 * executes the activities the orchestrator schedules, and owns the retries of
 * `callActivityWithRetry` (a timer after each failure, then the rescheduled
 * task), exactly as the extension does.
 *
 * No emulator or Functions host dependency: the local runtime pairs it with
 * adapters against azurite; tests pair it with fakes.
 */

/** History event types, as numbered by the Durable Task Framework. */
export const HistoryEventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
} as const;

/** One history event, in the shape the Functions host hands the orchestrator. */
export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: Date;
  Name?: string;
  Input?: string;
  Result?: string;
  TaskScheduledId?: number;
  Reason?: string;
  Details?: string;
  FailureDetails?: { ErrorType: string; ErrorMessage: string; StackTrace?: string; IsNonRetriable: boolean };
  TimerId?: number;
  FireAt?: Date;
  /** SubOrchestrationInstanceCreated: the child's instance id. */
  InstanceId?: string;
}

/** Builders for history events; ids of scheduled work are the orchestrator's sequence numbers (0, 1, 2...). */
export const historyEvents = {
  orchestratorStarted: (timestamp = new Date()): HistoryEvent => ({ EventType: HistoryEventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: timestamp }),
  orchestratorCompleted: (timestamp = new Date()): HistoryEvent => ({ EventType: HistoryEventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: timestamp }),
  executionStarted: (name: string, input: unknown, timestamp = new Date()): HistoryEvent => ({ EventType: HistoryEventType.ExecutionStarted, EventId: -1, IsPlayed: false, Timestamp: timestamp, Name: name, Input: serialize(input) }),
  taskScheduled: (id: number, name: string, input?: unknown, timestamp = new Date()): HistoryEvent => ({ EventType: HistoryEventType.TaskScheduled, EventId: id, IsPlayed: false, Timestamp: timestamp, Name: name, Input: serialize(input) }),
  taskCompleted: (taskScheduledId: number, result: unknown, timestamp = new Date()): HistoryEvent => ({ EventType: HistoryEventType.TaskCompleted, EventId: -1, IsPlayed: false, Timestamp: timestamp, TaskScheduledId: taskScheduledId, Result: serialize(result) }),
  taskFailed: (taskScheduledId: number, error: { name?: string; message: string; stack?: string }, timestamp = new Date()): HistoryEvent => ({
    EventType: HistoryEventType.TaskFailed,
    EventId: -1,
    IsPlayed: false,
    Timestamp: timestamp,
    TaskScheduledId: taskScheduledId,
    Reason: error.message,
    Details: error.stack ?? "",
    FailureDetails: { ErrorType: error.name ?? "Error", ErrorMessage: error.message, StackTrace: error.stack, IsNonRetriable: false },
  }),
  subOrchestrationCreated: (id: number, name: string, instanceId: string, input?: unknown, timestamp = new Date()): HistoryEvent => ({ EventType: HistoryEventType.SubOrchestrationInstanceCreated, EventId: id, IsPlayed: false, Timestamp: timestamp, Name: name, InstanceId: instanceId, Input: serialize(input) }),
  subOrchestrationCompleted: (taskScheduledId: number, result: unknown, timestamp = new Date()): HistoryEvent => ({ EventType: HistoryEventType.SubOrchestrationInstanceCompleted, EventId: -1, IsPlayed: false, Timestamp: timestamp, TaskScheduledId: taskScheduledId, Result: serialize(result) }),
  subOrchestrationFailed: (taskScheduledId: number, message: string, timestamp = new Date()): HistoryEvent => ({
    EventType: HistoryEventType.SubOrchestrationInstanceFailed,
    EventId: -1,
    IsPlayed: false,
    Timestamp: timestamp,
    TaskScheduledId: taskScheduledId,
    Reason: message,
    Details: "",
    FailureDetails: { ErrorType: "OrchestrationFailed", ErrorMessage: message, IsNonRetriable: false },
  }),
  timerCreated: (id: number, fireAt: Date, timestamp = new Date()): HistoryEvent => ({ EventType: HistoryEventType.TimerCreated, EventId: id, IsPlayed: false, Timestamp: timestamp, FireAt: fireAt }),
  timerFired: (timerId: number, fireAt: Date, timestamp = new Date()): HistoryEvent => ({ EventType: HistoryEventType.TimerFired, EventId: -1, IsPlayed: false, Timestamp: timestamp, TimerId: timerId, FireAt: fireAt }),
};

function serialize(value: unknown): string {
  // The engine JSON.parses results; `undefined` travels as null, as it does through the host.
  return JSON.stringify(value ?? null);
}

/** Replay schema the extension announces (V3: compound actions, short timers). */
const UPPER_SCHEMA_VERSION = 2;

export interface ReplayStep {
  /** The orchestrator returned (or continued as new). */
  isDone: boolean;
  /** Set when the orchestrator threw: its error message. */
  error?: string;
  output?: unknown;
  /** Every action scheduled so far (cumulative), compound actions (`Task.all`) nested. */
  actions: ReplayAction[];
}

/** An action as the engine emits it: CallActivity(0), CallActivityWithRetry(1), CreateTimer(5), WhenAny(11), WhenAll(12)... */
export interface ReplayAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  /** CallSubOrchestrator: the child's instance id. */
  instanceId?: string;
  retryOptions?: { firstRetryIntervalInMilliseconds: number; maxNumberOfAttempts: number; backoffCoefficient?: number; maxRetryIntervalInMilliseconds?: number };
  fireAt?: Date | string;
  compoundActions?: ReplayAction[];
}

const OUT_OF_PROC_LABEL = "\n\n$OutOfProcData$:";

/**
 * Replays a history once through durable-functions' engine, as the host does
 * for one orchestrator invocation. A thrown orchestrator becomes `{ error }`.
 */
export async function replayOnce(
  orchestratorFn: OrchestrationHandler,
  { history, input, instanceId, isReplaying = false, log }: { history: HistoryEvent[]; input: unknown; instanceId: string; isReplaying?: boolean; log?: (level: string, ...args: unknown[]) => void },
): Promise<ReplayStep> {
  const context = new df.DummyOrchestrationContext("orchestrator", `${instanceId}:${history.length}`, log ?? (() => undefined));
  const trigger = { history, input, instanceId, isReplaying, upperSchemaVersion: UPPER_SCHEMA_VERSION, maximumShortTimerDuration: "6.00:00:00", longRunningTimerIntervalDuration: "3.00:00:00" };
  let state: OrchestratorStateResult;
  try {
    state = await new Orchestrator(orchestratorFn).handle(trigger, context);
  } catch (thrown) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    const at = message.indexOf(OUT_OF_PROC_LABEL);
    if (at < 0) throw thrown;
    // The engine puts the orchestrator's error in the state it appends, not in the message head.
    const failed = JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)) as OrchestratorStateResult;
    return { isDone: false, error: failed.error ?? message.slice(0, at), actions: (failed.actions?.[0] ?? []) as ReplayAction[] };
  }
  return { isDone: state.isDone, output: state.output, actions: (state.actions?.[0] ?? []) as ReplayAction[] };
}

const ActionType = { CallActivity: 0, CallActivityWithRetry: 1, CallSubOrchestrator: 2, ContinueAsNew: 4, CreateTimer: 5, WhenAny: 11, WhenAll: 12 } as const;

/**
 * The leaf actions in scheduling order: what the host turns into TaskScheduled/TimerCreated events.
 * A task yielded again inside a later `Task.any`/`Task.all` is the same action object: listed once.
 */
export function leafActions(actions: ReplayAction[], seen = new Set<ReplayAction>()): ReplayAction[] {
  return actions.flatMap((action) => {
    if (action.compoundActions) return leafActions(action.compoundActions, seen);
    if (seen.has(action)) return [];
    seen.add(action);
    return [action];
  });
}

/** Extra facts about one activity call, for logs and fakes. */
export interface ActivityCall {
  instanceId: string;
  /** The TaskScheduled event id of this attempt. */
  taskId: number;
  /** 1 for the first attempt, 2 for the first retry... */
  attempt: number;
}

export type ActivityExecutor = (name: string, input: unknown, call: ActivityCall) => Promise<unknown>;

/** Runs a sub-orchestration to its end, as the extension does for CallSubOrchestrator. */
export type SubOrchestrationExecutor = (name: string, input: unknown, instanceId: string) => Promise<{ status: OrchestrationStatus; output: unknown; error?: string }>;

export type OrchestrationStatus = "Completed" | "Failed";

export interface RunOrchestrationOptions {
  instanceId: string;
  input: unknown;
  /** Runs one activity; a throw is a failed task (retried when the orchestrator asked for retries). */
  callActivity: ActivityExecutor;
  /** Runs a sub-orchestration the orchestrator calls; without it, calling one is an error of the host. */
  callSubOrchestrator?: SubOrchestrationExecutor;
  /** Called for every history event appended, in order. */
  onEvent?: (event: HistoryEvent) => void;
  /** Waits out a durable timer (retry backoff). Default: really waits; tests pass `async () => {}`. */
  sleep?: (ms: number) => Promise<void>;
  /** The host's clock. Default: `new Date()`; timers move it forward by their delay at least. */
  now?: () => Date;
  /** Orchestrator function name written into ExecutionStarted. */
  name?: string;
  /** Replay logs from the orchestrator (`context.log`/`warn`...). Default: dropped. */
  log?: (level: string, ...args: unknown[]) => void;
  /** Guard against an orchestrator that never finishes. Default 10,000 episodes. */
  maxEpisodes?: number;
}

export interface OrchestrationResult {
  status: OrchestrationStatus;
  /** The orchestrator's return value (Completed), or its error message (Failed), as the Durable status API shows. */
  output: unknown;
  /** Failed only: the error message the orchestrator threw. */
  error?: string;
  /** The history of the last generation (a continue-as-new starts a new one). */
  history: HistoryEvent[];
  /** How often the orchestration continued as new. */
  continuedAsNew: number;
  /** The longest history any generation reached: what continue-as-new keeps bounded. */
  maxHistoryLength: number;
}

interface ScheduledWork {
  name: string;
  input: unknown;
  retry?: ReplayAction["retryOptions"];
  attempt: number;
}

type Completion =
  | { kind: "sub"; taskId: number; status: OrchestrationStatus; output: unknown; error?: string }
  | { kind: "activity"; taskId: number; work: ScheduledWork; ok: true; result: unknown }
  | { kind: "activity"; taskId: number; work: ScheduledWork; ok: false; error: { name: string; message: string; stack?: string } }
  | { kind: "timer"; timerId: number; fireAt: Date; retryOf?: ScheduledWork };

/** Delay before retry `attempt + 1`, as the Durable Task Framework computes it. */
export function retryDelayMs(retry: NonNullable<ReplayAction["retryOptions"]>, failedAttempt: number): number {
  const delay = retry.firstRetryIntervalInMilliseconds * Math.pow(retry.backoffCoefficient ?? 1, failedAttempt - 1);
  return retry.maxRetryIntervalInMilliseconds !== undefined ? Math.min(delay, retry.maxRetryIntervalInMilliseconds) : delay;
}

function toErrorShape(thrown: unknown): { name: string; message: string; stack?: string } {
  if (thrown instanceof Error) return { name: thrown.name, message: thrown.message, stack: thrown.stack };
  return { name: "Error", message: typeof thrown === "string" ? thrown : JSON.stringify(thrown) };
}

/**
 * Runs one orchestration to completion the way the Durable extension does.
 *
 * @example
 * const { status, output } = await runOrchestration(pipelineOrchestrator, {
 *   instanceId: jobId, input: { sourceKey: "cat.jpg" }, callActivity: callActivitiesFrom(activitiesByName),
 * });
 */
export async function runOrchestration(orchestratorFn: OrchestrationHandler, options: RunOrchestrationOptions): Promise<OrchestrationResult> {
  const { instanceId, callActivity, callSubOrchestrator, onEvent, log } = options;
  let input = options.input;
  let continuedAsNew = 0;
  let maxHistoryLength = 0;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxEpisodes = options.maxEpisodes ?? 10_000;
  let floor = 0;
  const clock = () => new Date(Math.max((options.now?.() ?? new Date()).getTime(), floor));

  let history: HistoryEvent[] = [];
  const append = (event: HistoryEvent) => {
    history.push(event);
    maxHistoryLength = Math.max(maxHistoryLength, history.length);
    onEvent?.(event);
  };
  let scheduled: ScheduledWork[] = [];
  const pending = new Map<string, Promise<Completion>>();
  let nextId = 0;

  const startActivity = (work: ScheduledWork) => {
    const taskId = nextId++;
    append(historyEvents.taskScheduled(taskId, work.name, work.input, clock()));
    const call: ActivityCall = { instanceId, taskId, attempt: work.attempt };
    pending.set(
      `task:${taskId}`,
      callActivity(work.name, work.input, call).then(
        (result): Completion => ({ kind: "activity", taskId, work, ok: true, result }),
        (thrown: unknown): Completion => ({ kind: "activity", taskId, work, ok: false, error: toErrorShape(thrown) }),
      ),
    );
  };
  const startSubOrchestration = (name: string, childInput: unknown, childId: string) => {
    if (!callSubOrchestrator) throw new Error(`The orchestrator called the sub-orchestration "${name}", and this host runs none.`);
    const taskId = nextId++;
    append(historyEvents.subOrchestrationCreated(taskId, name, childId, childInput, clock()));
    pending.set(
      `task:${taskId}`,
      callSubOrchestrator(name, childInput, childId).then(
        (result): Completion => ({ kind: "sub", taskId, ...result }),
        (thrown: unknown): Completion => ({ kind: "sub", taskId, status: "Failed", output: undefined, error: toErrorShape(thrown).message }),
      ),
    );
  };
  const startTimer = (delayMs: number, retryOf?: ScheduledWork) => {
    const timerId = nextId++;
    const fireAt = new Date(clock().getTime() + delayMs);
    append(historyEvents.timerCreated(timerId, fireAt, clock()));
    pending.set(`timer:${timerId}`, sleep(delayMs).then((): Completion => ({ kind: "timer", timerId, fireAt, retryOf })));
  };

  append(historyEvents.orchestratorStarted(clock()));
  append(historyEvents.executionStarted(options.name ?? "orchestrator", input, clock()));
  // Host-side retry decision caused by the event of the current episode (the extension's RetryInterceptor).
  let retryDecision: (() => void) | undefined;

  for (let episode = 0; episode < maxEpisodes; episode += 1) {
    const step = await replayOnce(orchestratorFn, { history, input, instanceId, isReplaying: episode > 0, log });
    if (step.error !== undefined) {
      append({ EventType: HistoryEventType.ExecutionFailed, EventId: -1, IsPlayed: false, Timestamp: clock(), Reason: step.error });
      return { status: "Failed", output: step.error, error: step.error, history, continuedAsNew, maxHistoryLength };
    }
    const continueAsNew = step.isDone ? leafActions(step.actions).find((action) => action.actionType === ActionType.ContinueAsNew) : undefined;
    if (continueAsNew) {
      // A new generation: the same instance id, a fresh history holding only the new input.
      continuedAsNew += 1;
      input = typeof continueAsNew.input === "string" ? JSON.parse(continueAsNew.input) : continueAsNew.input;
      history = [];
      scheduled = [];
      pending.clear();
      nextId = 0;
      retryDecision = undefined;
      append(historyEvents.orchestratorStarted(clock()));
      append(historyEvents.executionStarted(options.name ?? "orchestrator", input, clock()));
      continue;
    }
    if (step.isDone) {
      append({ EventType: HistoryEventType.ExecutionCompleted, EventId: -1, IsPlayed: false, Timestamp: clock(), Result: serialize(step.output) });
      return { status: "Completed", output: step.output, history, continuedAsNew, maxHistoryLength };
    }

    retryDecision?.();
    retryDecision = undefined;
    const leaves = leafActions(step.actions);
    leaves.forEach((action, index) => {
      const known = scheduled[index];
      if (known) {
        if (known.name !== (action.functionName ?? "timer")) {
          throw new Error(`Non-deterministic orchestrator: action ${index} was ${known.name} and is now ${action.functionName ?? action.actionType} on replay.`);
        }
        return;
      }
      if (action.actionType === ActionType.CallActivity || action.actionType === ActionType.CallActivityWithRetry) {
        // The engine pre-serializes string inputs; the host hands the activity the decoded value.
        const activityInput = typeof action.input === "string" ? JSON.parse(action.input) : action.input;
        const work: ScheduledWork = { name: action.functionName ?? "", input: activityInput, retry: action.retryOptions, attempt: 1 };
        scheduled.push(work);
        startActivity(work);
      } else if (action.actionType === ActionType.CallSubOrchestrator) {
        const childInput = typeof action.input === "string" ? JSON.parse(action.input) : action.input;
        const name = action.functionName ?? "";
        scheduled.push({ name, input: childInput, attempt: 1 });
        startSubOrchestration(name, childInput, action.instanceId ?? `${instanceId}:${scheduled.length - 1}`);
      } else if (action.actionType === ActionType.CreateTimer) {
        scheduled.push({ name: "timer", input: undefined, attempt: 1 });
        startTimer(Math.max(0, new Date(action.fireAt ?? 0).getTime() - clock().getTime()));
      } else {
        throw new Error(`The replay host runs activities and timers only; the orchestrator scheduled action type ${action.actionType}.`);
      }
    });
    append(historyEvents.orchestratorCompleted(clock()));

    if (pending.size === 0) throw new Error(`Orchestration ${instanceId} is waiting for something this host cannot provide (an external event or entity).`);
    const completion = await Promise.race(pending.values());
    for (const event of history) event.IsPlayed = true;
    append(historyEvents.orchestratorStarted(clock()));

    if (completion.kind === "sub") {
      pending.delete(`task:${completion.taskId}`);
      if (completion.status === "Completed") append(historyEvents.subOrchestrationCompleted(completion.taskId, completion.output, clock()));
      else append(historyEvents.subOrchestrationFailed(completion.taskId, completion.error ?? String(completion.output), clock()));
    } else if (completion.kind === "activity") {
      pending.delete(`task:${completion.taskId}`);
      if (completion.ok) {
        append(historyEvents.taskCompleted(completion.taskId, completion.result, clock()));
      } else {
        append(historyEvents.taskFailed(completion.taskId, completion.error, clock()));
        const { work } = completion;
        // The extension schedules the backoff timer after every failed attempt, the last one included.
        if (work.retry) retryDecision = () => startTimer(retryDelayMs(work.retry!, work.attempt), work);
      }
    } else {
      pending.delete(`timer:${completion.timerId}`);
      floor = Math.max(floor, completion.fireAt.getTime());
      append(historyEvents.timerFired(completion.timerId, completion.fireAt, clock()));
      const work = completion.retryOf;
      if (work?.retry && work.attempt < work.retry.maxNumberOfAttempts) {
        retryDecision = () => {
          work.attempt += 1;
          startActivity(work);
        };
      }
    }
  }
  throw new Error(`Orchestration ${instanceId} did not finish within ${maxEpisodes} episodes.`);
}

/**
 * An executor that runs registered activity handlers in process, by function
 * name (e.g. `activitiesByName` from ./activities).
 */
export function callActivitiesFrom(handlers: Readonly<Record<string, ActivityHandler>>): ActivityExecutor {
  return async (name, input, call) => {
    const handler = handlers[name];
    if (!handler) throw new Error(`No activity named "${name}" is registered.`);
    const context = new InvocationContext({ functionName: name, invocationId: `${call.instanceId}:${call.taskId}` });
    return handler(input, context);
  };
}
