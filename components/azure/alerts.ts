import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { API_FUNCTIONS, DELETE_EVENTS_QUEUE, ERASE_FUNCTION_NAME, SWEEP_FUNCTION_NAME, UPLOAD_EVENTS_QUEUE } from "../../functions/azure/contract";
import { LOG_SOURCE } from "../../functions/observability";
import { DEAD_LETTERS_CONTAINER } from "./storage";

/**
 * What pages someone on Azure: Azure Monitor log search alerts (scheduled query rules) on the
 * Function App's Application Insights and the Log Analytics workspace (the workflow, the functions,
 * erasure on delete, the sweep, the queues' poison messages and the dead letters), and one metric alert
 * on Event Grid's deliveries, all to one action group (email from `alertEmail`), the same watches as the
 * AWS alarms (components/aws/alarms.ts).
 *
 * Job outcomes come from the steps' own log records (functions/observability.ts), which the
 * Functions host sends to Application Insights as traces: no metrics SDK runs in the app
 * (none is a dependency of the deployed code), and a log alert computes the failure rate from
 * them (https://learn.microsoft.com/en-us/azure/azure-monitor/alerts/alerts-types#log-alerts).
 * Traces are not sampled (`hostLogging`, components/azure/functionPackage.ts), so one trace can page;
 * counts still use `itemCount`, the number of items each kept one stands for, which stays right if
 * sampling is turned back on (https://learn.microsoft.com/en-us/azure/azure-monitor/app/sampling-classic-api).
 */

/** Severity 1 (error) for everything: each of these means uploads are failing or waiting. */
export const ALERT_SEVERITY = 1;
/** How often each rule runs and the window it looks at, as on AWS (5-minute periods, a 15-minute failure rate). */
export const ALERT_WINDOW = "PT5M";
export const FAILURE_RATE_WINDOW = "PT15M";

/** The pipeline's step records among the app's traces, with the record parsed as `r`. */
export const PIPELINE_RECORDS = `traces | extend r = parse_json(message) | where tostring(r.source) == "${LOG_SOURCE}"`;

export interface LogAlert {
  /** Resource name suffix and what it watches. */
  suffix: string;
  description: string;
  /** `insights`: App Insights traces/requests; `workspace`: the resource-log tables (StorageBlobLogs). */
  scope: "insights" | "workspace";
  /** KQL; an output where it names a resource (the delete subscription's dead-letter folder). */
  query: pulumi.Input<string>;
  /** Count: rows; Total: the sum of `measure`. */
  aggregation: "Count" | "Total";
  measure?: string;
  threshold: number;
  windowSize: string;
}

/**
 * The log alerts, thresholds as on AWS (greater than): a job that fails for its image ends its
 * orchestration Failed too, so failed orchestrations wait for a few; the rest page on one.
 */
