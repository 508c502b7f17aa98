import type { Notifier } from "../../functions/ports";
import type { Meter, Service } from "./meter";

/**
 * The small pieces the flavours use to meter a run (local/<cloud>/flavour.ts):
 * a notifier that counts publishes, and a timer for handler invocations.
 */

/** Counts each publish (SNS / Event Grid) against its job, then passes it on. */
export function countingNotifier(notifier: Notifier, meter: Meter, service: Extract<Service, "sns" | "eventgrid">): Notifier {
  return {
    async publish(event) {
      await notifier.publish(event);
      meter.record({ service, op: "Publish", jobId: event.jobId });
    },
  };
}

/** The process's cumulative CPU time (user + system), in µs. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** A timer for one invocation: `stop()` gives its duration and its interval (wall clock and process CPU at both ends). */
export function invocationTimer(): { stop: () => { durationMs: number; interval: { startMs: number; endMs: number; cpuStartUs: number; cpuEndUs: number } } } {
  const startMs = performance.now();
  const cpuStartUs = cpuMicros();
  return {
    stop() {
      const endMs = performance.now();
      return { durationMs: endMs - startMs, interval: { startMs, endMs, cpuStartUs, cpuEndUs: cpuMicros() } };
    },
  };
}

/** Runs `work` and records it as one invocation of `name` with its duration and interval (failed ones too: the cloud bills them). */
export async function timedInvocation<T>(meter: Meter | undefined, service: Extract<Service, "lambda" | "functions">, name: string, jobId: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!meter) return work();
  const timer = invocationTimer();
  try {
    return await work();
  } finally {
    meter.record({ service, op: `invoke:${name}`, jobId, ...timer.stop() });
  }
}
