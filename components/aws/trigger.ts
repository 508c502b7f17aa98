import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy, startExecutionPolicy } from "./iam";

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
 */

export interface UploadTriggerArgs {
  uploadsBucketName: pulumi.Input<string>;
  stateMachineArn: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

/** EventBridge's input transformer: the run's input is `{ sourceKey, sourceEtag }`, nothing else. */
export const START_INPUT_PATHS = { sourceKey: "$.detail.object.key", sourceEtag: "$.detail.object.etag" } as const;
// Unquoted placeholders: EventBridge inserts each value as JSON (strings get their quotes and escapes).
export const START_INPUT_TEMPLATE = '{"sourceKey": <sourceKey>, "sourceEtag": <sourceEtag>}';

export class UploadTrigger extends pulumi.ComponentResource {
  readonly ruleArn: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: UploadTriggerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:UploadTrigger", name, {}, opts);
    const { uploadsBucketName, stateMachineArn, accountId, tags, region } = args;
    const regional = region ? { region } : {};

    const rule = new aws.cloudwatch.EventRule(
      `${name}-rule`,
      {
        description: "Starts the image pipeline for each object created in the uploads bucket",
        eventPattern: pulumi.output(uploadsBucketName).apply((bucket) =>
          JSON.stringify({ source: ["aws.s3"], "detail-type": ["Object Created"], detail: { bucket: { name: [bucket] } } }),
        ),
        ...regional,
        tags,
      },
      { parent: this },
    );
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
        ...regional,
      },
      { parent: this, dependsOn: [policy] },
    );

    this.ruleArn = rule.arn;
    this.roleArn = role.arn;
    this.registerOutputs({ ruleArn: this.ruleArn, roleArn: this.roleArn });
  }
}