export const LOG_ALERTS: readonly LogAlert[] = [
  {
    suffix: "failed-orchestrations",
    description: "Image pipeline orchestrations failed (a job ended failed: see the failure-rate alert and the workbook's error codes).",
    scope: "insights",
    // The Durable extension's tracking events, fields prefixed prop__ (https://learn.microsoft.com/en-us/azure/azure-functions/durable/durable-functions-diagnostics).
    query: `traces | where customDimensions.Category == "Host.Triggers.DurableTask" and tostring(customDimensions.prop__functionType) == "Orchestrator" and tostring(customDimensions.prop__state) == "Failed" | summarize failed = sum(itemCount)`,
    aggregation: "Total",
    measure: "failed",
    threshold: 5,
    windowSize: ALERT_WINDOW,
  },
  {
    suffix: "function-failures",
    description: "Functions of the image pipeline app failed invocations (activities thrown for a retry, the starter, the sweep).",
    scope: "insights",
    // Each invocation is a request with success false when it threw (https://learn.microsoft.com/en-us/azure/azure-functions/functions-monitoring).
    query: "requests | where success == false | summarize failed = sum(itemCount)",
    aggregation: "Total",
    measure: "failed",
    threshold: 5,
    windowSize: ALERT_WINDOW,
  },
  {
    suffix: "api-server-errors",
    description: `The HTTP API (${Object.keys(API_FUNCTIONS).join(", ")}) answered server errors (5xx): uploads, job status or erasure requests failed for reasons the caller cannot fix; the app's log has each requestId.`,
    scope: "insights",
    // An HTTP function's request carries the response's status as resultCode, and `success` stays true for an error status the code returned (https://github.com/Azure/azure-functions-host/issues/6511).
    query: `requests | where operation_Name in (${Object.keys(API_FUNCTIONS).map((name) => `"${name}"`).join(", ")}) and toint(resultCode) >= 500 | summarize failed = sum(itemCount)`,
    aggregation: "Total",
    measure: "failed",
    threshold: 5,
    windowSize: ALERT_WINDOW,
  },
  {
    suffix: "poison-queue",
    description: `Upload events the starter failed five times were moved to the ${UPLOAD_EVENTS_QUEUE}-poison queue: those uploads started no job.`,
    scope: "insights",
    // The queue trigger logs "Message has reached MaxDequeueCount of 5. Moving message to queue '<queue>-poison'." as it moves a message
    // (https://github.com/Azure/azure-webjobs-sdk/blob/dev/src/Microsoft.Azure.WebJobs.Extensions.Storage/Queues/QueueProcessor.cs). The queue name is
    // matched as written, quotes included, with `contains`: `has` is defined on whole terms, runs of letters and digits, which a hyphenated name is not
    // (https://learn.microsoft.com/en-us/azure/data-explorer/kusto/query/datatypes-string-operators).
    query: `traces | where message has "MaxDequeueCount" and message contains "'${UPLOAD_EVENTS_QUEUE}-poison'" | summarize moved = sum(itemCount)`,
    aggregation: "Total",
    measure: "moved",
    threshold: 0,
    windowSize: ALERT_WINDOW,
  },
  {
    suffix: "erase-failures",
    description: `The ${ERASE_FUNCTION_NAME} function failed invocations; the message stays on the ${DELETE_EVENTS_QUEUE} queue for another try, and until one succeeds the deleted upload's renditions and job record remain.`,
    scope: "insights",
    // One request per invocation, operation_Name the function's name (https://learn.microsoft.com/en-us/azure/azure-functions/analyze-telemetry-data).
    query: `requests | where operation_Name == "${ERASE_FUNCTION_NAME}" and success == false | summarize failed = sum(itemCount)`,
    aggregation: "Total",
    measure: "failed",
    threshold: 0,
    windowSize: ALERT_WINDOW,
  },
  {
    suffix: "erase-poison-queue",
    description: `Delete events the ${ERASE_FUNCTION_NAME} function failed five times were moved to the ${DELETE_EVENTS_QUEUE}-poison queue: those uploads' renditions and job records remain.`,
    scope: "insights",
    // The queue trigger's warning as it moves a message, as for uploads (https://github.com/Azure/azure-webjobs-sdk/blob/dev/src/Microsoft.Azure.WebJobs.Extensions.Storage/Queues/QueueProcessor.cs).
    query: `traces | where message has "MaxDequeueCount" and message contains "'${DELETE_EVENTS_QUEUE}-poison'" | summarize moved = sum(itemCount)`,
    aggregation: "Total",
    measure: "moved",
    threshold: 0,
    windowSize: ALERT_WINDOW,
  },
  {
    suffix: "sweep-failures",
    description: `The ${SWEEP_FUNCTION_NAME} function failed: stuck jobs stay unfailed and the stuck-jobs alert cannot count them.`,
    scope: "insights",
    // A timer-triggered invocation is a request too (https://learn.microsoft.com/en-us/azure/azure-functions/analyze-telemetry-data).
    query: `requests | where operation_Name == "${SWEEP_FUNCTION_NAME}" and success == false | summarize failed = sum(itemCount)`,
    aggregation: "Total",
    measure: "failed",
    threshold: 0,
    windowSize: ALERT_WINDOW,
  },
  {
    suffix: "stuck-jobs",
    description: "The stuck-job sweep failed jobs with TIMEOUT: their runs ended without a result.",
    scope: "insights",
    query: `${PIPELINE_RECORDS} and tostring(r.step) == "sweepStuckJobs" and tostring(r.job) == "failed" | summarize swept = sum(itemCount)`,
    aggregation: "Total",
    measure: "swept",
    threshold: 0,
    windowSize: ALERT_WINDOW,
  },
  {
    suffix: "failure-rate",
    description: "More than 10 % of the jobs that ended in 15 minutes failed (at least 10 jobs).",
    scope: "insights",
    query: `${PIPELINE_RECORDS} and isnotempty(tostring(r.job)) | summarize failed = sumif(itemCount, tostring(r.job) == "failed"), total = sum(itemCount) | extend rate = iff(total >= 10, 100.0 * failed / total, 0.0)`,
    aggregation: "Total",
    measure: "rate",
    threshold: 10,
    windowSize: FAILURE_RATE_WINDOW,
  },
];

