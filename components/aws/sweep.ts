import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SWEEP_INTERVAL_MINUTES } from "../../functions/workflow";

/**
 * The schedule of the stuck-job sweep on AWS: an EventBridge rule runs the
 * sweep Lambda (the bundle's `sweepStuckJobs` export, created with the step
 * functions) every few minutes. An execution that hits the state machine's
 * timeout (15 minutes Standard, 5 Express) ends without NotifyError; the sweep
 * fails its job with TIMEOUT and publishes the event (functions/steps/sweep.ts).
 * Only EventBridge, for this rule, may invoke the function.
 */

/** Enough for a batch of conditional updates; the sweep moves no image bytes. */
export const SWEEP_MEMORY_MB = 256;
export const SWEEP_TIMEOUT_SECONDS = 120;

export interface SweepScheduleArgs {
  functionArn: pulumi.Input<string>;
  functionName: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

export class SweepSchedule extends pulumi.ComponentResource {
  readonly ruleArn: pulumi.Output<string>;

  constructor(name: string, args: SweepScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:SweepSchedule", name, {}, opts);
    const { functionArn, functionName, tags, region } = args;
    const regional = region ? { region } : {};

    const rule = new aws.cloudwatch.EventRule(
      `${name}-rule`,
      { description: "Runs the image pipeline's stuck-job sweep", scheduleExpression: `rate(${SWEEP_INTERVAL_MINUTES} minutes)`, ...regional, tags },
      { parent: this },
    );
    const permission = new aws.lambda.Permission(
      `${name}-invoke`,
      { action: "lambda:InvokeFunction", function: functionName, principal: "events.amazonaws.com", sourceArn: rule.arn, ...regional },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(`${name}-target`, { rule: rule.name, arn: functionArn, ...regional }, { parent: this, dependsOn: [permission] });

    this.ruleArn = rule.arn;
    this.registerOutputs({ ruleArn: this.ruleArn });
  }
}
