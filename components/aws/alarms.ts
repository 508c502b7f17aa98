import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JOB_METRICS } from "../../functions/observability";
import { STEP_HANDLERS, type StepHandler } from "../../functions/workflow";

/**
 * What pages someone on AWS: CloudWatch alarms on the workflow, each step's function, the
 * upload dead-letter queue, erasure on delete (its function and dead-letter queue), the
 * stuck-job sweep (its function and the jobs it failed) and the job failure rate, all sending to one
 * alerts topic (email from `alertEmail`). Missing data is "not breaching": a quiet pipeline
 * (no uploads, so no datapoints) is a healthy one.
 *
 * The topic is encrypted with a key of its own: CloudWatch can publish to an encrypted topic
 * only when the key policy lets cloudwatch.amazonaws.com use the key, which the AWS-managed
 * alias/aws/sns key's policy never does (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 */

/** Every alarm looks at 5-minute sums (the default resolution of the AWS service metrics). */
export const ALARM_PERIOD_SECONDS = 300;

/**
 * Thresholds (greater than). A job that fails for its image (corrupt, too large) ends its
 * execution Failed and its step's invocation with an error too, so those two alarms wait for a
 * few in 5 minutes; the failure rate catches a slow rise. Timeouts, throttles, dead letters
 * and swept jobs are never the user's doing: one is enough.
 */
export const ALARM_THRESHOLDS = {
  executionsFailed: 5,
  executionsTimedOut: 0,
  executionsThrottled: 0,
  functionErrors: 5,
  functionThrottles: 0,
  deadLetters: 0,
  /** EventBridge retrying a start means Step Functions refused it (throttled, or failing): uploads are waiting. */
  startRetries: 0,
  stuckJobs: 0,
  reprocessFailed: 0,
  /** A failed erasure leaves a deleted upload's renditions and job behind: never the user's doing, one is enough. */
  eraseErrors: 0,
  eraseThrottles: 0,
  eraseDeadLetters: 0,
  eraseDestinationFailures: 0,
  /** The sweep failing means stuck jobs stay stuck and its StuckJobsFailed count says nothing. */
  sweepErrors: 0,
  /** The API answers 5xx only for what the caller cannot fix (the app's unknown errors, timeouts): a few may be a blip. */
  api5xx: 5,
  /** The API function crashing or timing out (the app turns its own errors into JSON answers). */
  apiErrors: 0,
} as const;

/** Job failure rate: the share of failed jobs (every error code) over a window, once enough jobs ended in it. */
export const FAILURE_RATE = { windowSeconds: 900, percent: 10, minimumJobs: 10 } as const;

export interface PipelineAlarmsArgs {
  stateMachineArn: pulumi.Input<string>;
  /** The reprocess state machine (components/aws/reprocess.ts): a failed run went over its tolerated failures. */
  reprocessStateMachineArn?: pulumi.Input<string>;
  /** The six step functions' names. */
  functionNames: Record<StepHandler, pulumi.Input<string>>;
  deadLetterQueueName: pulumi.Input<string>;
  /** The upload rule (components/aws/trigger.ts), whose retried starts are watched. */
  uploadRuleName?: pulumi.Input<string>;
  /** Erasure on delete (components/aws/deleteTrigger.ts): its function and the dead-letter queue of the events it could not erase. */
  erase?: { functionName: pulumi.Input<string>; deadLetterQueueName: pulumi.Input<string> };
  /** The stuck-job sweep's function (components/aws/sweep.ts). */
  sweepFunctionName?: pulumi.Input<string>;
  /** The HTTP API (components/aws/api.ts): its server errors and its function's failures. */
  api?: { apiId: pulumi.Input<string>; functionName: pulumi.Input<string> };
  /** The `service` dimension the steps' job-outcome metrics carry (POWERTOOLS_SERVICE_NAME). */
  metricsService: pulumi.Input<string>;
  /** Subscribed to the alerts topic by email (the address confirms it). */
  alertEmail?: string;
  accountId: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

export class PipelineAlarms extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;
  /** Every alarm, by what it watches (`executions-failed`, `resize-errors`, ...). */
  readonly alarms: Record<string, aws.cloudwatch.MetricAlarm>;

