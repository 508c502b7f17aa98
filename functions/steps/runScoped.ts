/**
 * Steps marked `receivesRunId` in the workflow definition get the run's identity
 * next to their input, the same way on both engines: Step Functions through
 * `Parameters: { "input.$": "$", "runId.$": "$$.Execution.Id" }`, the Durable
 * orchestrator with its instance id. With it, a step can tell its own run's
 * retry from another run started by a duplicate delivery of the same upload.
 */
export interface RunScopedInput<T> {
  input: T;
  runId: string;
}

/**
 * The step's input with `runId` set from the wrapper; an unwrapped input (a
 * direct call, a test, a definition without `receivesRunId`) is returned as is.
 */
export function unwrapRunScoped<T extends object>(event: T | RunScopedInput<T>): T & { runId?: string } {
  if (event && typeof event === "object" && "input" in event && "runId" in event && event.input && typeof event.input === "object") {
    const scoped = event as RunScopedInput<T>;
    return { ...scoped.input, runId: scoped.runId };
  }
  return event as T;
}
