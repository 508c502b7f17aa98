import type { JobRecord, PipelineEvent, Ports } from "../ports";

/**
 * A job's outcome goes out once, and is not lost when the publish fails: the
 * record stays open (JobStore.listOpen) until `markAnnounced`. A retry of the
 * notifying step finds the job already finished by its own first attempt and
 * announces it then; failing that, the stuck-job sweep does (./sweep.ts).
 * A crash between publish and markAnnounced sends the event twice: delivery is
 * at least once, as SNS and Event Grid deliver anyway.
 */

/** What an outcome event is made of: a finished job record, or the finish about to be written. */
export type Outcome = Pick<JobRecord, "jobId" | "sourceKey" | "status" | "updatedAt" | "manifestKey" | "outputs" | "bytesIn" | "bytesOut" | "error">;

/** The outcome event of a finished job record; none for a superseded job (the newer upload's job announces). */
export function outcomeEvent(record: Outcome): PipelineEvent | undefined {
  const time = record.updatedAt;
  if (record.status === "superseded") return undefined;
  if (record.status === "succeeded") {
    const { manifestKey, outputs, bytesIn, bytesOut } = record;
    return { type: "image.processed", jobId: record.jobId, sourceKey: record.sourceKey, time, manifestKey, outputs, bytesIn, bytesOut };
  }
  return { type: "image.failed", jobId: record.jobId, sourceKey: record.sourceKey, time, error: record.error };
}

/** Publishes the finished job's outcome (a superseded job has none), then closes it. */
export async function announce(ports: Ports, record: Outcome): Promise<void> {
  const event = outcomeEvent(record);
  if (event) await ports.notifier.publish(event);
  await ports.jobs.markAnnounced(record.jobId);
}

/**
 * Finishes the job (conditionally, see JobStore.finish) and announces it.
 * When the job is already finished, announces it only if it is this very
 * outcome, not yet announced, and (given a runId) this run's: a retry after a
 * failed publish.
 *
 * @returns whether this call published the outcome
 */
export async function finishAndAnnounce(ports: Ports, record: Omit<JobRecord, "createdAt"> & { status: "succeeded" | "failed" | "superseded" }, runId?: string): Promise<boolean> {
  const { jobId, ...patch } = record;
  if (await ports.jobs.finish(jobId, patch, runId)) {
    await announce(ports, record);
    return true;
  }
  const existing = await ports.jobs.get(jobId);
  const ownPendingOutcome =
    existing !== undefined &&
    existing.status === record.status &&
    existing.announcedAt === undefined &&
    (runId === undefined || existing.runId === undefined || existing.runId === runId);
  if (!ownPendingOutcome) return false;
  await announce(ports, existing);
  return true;
}