  constructor(name: string, args: PipelineAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:Alarms", name, {}, opts);
    const { stateMachineArn, reprocessStateMachineArn, functionNames, deadLetterQueueName, uploadRuleName, erase, sweepFunctionName, api, metricsService, alertEmail, accountId, tags, region } = args;
    const regional = region ? { region } : {};

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "Encrypts the image pipeline's alerts topic; CloudWatch alarms may use it to publish",
        enableKeyRotation: true,
        policy: pulumi.output(accountId).apply((account) => JSON.stringify(alertsKeyPolicy(account))),
        ...regional,
        tags,
      },
      { parent: this },
    );
    const topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: key.arn, ...regional, tags }, { parent: this });
    if (alertEmail) {
      // The address must confirm the subscription from the email AWS sends.
      new aws.sns.TopicSubscription(`${name}-email`, { topic: topic.arn, protocol: "email", endpoint: alertEmail, ...regional }, { parent: this });
    }

    const actions = { alarmActions: [topic.arn], okActions: [topic.arn] };
    const alarm = (suffix: string, description: string, inputs: Partial<aws.cloudwatch.MetricAlarmArgs>) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${suffix}`,
        {
          name: `${name}-${suffix}`,
          alarmDescription: description,
          comparisonOperator: "GreaterThanThreshold",
          evaluationPeriods: 1,
          treatMissingData: "notBreaching",
          ...actions,
          ...inputs,
          ...regional,
          tags,
        },
        { parent: this },
      );
    const sum = (namespace: string, metricName: string, dimensions: Record<string, pulumi.Input<string>>, threshold: number) => ({
      namespace,
      metricName,
      dimensions,
      statistic: "Sum",
      period: ALARM_PERIOD_SECONDS,
      threshold,
    });

    // Step Functions execution metrics, dimension StateMachineArn (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html; names as in https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/appinsights-metrics-step-functions.html).
    const machine = { StateMachineArn: stateMachineArn };
    this.alarms = {
      "executions-failed": alarm("executions-failed", "Image pipeline executions failed (a job ended failed: see the failure-rate alarm and the dashboard's error codes).", sum("AWS/States", "ExecutionsFailed", machine, ALARM_THRESHOLDS.executionsFailed)),
      "executions-timed-out": alarm("executions-timed-out", "Image pipeline executions hit the state machine's timeout; the stuck-job sweep fails their jobs with TIMEOUT.", sum("AWS/States", "ExecutionsTimedOut", machine, ALARM_THRESHOLDS.executionsTimedOut)),
      "executions-throttled": alarm("executions-throttled", "Step Functions throttled image pipeline executions; uploads wait in EventBridge's retries and then the dead-letter queue.", sum("AWS/States", "ExecutionThrottled", machine, ALARM_THRESHOLDS.executionsThrottled)),
    };
    if (reprocessStateMachineArn !== undefined) {
      this.alarms["reprocess-failed"] = alarm(
        "reprocess-failed",
        "A reprocess run failed: more keys failed to start than reprocess.toleratedFailurePercent allows, or its listing failed (README, Reprocessing).",
        sum("AWS/States", "ExecutionsFailed", { StateMachineArn: reprocessStateMachineArn }, ALARM_THRESHOLDS.reprocessFailed),
      );
    }
    // Lambda function metrics, dimension FunctionName (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
    for (const handler of STEP_HANDLERS) {
      const fn = { FunctionName: functionNames[handler] };
      this.alarms[`${handler}-errors`] = alarm(`${handler}-errors`, `The ${handler} step's function failed invocations (thrown errors, timeouts, out of memory).`, sum("AWS/Lambda", "Errors", fn, ALARM_THRESHOLDS.functionErrors));
      this.alarms[`${handler}-throttles`] = alarm(`${handler}-throttles`, `The ${handler} step's function was throttled (concurrency exhausted).`, sum("AWS/Lambda", "Throttles", fn, ALARM_THRESHOLDS.functionThrottles));
    }
    // Messages waiting in a queue, dimension QueueName (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
    const waiting = (queueName: pulumi.Input<string>, threshold: number) => ({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queueName },
      statistic: "Maximum",
      period: ALARM_PERIOD_SECONDS,
      threshold,
    });
    // A dead-lettered upload event is an upload that started no job.
    this.alarms["dead-letters"] = alarm("dead-letters", "Upload events EventBridge could not deliver are waiting in the dead-letter queue: those uploads started no job (README, Monitoring and alerts).", waiting(deadLetterQueueName, ALARM_THRESHOLDS.deadLetters));
    if (uploadRuleName !== undefined) {
      // A start EventBridge retries (throttled or a 5xx) waits up to TRIGGER_RETRY's 24 hours before it is dead-lettered, and whether Express
      // state machines report ExecutionThrottled is not documented; EventBridge counts its retries per rule, as RetryInvocationAttempts
      // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring-events-best-practices.html).
      this.alarms["start-retries"] = alarm(
        "start-retries",
        "EventBridge is retrying the image pipeline's starts (Step Functions throttled or refused them): uploads are waiting, and after 24 hours of retries they go to the dead-letter queue.",
        sum("AWS/Events", "RetryInvocationAttempts", { RuleName: uploadRuleName }, ALARM_THRESHOLDS.startRetries),
      );
    }
    if (erase !== undefined) {
      // Erasure is invoked asynchronously by EventBridge; Lambda's async metric DestinationDeliveryFailures counts failed records it could not send to the on-failure queue (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
      const eraser = { FunctionName: erase.functionName };
      this.alarms["erase-errors"] = alarm("erase-errors", "The erase function failed invocations; Lambda retries each event twice, then sends it to the erase dead-letter queue, and until then the deleted upload's renditions and job record remain.", sum("AWS/Lambda", "Errors", eraser, ALARM_THRESHOLDS.eraseErrors));
      this.alarms["erase-throttles"] = alarm("erase-throttles", "The erase function was throttled (concurrency exhausted); Lambda retries its events for up to 6 hours, then dead-letters them.", sum("AWS/Lambda", "Throttles", eraser, ALARM_THRESHOLDS.eraseThrottles));
      this.alarms["erase-destination-failures"] = alarm("erase-destination-failures", "Lambda could not send failed erasures to the erase dead-letter queue: those deletions were neither erased nor kept for a replay.", sum("AWS/Lambda", "DestinationDeliveryFailures", eraser, ALARM_THRESHOLDS.eraseDestinationFailures));
      this.alarms["erase-dead-letters"] = alarm("erase-dead-letters", "Delete events that could not be erased are waiting in the erase dead-letter queue: those uploads' renditions and job records remain (README, Monitoring and alerts).", waiting(erase.deadLetterQueueName, ALARM_THRESHOLDS.eraseDeadLetters));
    }
    if (sweepFunctionName !== undefined) {
      this.alarms["sweep-errors"] = alarm("sweep-errors", "The stuck-job sweep's function failed: stuck jobs stay unfailed and the stuck-jobs alarm cannot count them.", sum("AWS/Lambda", "Errors", { FunctionName: sweepFunctionName }, ALARM_THRESHOLDS.sweepErrors));
    }
    if (api !== undefined) {
      // HTTP API metrics 5xx by ApiId (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html).
      this.alarms["api-5xx"] = alarm("api-5xx", "The HTTP API answered server errors (5xx): uploads, job status or erasure requests failed for reasons the caller cannot fix; the API function's log has each requestId.", sum("AWS/ApiGateway", "5xx", { ApiId: api.apiId }, ALARM_THRESHOLDS.api5xx));
      this.alarms["api-errors"] = alarm("api-errors", "The API function crashed or timed out (invocation errors, not answered errors).", sum("AWS/Lambda", "Errors", { FunctionName: api.functionName }, ALARM_THRESHOLDS.apiErrors));
    }
    // The steps' own EMF metrics (functions/aws/telemetry.ts), in the stack's `service` dimension.
    const service = { service: metricsService };
    this.alarms["stuck-jobs"] = alarm("stuck-jobs", "The stuck-job sweep failed jobs with TIMEOUT: their runs ended without a result.", sum(JOB_METRICS.namespace, JOB_METRICS.stuckFailed, service, ALARM_THRESHOLDS.stuckJobs));
    // Metric math in an alarm (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html); FILL makes a window without failures count as 0.
    const jobs = (id: string, metricName: string) => ({ id, returnData: false, metric: { namespace: JOB_METRICS.namespace, metricName, dimensions: service, stat: "Sum", period: FAILURE_RATE.windowSeconds } });
    this.alarms["failure-rate"] = alarm("failure-rate", `More than ${FAILURE_RATE.percent} % of the jobs that ended in ${FAILURE_RATE.windowSeconds / 60} minutes failed (at least ${FAILURE_RATE.minimumJobs} jobs).`, {
      threshold: FAILURE_RATE.percent,
      metricQueries: [
        jobs("failed", JOB_METRICS.failed),
        jobs("succeeded", JOB_METRICS.succeeded),
        { id: "total", returnData: false, expression: "FILL(failed, 0) + FILL(succeeded, 0)", label: "jobs ended" },
        { id: "rate", returnData: true, expression: `IF(total >= ${FAILURE_RATE.minimumJobs}, 100 * FILL(failed, 0) / total, 0)`, label: "failed jobs (%)" },
      ],
    });

    this.topicArn = topic.arn;
    this.registerOutputs({ topicArn: this.topicArn });
  }
}

/** The alerts key's policy: the account administers it; CloudWatch (for this account's alarms only) encrypts alarm messages with it. */
export function alertsKeyPolicy(accountId: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" },
      {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  };
}
