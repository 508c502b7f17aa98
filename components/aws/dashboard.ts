import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JOB_METRICS } from "../../functions/observability";
import { STEP_HANDLERS, type StepHandler } from "../../functions/workflow";

/**
 * The pipeline's CloudWatch dashboard: images per minute (jobs ended, by outcome), p50/p95 time
 * per step (each step function's Duration) and end to end (the state machine's ExecutionTime),
 * failures by error code, erasure on delete and the stuck-job sweep, and the alarms' states.
 * Dashboards bill per dashboard, not per widget.
 */

export interface PipelineDashboardArgs {
  stateMachineArn: pulumi.Input<string>;
  functionNames: Record<StepHandler, pulumi.Input<string>>;
  /** The erase function and its dead-letter queue (components/aws/deleteTrigger.ts). */
  erase: { functionName: pulumi.Input<string>; deadLetterQueueName: pulumi.Input<string> };
  sweepFunctionName: pulumi.Input<string>;
  /** The `service` dimension of the steps' job-outcome metrics. */
  metricsService: pulumi.Input<string>;
  alarmArns: pulumi.Input<string>[];
  /** The region the widgets read their metrics in (the pipeline's). */
  metricsRegion: pulumi.Input<string>;
  /** The configured region of the resource itself (AWS provider v7 `region` input), if any. */
  region?: pulumi.Input<string>;
}

/** Widgets as CloudWatch's dashboard body takes them (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html). */
export interface DashboardWidget {
  type: "metric" | "alarm";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

export class PipelineDashboard extends pulumi.ComponentResource {
  readonly dashboardName: pulumi.Output<string>;

  constructor(name: string, args: PipelineDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:Dashboard", name, {}, opts);
    const body = pulumi
      .all([args.stateMachineArn, pulumi.all(args.functionNames), pulumi.all(args.erase), args.sweepFunctionName, args.metricsService, pulumi.all(args.alarmArns), args.metricsRegion])
      .apply(([stateMachineArn, functionNames, erase, sweepFunctionName, service, alarmArns, region]) =>
        JSON.stringify({ widgets: dashboardWidgets({ stateMachineArn, functionNames: functionNames as Record<StepHandler, string>, erase: erase as { functionName: string; deadLetterQueueName: string }, sweepFunctionName, service, alarmArns, region }) }),
      );
    // The widgets name their region, so the dashboard shows the pipeline's metrics wherever it is opened.
    const dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, { dashboardName: name, dashboardBody: body, ...(args.region ? { region: args.region } : {}) }, { parent: this });
    this.dashboardName = dashboard.dashboardName;
    this.registerOutputs({ dashboardName: this.dashboardName });
  }
}

/** The dashboard's widgets for resolved names; pure, so tests read exactly what is deployed. */
export function dashboardWidgets(input: {
  stateMachineArn: string;
  functionNames: Record<StepHandler, string>;
  erase: { functionName: string; deadLetterQueueName: string };
  sweepFunctionName: string;
  service: string;
  alarmArns: string[];
  region: string;
}): DashboardWidget[] {
  const { stateMachineArn, functionNames, erase, sweepFunctionName, service, alarmArns, region } = input;
  const ns = JOB_METRICS.namespace;
  const graph = (y: number, x: number, title: string, properties: Record<string, unknown>): DashboardWidget => ({
    type: "metric",
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region, view: "timeSeries", ...properties },
  });
  // Percentile statistics (pNN) of Lambda Duration and Step Functions ExecutionTime, in ms (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html).
  const percentiles = (metric: string[]) => [
    [...metric, { stat: "p50", label: "p50" }],
    [...metric, { stat: "p95", label: "p95" }],
  ];
  return [
    graph(0, 0, "Images per minute", {
      stacked: true,
      period: 60,
      stat: "Sum",
      metrics: [
        [ns, JOB_METRICS.succeeded, "service", service, { label: "succeeded" }],
        [ns, JOB_METRICS.failed, "service", service, { label: "failed" }],
      ],
    }),
    graph(0, 12, "End to end (ms): execution time p50 / p95", { period: 300, metrics: percentiles(["AWS/States", "ExecutionTime", "StateMachineArn", stateMachineArn]) }),
    ...STEP_HANDLERS.map((handler, i) =>
      graph(6 + Math.floor(i / 2) * 6, (i % 2) * 12, `${handler} (ms): duration p50 / p95`, { period: 300, metrics: percentiles(["AWS/Lambda", "Duration", "FunctionName", functionNames[handler]]) }),
    ),
    graph(24, 0, "Failed jobs by error code", {
      stacked: true,
      period: 300,
      // One line per ErrorCode value that occurred, so new codes appear by themselves (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html).
      metrics: [[{ expression: `SEARCH('{${ns},ErrorCode,service} MetricName="${JOB_METRICS.failed}" service="${service}"', 'Sum', 300)`, id: "byCode", label: "" }]],
    }),
    { type: "alarm", x: 12, y: 24, width: 12, height: 6, properties: { title: "Alarms", alarms: alarmArns } },
    // The functions outside the workflow: Lambda's Invocations/Errors/Throttles, SQS's visible messages (same sources as their alarms).
    graph(30, 0, "Erasure on delete: invocations, errors, dead letters", {
      period: 300,
      metrics: [
        ["AWS/Lambda", "Invocations", "FunctionName", erase.functionName, { stat: "Sum", label: "erasures" }],
        ["AWS/Lambda", "Errors", "FunctionName", erase.functionName, { stat: "Sum", label: "errors" }],
        ["AWS/Lambda", "Throttles", "FunctionName", erase.functionName, { stat: "Sum", label: "throttles" }],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", erase.deadLetterQueueName, { stat: "Maximum", label: "dead letters" }],
      ],
    }),
    graph(30, 12, "Stuck-job sweep: runs, errors, jobs failed with TIMEOUT", {
      period: 300,
      metrics: [
        ["AWS/Lambda", "Invocations", "FunctionName", sweepFunctionName, { stat: "Sum", label: "runs" }],
        ["AWS/Lambda", "Errors", "FunctionName", sweepFunctionName, { stat: "Sum", label: "errors" }],
        [ns, JOB_METRICS.stuckFailed, "service", service, { stat: "Sum", label: "jobs failed (TIMEOUT)" }],
      ],
    }),
  ];
}
