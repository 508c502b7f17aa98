import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { s3EventRule, TRIGGER_RETRY } from "./trigger";

/**
 * Erasure on delete: S3 → EventBridge (the bucket's `eventbridge: true` notification) → a rule on
 * "Object Deleted" for the uploads bucket → the erase Lambda (the bundle's `eraseUpload` export),
 * with the key, ETag, version id and deletion type as input. On the versioned uploads bucket a plain
 * DELETE adds a delete marker: the event says "Delete Marker Created" and its ETag and version id are
 * the marker's (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html); the function
 * erases only when the upload is gone (functions/steps/erase.ts), so other deletions (an old version
 * expiring) cost one HEAD.
 *
 * Nothing is dropped silently: an event EventBridge cannot deliver, and one the function still fails
 * after Lambda's own retries of the asynchronous invocation, land in an SQS dead-letter queue.
 */

/** Enough to list and delete an upload's objects one by one; erasure moves no image bytes. */
export const ERASE_MEMORY_MB = 256;
export const ERASE_TIMEOUT_SECONDS = 300;
/** Lambda's asynchronous retries after a function error (0–2): https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html */
export const ERASE_RETRY_ATTEMPTS = 2;
/** How long Lambda keeps an erase event queued for the function (at most 6 hours, same page). */
export const ERASE_MAX_EVENT_AGE_SECONDS = 6 * 3600;

export interface DeleteTriggerArgs {
  uploadsBucketName: pulumi.Input<string>;
  functionArn: pulumi.Input<string>;
  functionName: pulumi.Input<string>;
  /** The erase function's role: it sends failed invocations to the dead-letter queue (an on-failure destination). */
  functionRoleName: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

/** The erase function's input: the event's object fields and deletion type, nothing else. */
export const ERASE_INPUT_PATHS = {
  sourceKey: "$.detail.object.key",
  sourceEtag: "$.detail.object.etag",
  sourceVersion: "$.detail.object.version-id",
  deletionType: "$.detail.deletion-type",
} as const;
// Unquoted placeholders: EventBridge inserts each value as JSON (strings get their quotes and escapes).
export const ERASE_INPUT_TEMPLATE = '{"sourceKey": <sourceKey>, "sourceEtag": <sourceEtag>, "sourceVersion": <sourceVersion>, "deletionType": <deletionType>}';

export class DeleteTrigger extends pulumi.ComponentResource {
  readonly ruleArn: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  /** For the alarm on its depth (components/aws/alarms.ts). */
  readonly deadLetterQueueName: pulumi.Output<string>;

  constructor(name: string, args: DeleteTriggerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:DeleteTrigger", name, {}, opts);
    const { uploadsBucketName, functionArn, functionName, functionRoleName, tags, region } = args;
    const regional = region ? { region } : {};

    const { rule, deadLetters, deadLetterPolicy } = s3EventRule(this, name, {
      bucketName: uploadsBucketName,
      detailType: "Object Deleted",
      description: "Erases the renditions, work objects and job records of each upload deleted from the uploads bucket",
      tags,
      region,
    });
    // Lambda sends a failed asynchronous invocation's record to the destination with the function's role: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    const failurePolicy = new aws.iam.RolePolicy(
      `${name}-failures-policy`,
      {
        role: functionRoleName,
        policy: deadLetters.arn.apply((queueArn) =>
          JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "SendFailedErasures", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [queueArn] }] }),
        ),
      },
      { parent: this },
    );
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-failures`,
      {
        functionName,
        maximumRetryAttempts: ERASE_RETRY_ATTEMPTS,
        maximumEventAgeInSeconds: ERASE_MAX_EVENT_AGE_SECONDS,
        destinationConfig: { onFailure: { destination: deadLetters.arn } },
        ...regional,
      },
      { parent: this, dependsOn: [failurePolicy] },
    );
    const permission = new aws.lambda.Permission(
      `${name}-invoke`,
      { action: "lambda:InvokeFunction", function: functionName, principal: "events.amazonaws.com", sourceArn: rule.arn, ...regional },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-target`,
      {
        rule: rule.name,
        arn: functionArn,
        inputTransformer: { inputPaths: { ...ERASE_INPUT_PATHS }, inputTemplate: ERASE_INPUT_TEMPLATE },
        retryPolicy: { ...TRIGGER_RETRY },
        deadLetterConfig: { arn: deadLetters.arn },
        ...regional,
      },
      { parent: this, dependsOn: [permission, deadLetterPolicy] },
    );

    this.ruleArn = rule.arn;
    this.deadLetterQueueUrl = deadLetters.url;
    this.deadLetterQueueName = deadLetters.name;
    this.registerOutputs({ ruleArn: this.ruleArn, deadLetterQueueUrl: this.deadLetterQueueUrl });
  }
}
