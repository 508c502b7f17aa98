/**
 * The jobs table's layout, shared by the adapter (functions/aws/adapters.ts),
 * the Pulumi component that creates the table and the local provisioning.
 * No SDK import: the Pulumi program loads this file too.
 *
 * - key `jobId` (string);
 * - TTL attribute `expiresAt` (epoch seconds);
 * - sparse index of running jobs: `runningShard` is written on create while the
 *   job runs and removed by finish, so the index holds only unfinished jobs,
 *   oldest first (sort key `createdAt`), with what a failure event names. One
 *   partition: fine up to about a thousand job starts and finishes per second.
 */
export const JOBS_TABLE_KEY = "jobId";
export const JOBS_TABLE_TTL_ATTRIBUTE = "expiresAt";

export const RUNNING_JOBS_INDEX = {
  name: "running-jobs",
  partitionKey: "runningShard",
  sortKey: "createdAt",
  /** The one value of `runningShard`. */
  shard: "running",
  projected: ["sourceKey", "sourceEtag", "runId"],
} as const;
