import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { ERASE_FUNCTION_NAME, SWEEP_FUNCTION_NAME } from "../../functions/azure/contract";
import { PIPELINE_RECORDS } from "./alerts";

/**
 * The pipeline's Azure Monitor workbook on its Application Insights: the AWS dashboard's panels
 * (components/aws/dashboard.ts) as KQL over the steps' records: images per minute, p50/p95 time
 * per step and end to end, failed jobs by error code, erasure on delete and the sweep. Counts use
 * itemCount (telemetry may be sampled).
 */

/** One panel: a KQL query and how the workbook draws it. */
export interface WorkbookPanel {
  title: string;
  query: string;
  visualization: "timechart" | "barchart" | "table";
}

export const WORKBOOK_PANELS: readonly WorkbookPanel[] = [
  {
    title: "Images per minute",
    query: `${PIPELINE_RECORDS} and isnotempty(tostring(r.job)) | summarize images = sum(itemCount) by bin(timestamp, 1m), outcome = tostring(r.job) | render timechart`,
    visualization: "timechart",
  },
  {
    title: "Time per step (ms): p50 / p95",
    query: `${PIPELINE_RECORDS} | summarize percentiles(todouble(r.durationMs), 50, 95) by step = tostring(r.step)`,
    visualization: "table",
  },
  {
    // From the start of the job's first step to the end of its last (each record is written as its step ends).
    title: "End to end (ms): p50 / p95",
    query: `${PIPELINE_RECORDS} and isnotempty(tostring(r.jobId)) | extend ended = timestamp, started = timestamp - todouble(r.durationMs) * 1ms | summarize first = min(started), last = max(ended), done = countif(isnotempty(tostring(r.job))) by jobId = tostring(r.jobId) | where done > 0 | summarize percentiles((last - first) / 1ms, 50, 95)`,
    visualization: "table",
  },
  {
    title: "Failed jobs by error code",
    query: `${PIPELINE_RECORDS} and tostring(r.job) == "failed" | summarize failed = sum(itemCount) by bin(timestamp, 5m), errorCode = tostring(r.errorCode) | render timechart`,
    visualization: "timechart",
  },
  // The functions outside the workflow, from their requests (one per invocation, as their alerts count them).
  {
    title: "Erasure on delete: invocations and failures",
    query: `requests | where operation_Name == "${ERASE_FUNCTION_NAME}" | summarize erasures = sum(itemCount), failed = sumif(itemCount, success == false) by bin(timestamp, 5m) | render timechart`,
    visualization: "timechart",
  },
  {
    title: "Stuck-job sweep: runs and failures",
    query: `requests | where operation_Name == "${SWEEP_FUNCTION_NAME}" | summarize runs = sum(itemCount), failed = sumif(itemCount, success == false) by bin(timestamp, 5m) | render timechart`,
    visualization: "timechart",
  },
];

/**
 * The workbook's content in the gallery template format (https://learn.microsoft.com/en-us/azure/azure-monitor/visualize/workbooks-automate):
 * query items (type 3) over the Application Insights resource, last 24 hours.
 */
export function workbookContent(panels: readonly WorkbookPanel[] = WORKBOOK_PANELS): Record<string, unknown> {
  return {
    version: "Notebook/1.0",
    items: panels.map((panel, i) => ({
      type: 3,
      name: `panel-${i}`,
      content: {
        version: "KqlItem/1.0",
        title: panel.title,
        query: panel.query,
        size: 0,
        timeContext: { durationMs: 86_400_000 },
        queryType: 0,
        resourceType: "microsoft.insights/components",
        visualization: panel.visualization,
      },
    })),
    isLocked: false,
    $schema: "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json",
  };
}

/** Workbook resource names are GUIDs; one derived from the pipeline's name keeps it stable across updates. */
export function workbookId(name: string): string {
  const hex = createHash("sha256").update(`image-pipeline workbook ${name}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface PipelineWorkbookArgs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  insightsId: pulumi.Input<string>;
  tags: Record<string, string>;
}

export class PipelineWorkbook extends pulumi.ComponentResource {
  readonly workbookName: pulumi.Output<string>;

  constructor(name: string, args: PipelineWorkbookArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:azure:Workbook", name, {}, opts);
    // Microsoft.Insights/workbooks (azure-native applicationinsights.Workbook, API 2023-06-01): a shared workbook shown with the component.
    const workbook = new azure.applicationinsights.Workbook(
      `${name}-workbook`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        resourceName: workbookId(name),
        kind: "shared",
        category: "workbook",
        displayName: `${name} image pipeline`,
        sourceId: args.insightsId,
        serializedData: JSON.stringify(workbookContent()),
        tags: args.tags,
      },
      { parent: this },
    );
    this.workbookName = workbook.name;
    this.registerOutputs({ workbookName: this.workbookName });
  }
}
