import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { UNSCOPED_ACTIONS, type PolicyDocument } from "./iam";
import { stateMachineLogsAndRole } from "./stateMachine";

/**
 * The deployed reprocess workflow: a second (STANDARD) state machine whose
 * Distributed Map reads the uploads bucket's listing (ItemReader on
 * ListObjectsV2), hands batches of keys to EXPRESS child executions, and each
 * child starts one pipeline execution per key with the reprocess's generation
 * (its execution name), so every image gets a new job in this reprocess.
 *
 * Start it with `{ "prefix": "photos/" }` (or `{}` for every upload).
 *
 * Why fire-and-forget: the children are EXPRESS (billed per request and
 * duration, not per transition), and Express workflows only support the
 * Request Response pattern, never `.sync` (https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html);
 * a STANDARD child waiting with `.sync:2` would bill ~4 transitions per image on
 * top of the pipeline's own. So MaxConcurrency bounds how fast pipelines are
 * started, the pipeline's job records say how each ended, and
 * `npm run reprocess -- --failed-only` retries the failed ones.
 */

/** The reprocess settings (config `reprocess`). */
export interface ReprocessSettings {
  /** Child executions running at once (Distributed Map MaxConcurrency). */
  maxConcurrency: number;
  /** Share of items that may fail before the whole map run fails (ToleratedFailurePercentage). */
  toleratedFailurePercent: number;
  /** Keys per child execution (ItemBatcher MaxItemsPerBatch). */
  batchSize: number;
}

export interface ReprocessAslRefs {
  uploadsBucketName: string;
  pipelineStateMachineArn: string;
}

/** The state names, for tests and for reading the console. */
export const REPROCESS_STATES = {
  choosePrefix: "ChoosePrefix",
  everyUpload: "EveryUpload",
  map: "ReprocessUploads",
  startBatch: "StartBatch",
  skipFolders: "SkipFolderMarkers",
  skip: "Skip",
  start: "StartPipeline",
} as const;

/** The Distributed Map refuses more than 10,000 parallel child executions: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html */
export const MAX_DISTRIBUTED_CONCURRENCY = 10_000;

/** Pipelines one child starts at once: a child is short and EXPRESS; StartExecution's own throttling is retried. */
const STARTS_PER_CHILD = 10;

/**
 * The reprocess state machine's ASL. Pure: tests validate it with asl-validator.
 *
 * @example renderReprocessAsl({ uploadsBucketName: "uploads", pipelineStateMachineArn: "arn:aws:states:eu-west-1:1:stateMachine:p" }, { maxConcurrency: 100, toleratedFailurePercent: 5, batchSize: 50 })
 */
export function renderReprocessAsl(refs: ReprocessAslRefs, settings: ReprocessSettings): Record<string, unknown> {
  const s = REPROCESS_STATES;
  return {
    Comment: "Reprocess every upload under a prefix: the uploads bucket's listing, batched, each key started as a pipeline run of this reprocess's generation.",
    StartAt: s.choosePrefix,
    States: {
      [s.choosePrefix]: {
        Type: "Choice",
        Choices: [{ Variable: "$.prefix", IsPresent: true, Next: s.map }],
        Default: s.everyUpload,
      },
      [s.everyUpload]: { Type: "Pass", Parameters: { prefix: "" }, Next: s.map },
      [s.map]: {
        Type: "Map",
        Label: s.map,
        // Items are ListObjectsV2's Contents entries (Key, Etag, LastModified, Size, StorageClass): https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
        ItemReader: { Resource: "arn:aws:states:::s3:listObjectsV2", Parameters: { Bucket: refs.uploadsBucketName, "Prefix.$": "$.prefix" } },
        // A child's input is { BatchInput, Items }: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html
        ItemBatcher: { MaxItemsPerBatch: settings.batchSize, BatchInput: { "generation.$": "$$.Execution.Name" } },
        MaxConcurrency: settings.maxConcurrency,
        ToleratedFailurePercentage: settings.toleratedFailurePercent,
        ItemProcessor: {
          ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "EXPRESS" },
          StartAt: s.startBatch,
          States: {
            [s.startBatch]: {
              Type: "Map",
              ItemsPath: "$.Items",
              ItemSelector: { "sourceKey.$": "$$.Map.Item.Value.Key", "sourceEtag.$": "$$.Map.Item.Value.Etag", "generation.$": "$.BatchInput.generation" },
              MaxConcurrency: STARTS_PER_CHILD,
              ItemProcessor: {
                ProcessorConfig: { Mode: "INLINE" },
                StartAt: s.skipFolders,
                States: {
                  // The console's "folders" are zero-byte keys ending in "/": no upload to render.
                  [s.skipFolders]: { Type: "Choice", Choices: [{ Variable: "$.sourceKey", StringMatches: "*/", Next: s.skip }], Default: s.start },
                  [s.skip]: { Type: "Succeed" },
                  [s.start]: {
                    Type: "Task",
                    // Request Response: returns once the execution is started.
                    Resource: "arn:aws:states:::states:startExecution",
                    Parameters: { StateMachineArn: refs.pipelineStateMachineArn, "Input.$": "$" },
                    // StartExecution is throttled per account and region (a token bucket): back off and try again: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
                    Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 6, MaxDelaySeconds: 30, JitterStrategy: "FULL" }],
                    ResultPath: null,
                    End: true,
                  },
                },
              },
              ResultPath: null,
              End: true,
            },
          },
        },
        ResultPath: null,
        End: true,
      },
    },
  };
}