/**
 * Dead letters by path: Event Grid writes each under `<container>/<SUBSCRIPTION NAME IN CAPITALS>/<y>/<m>/<d>/<h>/`
 * (https://learn.microsoft.com/en-us/azure/event-grid/manage-event-delivery), and `contains` ignores case
 * (https://learn.microsoft.com/en-us/kusto/query/datatypes-string-operators). With the delete subscription's name
 * the upload alert leaves its dead letters to an alert of their own, as AWS has one dead-letter queue per path.
 */
export function deadLetterAlerts(deleteSubscriptionName?: pulumi.Input<string>): LogAlert[] {
  const written = `StorageBlobLogs | where OperationName in ("PutBlob", "PutBlockList") and Uri has "/${DEAD_LETTERS_CONTAINER}/"`;
  const deletes = deleteSubscriptionName === undefined ? undefined : pulumi.interpolate`Uri contains "/${DEAD_LETTERS_CONTAINER}/${deleteSubscriptionName}/"`;
  const uploads: LogAlert = {
    suffix: "dead-letters",
    description: `Event Grid dead-lettered upload events into the ${DEAD_LETTERS_CONTAINER} container: those uploads started no job.`,
    scope: "workspace",
    // Blob writes land in StorageBlobLogs through the blob service's diagnostic setting (https://learn.microsoft.com/en-us/azure/azure-monitor/reference/tables/storagebloblogs).
    query: deletes === undefined ? `${written} | summarize written = count()` : pulumi.interpolate`${written} and not(${deletes}) | summarize written = count()`,
    aggregation: "Total",
    measure: "written",
    threshold: 0,
    windowSize: ALERT_WINDOW,
  };
  if (deletes === undefined) return [uploads];
  return [
    uploads,
    {
      suffix: "erase-dead-letters",
      description: `Event Grid dead-lettered delete events into the ${DEAD_LETTERS_CONTAINER} container: those uploads' renditions and job records remain.`,
      scope: "workspace",
      query: pulumi.interpolate`${written} and ${deletes} | summarize written = count()`,
      aggregation: "Total",
      measure: "written",
      threshold: 0,
      windowSize: ALERT_WINDOW,
    },
  ];
}

export interface PipelineAlertsArgs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  /** The Function App's Application Insights component. */
  insightsId: pulumi.Input<string>;
  /** The Log Analytics workspace holding the storage resource logs. */
  workspaceId: pulumi.Input<string>;
  /** The Event Grid subscription that delivers the uploads' BlobDeleted events (components/azure/trigger.ts): its dead letters get their own alert. */
  deleteEventsSubscriptionName?: pulumi.Input<string>;
  /** The storage account's Event Grid system topic (components/azure/trigger.ts), whose failed deliveries to the queues are watched. */
  eventsTopicId?: pulumi.Input<string>;
  alertEmail?: string;
  tags: Record<string, string>;
}

/**
 * Event Grid failing to deliver the storage events to their queues: it retries for up to a day before it
 * dead-letters an event, so without this the uploads wait that long before the dead-letter alert says so, as
 * EventBridge's retries do on AWS (the alarm `start-retries`). DeliveryAttemptFailCount (per subscription) is
 * not exported to the logs by diagnostic settings, so this is a metric alert on the system topic
 * (https://learn.microsoft.com/en-us/azure/event-grid/monitor-push-reference).
 */
