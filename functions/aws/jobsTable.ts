/**
 * The jobs table's layout, shared by the adapter (functions/aws/adapters.ts),
 * the Pulumi component that creates the table and the local provisioning.
 * No SDK import: the Pulumi program loads this file too.
 *
 * - key `jobId` (string);
 * - TTL attribute `expiresAt` (epoch seconds);
 * - sparse index of open jobs, those whose outcome has not been announced yet
 *   (still running, or finished while the event failed to go out): `openShard`
 *   is written by create and finish and removed once the event is out, so the
 *   index holds only those, oldest first (sort key `createdAt`), with what the
 *   stuck-job sweep needs. One partition: fine up to about a thousand job
 *   starts and finishes per second.
 */
export const JOBS_TABLE_KEY = "jobId";
export const JOBS_TABLE_TTL_ATTRIBUTE = "expiresAt";

export const OPEN_JOBS_INDEX = {
  name: "open-jobs",
  partitionKey: "openShard",
  sortKey: "createdAt",
  /** The one value of `openShard`. */
  shard: "open",
  projected: ["sourceKey", "sourceEtag", "runId", "status", "updatedAt"],
} as const;
