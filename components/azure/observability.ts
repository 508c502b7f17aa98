import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { movedFrom } from "./moved";

/** Blob resource-log categories: every read, write and delete of a blob (https://learn.microsoft.com/en-us/azure/storage/blobs/monitor-blob-storage-reference). */
export const BLOB_ACCESS_LOG_CATEGORIES = ["StorageRead", "StorageWrite", "StorageDelete"] as const;

export interface ObservabilityArgs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  /** Days logs are kept; Log Analytics keeps 30 at least and 730 at most. */
  logRetentionDays: number;
  /** The storage account whose blob service's access is logged. */
  storageAccountId: pulumi.Input<string>;
  tags: Record<string, string>;
}

/**
 * A Log Analytics workspace, the workspace-based Application Insights the
 * Function App reports to, and the blob service's access log (reads, writes,
 * deletes) in the same workspace, as S3 server access logs are on AWS.
 */
export class Observability extends pulumi.ComponentResource {
  readonly workspace: azure.operationalinsights.Workspace;
  readonly insights: azure.applicationinsights.Component;

  constructor(name: string, args: ObservabilityArgs, opts: pulumi.ComponentResourceOptions & { parent: pulumi.Resource }) {
    super("image-pipeline:azure:Observability", name, {}, opts);
    const { resourceGroupName, location, tags } = args;
    const child = movedFrom(this, opts);

    this.workspace = new azure.operationalinsights.Workspace(
      `${name}-logs`,
      { resourceGroupName, location, sku: { name: "PerGB2018" }, retentionInDays: Math.min(730, Math.max(30, args.logRetentionDays)), tags },
      child,
    );
    this.insights = new azure.applicationinsights.Component(
      `${name}-insights`,
      { resourceGroupName, location, kind: "web", applicationType: "web", ingestionMode: "LogAnalytics", workspaceResourceId: this.workspace.id, tags },
      child,
    );
    // Blob logs are set on the blob service, not the account (https://learn.microsoft.com/en-us/rest/api/monitor/diagnostic-settings/create-or-update).
    new azure.monitor.DiagnosticSetting(
      `${name}-blob-access-log`,
      {
        resourceUri: pulumi.interpolate`${args.storageAccountId}/blobServices/default`,
        workspaceId: this.workspace.id,
        logAnalyticsDestinationType: "Dedicated",
        logs: BLOB_ACCESS_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
      },
      { parent: this },
    );

    this.registerOutputs({ workspaceId: this.workspace.id, insightsId: this.insights.id });
  }
}
