import type * as pulumi from "@pulumi/pulumi";

/** What every cloud's pipeline component exposes; index.ts exports exactly these. */
export interface ImagePipelineOutputs {
  /** Where uploads go: each new object starts a job. */
  readonly uploadsStore: pulumi.Output<string>;
  /** Where renditions and manifests land. */
  readonly renditionsStore: pulumi.Output<string>;
  /** The workflow: the state machine ARN, or the Function App hosting the orchestrator. */
  readonly workflowId: pulumi.Output<string>;
  readonly jobsTable: pulumi.Output<string>;
  readonly notificationsTopic: pulumi.Output<string>;
  /** A ready-to-run upload command. */
  readonly uploadCommand: pulumi.Output<string>;
  /** Where upload events that could not start a run are kept: the SQS queue URL, or the dead-letters container URL. */
  readonly deadLetters: pulumi.Output<string>;
  /**
   * What the `uploaders` config grants: the IAM role ARN they assume to upload (AWS; "" when none are
   * listed), or the uploads container's resource id their role assignments are scoped to (Azure).
   */
  readonly uploadersGrant: pulumi.Output<string>;
  /** The HTTP API's base URL; "" while the stack has no API (#16). */
  readonly apiUrl: pulumi.Output<string>;
  /** The CDN URL renditions are served from; "" without a CDN (the API signs storage URLs then). */
  readonly renditionsUrl: pulumi.Output<string>;
  /** What starts a reprocess: the reprocess state machine's ARN (AWS), or the StartReprocess function's URL, without its key (Azure). */
  readonly reprocessStarter: pulumi.Output<string>;
}