export const DELIVERY_RETRIES_ALERT = {
  suffix: "event-delivery-retries",
  description: "Event Grid failed to deliver storage events (uploads, deletions) to their queues and is retrying them: those uploads wait, and after a day of retries go to the dead-letters container.",
  metricNamespace: "Microsoft.EventGrid/systemTopics",
  metricName: "DeliveryAttemptFailCount",
  threshold: 0,
} as const;

export class PipelineAlerts extends pulumi.ComponentResource {
  readonly actionGroupId: pulumi.Output<string>;
  readonly rules: Record<string, azure.monitor.ScheduledQueryRule>;
  readonly deliveryRetries?: azure.monitor.MetricAlert;

  constructor(name: string, args: PipelineAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:azure:Alerts", name, {}, opts);
    const { resourceGroupName, location, insightsId, workspaceId, deleteEventsSubscriptionName, eventsTopicId, alertEmail, tags } = args;

    // Action groups are global; the short name (at most 12 characters) is shown in the mails (https://learn.microsoft.com/en-us/azure/azure-monitor/alerts/action-groups).
    const actionGroup = new azure.monitor.ActionGroup(
      `${name}-action-group`,
      {
        resourceGroupName,
        location: "global",
        groupShortName: "imgpipeline",
        enabled: true,
        emailReceivers: alertEmail ? [{ name: "alert-email", emailAddress: alertEmail, useCommonAlertSchema: true }] : [],
        tags,
      },
      { parent: this },
    );

    // Log search alert rules, Microsoft.Insights/scheduledQueryRules (azure-native monitor.ScheduledQueryRule, API 2025-01-01-preview).
    this.rules = {};
    for (const alert of [...LOG_ALERTS, ...deadLetterAlerts(deleteEventsSubscriptionName)]) {
      this.rules[alert.suffix] = new azure.monitor.ScheduledQueryRule(
        `${name}-${alert.suffix}`,
        {
          resourceGroupName,
          location,
          kind: "LogAlert",
          displayName: `${name}-${alert.suffix}`,
          description: alert.description,
          severity: ALERT_SEVERITY,
          enabled: true,
          scopes: [alert.scope === "insights" ? insightsId : workspaceId],
          evaluationFrequency: ALERT_WINDOW,
          windowSize: alert.windowSize,
          criteria: {
            allOf: [
              {
                query: alert.query,
                timeAggregation: alert.aggregation,
                ...(alert.measure ? { metricMeasureColumn: alert.measure } : {}),
                operator: "GreaterThan",
                threshold: alert.threshold,
                failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
              },
            ],
          },
          // Resolves by itself when the condition clears, as the AWS alarms send OK.
          autoMitigate: true,
          actions: { actionGroups: [actionGroup.id] },
          tags,
        },
        { parent: this },
      );
    }

    if (eventsTopicId !== undefined) {
      const { suffix, description, metricNamespace, metricName, threshold } = DELIVERY_RETRIES_ALERT;
      // Microsoft.Insights/metricAlerts on one resource: location global (https://learn.microsoft.com/en-us/azure/azure-monitor/alerts/alerts-metric-create-templates).
      this.deliveryRetries = new azure.monitor.MetricAlert(
        `${name}-${suffix}`,
        {
          resourceGroupName,
          location: "global",
          description,
          severity: ALERT_SEVERITY,
          enabled: true,
          scopes: [eventsTopicId],
          evaluationFrequency: ALERT_WINDOW,
          windowSize: ALERT_WINDOW,
          criteria: {
            odataType: "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
            allOf: [{ criterionType: "StaticThresholdCriterion", name: "failed-deliveries", metricNamespace, metricName, operator: "GreaterThan", threshold, timeAggregation: "Total" }],
          },
          autoMitigate: true,
          actions: [{ actionGroupId: actionGroup.id }],
          tags,
        },
        { parent: this },
      );
    }

    this.actionGroupId = actionGroup.id;
    this.registerOutputs({ actionGroupId: this.actionGroupId });
  }
}