export interface ReprocessPolicyRefs {
  reprocessStateMachineArn: string;
  pipelineStateMachineArn: string;
  uploadsBucketArn: string;
}

/**
 * What the reprocess machine's role may do: run its own Distributed Map's child
 * executions (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html),
 * list the uploads bucket (ItemReader), start the pipeline. Logs and traces: {@link reprocessLogPolicy}.
 */
export function reprocessPolicy(refs: ReprocessPolicyRefs): PolicyDocument {
  const executions = `${refs.reprocessStateMachineArn.replace(":stateMachine:", ":execution:")}:*`;
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "RunMapChildren", Effect: "Allow", Action: ["states:StartExecution"], Resource: [refs.reprocessStateMachineArn] },
      { Sid: "WatchMapChildren", Effect: "Allow", Action: ["states:DescribeExecution", "states:StopExecution"], Resource: [executions] },
      // ListObjectsV2 is authorised by s3:ListBucket on the bucket: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
      { Sid: "ListUploads", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [refs.uploadsBucketArn] },
      { Sid: "StartPipeline", Effect: "Allow", Action: ["states:StartExecution"], Resource: [refs.pipelineStateMachineArn] },
    ],
  };
}

/** Log delivery and traces: actions IAM does not scope to a resource. */
export function reprocessLogPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "DeliverLogs", Effect: "Allow", Action: [...UNSCOPED_ACTIONS.logDelivery], Resource: ["*"] },
      { Sid: "WriteTraces", Effect: "Allow", Action: [...UNSCOPED_ACTIONS.xray], Resource: ["*"] },
    ],
  };
}

export interface ReprocessWorkflowArgs {
  uploadsBucketName: pulumi.Input<string>;
  uploadsBucketArn: pulumi.Input<string>;
  pipelineStateMachineArn: pulumi.Input<string>;
  settings: ReprocessSettings;
  logRetentionDays: number;
  kmsKeyArn?: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

/** The reprocess state machine, its role and its log group. */
export class ReprocessWorkflow extends pulumi.ComponentResource {
  readonly arn: pulumi.Output<string>;
  readonly definition: pulumi.Output<string>;

  constructor(name: string, args: ReprocessWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:ReprocessWorkflow", name, {}, opts);
    const { uploadsBucketName, uploadsBucketArn, pipelineStateMachineArn, settings, tags, region } = args;
    const regional = region ? { region } : {};

    const { logGroup, role } = stateMachineLogsAndRole(this, name, args);
    // Step Functions checks log delivery when the machine is created: that part of the policy comes first.
    const logPolicy = new aws.iam.RolePolicy(`${name}-log-policy`, { role: role.id, policy: JSON.stringify(reprocessLogPolicy()) }, { parent: this });
    this.definition = pulumi.all([uploadsBucketName, pipelineStateMachineArn]).apply(([bucket, pipeline]) =>
      JSON.stringify(renderReprocessAsl({ uploadsBucketName: bucket, pipelineStateMachineArn: pipeline }, settings), null, 2),
    );
    const machine = new aws.sfn.StateMachine(
      name,
      {
        // A Distributed Map runs in a STANDARD parent; its children are EXPRESS (ProcessorConfig).
        type: "STANDARD",
        roleArn: role.arn,
        definition: this.definition,
        loggingConfiguration: { logDestination: pulumi.interpolate`${logGroup.arn}:*`, level: "ERROR", includeExecutionData: false },
        tracingConfiguration: { enabled: true },
        ...regional,
        tags,
      },
      { parent: this, dependsOn: [logPolicy] },
    );
    // The rest names the machine's own ARN (the map starts its children), so it follows the machine; a run starts only after `pulumi up` ends.
    new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: pulumi.all([machine.arn, pipelineStateMachineArn, uploadsBucketArn]).apply(([reprocessStateMachineArn, pipeline, uploads]) =>
          JSON.stringify(reprocessPolicy({ reprocessStateMachineArn, pipelineStateMachineArn: pipeline, uploadsBucketArn: uploads })),
        ),
      },
      { parent: this },
    );
    this.arn = machine.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
