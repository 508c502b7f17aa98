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

/** Runs `work` and records it as one invocation of `name` with its duration (failed ones too: the cloud bills them). */
export async function timedInvocation<T>(meter: Meter | undefined, service: Extract<Service, "lambda" | "functions">, name: string, jobId: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!meter) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    meter.record({ service, op: `invoke:${name}`, durationMs: performance.now() - started, jobId });
  }
}
