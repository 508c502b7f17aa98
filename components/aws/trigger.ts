import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy, deadLetterQueuePolicy, startExecutionPolicy } from "./iam";

/**
 * Starts the workflow for every object created in the uploads bucket:
 * S3 → EventBridge (the bucket's `eventbridge: true` notification) → a rule on
 * "Object Created" for that bucket → the state machine, with only the key and
 * ETag as input.
 *
 * Delivery is at least once. A duplicate event starts a second execution; its
 * Validate step makes a conditional job-store write keyed by a jobId derived
 * from key + ETag, finds the job taken, and the run ends at once. That works for
 * Standard and Express alike (Express has no execution-name dedupe), so the
 * target sets no execution name.
 *
 * An event EventBridge cannot deliver (StartExecution throttled or refused for
 * 24 hours, 185 attempts) lands in an SQS dead-letter queue, kept 14 days with
 * the reason in its attributes: nothing an upload triggered is dropped silently.
 * Re-run such an upload by copying the object onto itself, which raises a new
 * Object Created event (README, "Deploy for real").
 */

/** How long undeliverable upload events are kept (SQS maximum). */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;
/** EventBridge's own retry budget for a target, made explicit. */
export const TRIGGER_RETRY = { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 } as const;

export interface UploadTriggerArgs {
  uploadsBucketName: pulumi.Input<string>;
  stateMachineArn: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

/**
 * EventBridge's input transformer: the run's input is `{ sourceKey, sourceEtag, sourceVersion }`,
 * nothing else. The uploads bucket is versioned, so every Object Created event has a version id.
 */
export const START_INPUT_PATHS = { sourceKey: "$.detail.object.key", sourceEtag: "$.detail.object.etag", sourceVersion: "$.detail.object.version-id" } as const;
// Unquoted placeholders: EventBridge inserts each value as JSON (strings get their quotes and escapes).
export const START_INPUT_TEMPLATE = '{"sourceKey": <sourceKey>, "sourceEtag": <sourceEtag>, "sourceVersion": <sourceVersion>}';

/** An EventBridge rule on one S3 event type of one bucket, and the dead-letter queue its target uses. */
export interface S3EventRuleArgs {
  bucketName: pulumi.Input<string>;
  detailType: "Object Created" | "Object Deleted";
  description: string;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

/**
 * The rule (`${name}-rule`), its target's dead-letter queue (`${name}-dead-letters`) and the queue
 * policy letting that rule send to it, children of `parent`: the upload and delete triggers share them.
 */
export function s3EventRule(parent: pulumi.Resource, name: string, args: S3EventRuleArgs): { rule: aws.cloudwatch.EventRule; deadLetters: aws.sqs.Queue; deadLetterPolicy: aws.sqs.QueuePolicy } {
  const { bucketName, detailType, description, tags, region } = args;
  const regional = region ? { region } : {};
  const rule = new aws.cloudwatch.EventRule(
    `${name}-rule`,
    {
      description,
      eventPattern: pulumi.output(bucketName).apply((bucket) => JSON.stringify({ source: ["aws.s3"], "detail-type": [detailType], detail: { bucket: { name: [bucket] } } })),
      ...regional,
      tags,
    },
    { parent },
  );
  // SQS-managed encryption: EventBridge can write to it without a key policy; the messages hold only the event.
  const deadLetters = new aws.sqs.Queue(
    `${name}-dead-letters`,
    { messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true, ...regional, tags },
    { parent },
  );
  const deadLetterPolicy = new aws.sqs.QueuePolicy(
    `${name}-dead-letters-policy`,
    { queueUrl: deadLetters.url, policy: pulumi.all([deadLetters.arn, rule.arn]).apply(([queueArn, ruleArn]) => JSON.stringify(deadLetterQueuePolicy(queueArn, ruleArn))), ...regional },
    { parent },
  );
  return { rule, deadLetters, deadLetterPolicy };
}

export class UploadTrigger extends pulumi.ComponentResource {
  readonly ruleArn: pulumi.Output<string>;
  /** The rule's name: the RuleName dimension of its EventBridge metrics. */
  readonly ruleName: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  /** The dead-letter queue's name: the QueueName dimension of its CloudWatch metrics. */
  readonly deadLetterQueueName: pulumi.Output<string>;

  constructor(name: string, args: UploadTriggerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:UploadTrigger", name, {}, opts);
    const { uploadsBucketName, stateMachineArn, accountId, tags, region } = args;
    const regional = region ? { region } : {};

    const { rule, deadLetters, deadLetterPolicy } = s3EventRule(this, name, {
      bucketName: uploadsBucketName,
      detailType: "Object Created",
      description: "Starts the image pipeline for each object created in the uploads bucket",
      tags,
      region,
    });
    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: pulumi.output(accountId).apply((account) => JSON.stringify(assumeRolePolicy("events.amazonaws.com", account))), tags },
      { parent: this },
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: role.id, policy: pulumi.output(stateMachineArn).apply((arn) => JSON.stringify(startExecutionPolicy(arn))) },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-target`,
      {
        rule: rule.name,
        arn: stateMachineArn,
        roleArn: role.arn,
        inputTransformer: { inputPaths: { ...START_INPUT_PATHS }, inputTemplate: START_INPUT_TEMPLATE },
        retryPolicy: { ...TRIGGER_RETRY },
        deadLetterConfig: { arn: deadLetters.arn },
        ...regional,
      },
      { parent: this, dependsOn: [policy, deadLetterPolicy] },
    );

    this.ruleArn = rule.arn;
    this.ruleName = rule.name;
    this.roleArn = role.arn;
    this.deadLetterQueueUrl = deadLetters.url;
    this.deadLetterQueueName = deadLetters.name;
    this.registerOutputs({ ruleArn: this.ruleArn, roleArn: this.roleArn, deadLetterQueueUrl: this.deadLetterQueueUrl });
  }
}
