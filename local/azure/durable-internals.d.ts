// durable-functions keeps its replay engine out of the public types; the replay
// driver (./durableReplay.ts) drives it the way the Functions host does, so it declares
// the one class it uses here.
declare module "durable-functions/lib/src/orchestrations/Orchestrator" {
  import type { InvocationContext } from "@azure/functions";
  import type { OrchestrationHandler } from "durable-functions";

  export interface OrchestratorBinding {
    history: unknown[];
    input: unknown;
    instanceId: string;
    isReplaying: boolean;
    upperSchemaVersion: number;
    maximumShortTimerDuration?: string;
    longRunningTimerIntervalDuration?: string;
  }

  export interface OrchestratorStateResult {
    isDone: boolean;
    /** Schema ≥ V2: `[[...every action scheduled so far]]`, compound actions nested. */
    actions: unknown[][];
    output?: unknown;
    error?: string;
    customStatus?: unknown;
    schemaVersion: number;
  }

  export class Orchestrator {
    constructor(fn: OrchestrationHandler);
    /** @throws an OrchestrationFailureError (`message\n\n$OutOfProcData$:{state json}`) when the orchestrator threw. */
    handle(trigger: OrchestratorBinding, context: InvocationContext): Promise<OrchestratorStateResult>;
  }
}
