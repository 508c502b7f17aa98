import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import type { PipelineConfig } from "../config";
import { CONTAINERS, DELETE_EVENTS_QUEUE, UPLOAD_EVENTS_QUEUE } from "../../functions/azure/contract";
import { movedFrom } from "./moved";
import { blobCorsRules } from "./api";

export { CONTAINERS };
export const DEPLOYMENTS_CONTAINER = "deployments";
/** Upload events Event Grid could not deliver to the queue (after its retries) land here, as on AWS in the SQS dead-letter queue. */
export const DEAD_LETTERS_CONTAINER = "dead-letters";
/** Days dead-lettered events are kept (SQS's maximum retention, for parity). */
export const DEAD_LETTER_RETENTION_DAYS = 14;
export const JOBS_TABLE = "jobs";
/** Days deleted blobs and containers stay recoverable. */
export const SOFT_DELETE_DAYS = 7;

/**
 * Storage account names are global, 3-24 lowercase letters and digits; the
 * provider appends an 8-character random suffix to this 16-character stem.
 */
export function storageAccountStem(name: string, purpose: string): string {
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 4);
  return `${name.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 8)}${hash}${purpose.slice(0, 4)}`;
}

/** The lifecycle rules that mirror the AWS buckets' (1-day work area, upload versions kept retentionDays), plus old packages. */
export function lifecycleRules(config: Pick<PipelineConfig, "retentionDays" | "renditionsInfrequentAccessDays">): azure.types.input.storage.ManagementPolicyRuleArgs[] {
  const expireAfter = (name: string, prefix: string, actions: azure.types.input.storage.ManagementPolicyActionArgs) => ({
    name,
    enabled: true,
    type: "Lifecycle",
    definition: { filters: { blobTypes: ["blockBlob"], prefixMatch: [`${prefix}/`] }, actions },
  });
  return [
    expireAfter("expire-work", CONTAINERS.work, { baseBlob: { delete: { daysAfterModificationGreaterThan: 1 } }, version: { delete: { daysAfterCreationGreaterThan: 1 } } }),
    expireAfter("expire-noncurrent-uploads", CONTAINERS.uploads, { version: { delete: { daysAfterCreationGreaterThan: config.retentionDays } } }),
    expireAfter("expire-dead-letters", DEAD_LETTERS_CONTAINER, {
      baseBlob: { delete: { daysAfterModificationGreaterThan: DEAD_LETTER_RETENTION_DAYS } },
      version: { delete: { daysAfterCreationGreaterThan: DEAD_LETTER_RETENTION_DAYS } },
    }),
    // Every deployment replaces the package; versioning keeps the old ones for a week, for a rollback.
    expireAfter("expire-old-packages", DEPLOYMENTS_CONTAINER, { version: { delete: { daysAfterCreationGreaterThan: SOFT_DELETE_DAYS } } }),
    expireAfter("expire-noncurrent-renditions", CONTAINERS.renditions, {
      version: { delete: { daysAfterCreationGreaterThan: config.retentionDays } },
      ...(config.renditionsInfrequentAccessDays ? { baseBlob: { tierToCool: { daysAfterModificationGreaterThan: config.renditionsInfrequentAccessDays } } } : {}),
    }),
  ];
}

export interface PipelineStorageArgs {
  config: PipelineConfig;
  resourceGroupName: pulumi.Input<string>;
  location: string;
  tags: Record<string, string>;
}

/**
 * One storage account for the pipeline's data, the code package, the upload
 * events and the Functions host's own state: identity access only (no shared
 * keys), HTTPS and TLS 1.2, versioned and soft-deleted blobs, lifecycle rules.
 * protectData: `pulumi destroy` (or a replacement) stops before deleting the
 * account, the uploads and renditions containers or the jobs table.
 */
export class PipelineStorage extends pulumi.ComponentResource {
  readonly account: azure.storage.StorageAccount;
  readonly blobService: azure.storage.BlobServiceProperties;
  readonly uploads: azure.storage.BlobContainer;
  readonly renditions: azure.storage.BlobContainer;
  readonly deployments: azure.storage.BlobContainer;
  readonly deadLetters: azure.storage.BlobContainer;
  readonly jobs: azure.storage.Table;
  readonly uploadEvents: azure.storage.Queue;
  /** The uploads container's BlobDeleted events, for the EraseUpload function. */
  readonly deleteEvents: azure.storage.Queue;
  /** `https://<account>.blob.core.windows.net/` */
  readonly blobEndpoint: pulumi.Output<string>;
  readonly dataResources: pulumi.CustomResource[];

  constructor(name: string, args: PipelineStorageArgs, opts: pulumi.ComponentResourceOptions & { parent: pulumi.Resource }) {
    super("image-pipeline:azure:Storage", name, {}, opts);
    const { config, resourceGroupName, location, tags } = args;
    const child = movedFrom(this, opts);
    const dataOptions = { ...child, protect: config.protectData };

    this.account = new azure.storage.StorageAccount(
      storageAccountStem(name, "data"),
      {
        resourceGroupName,
        location,
        kind: "StorageV2",
        sku: { name: "Standard_LRS" },
        accessTier: "Hot",
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: "TLS1_2",
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        allowCrossTenantReplication: false,
        tags,
      },
      dataOptions,
    );
    const accountName = this.account.name;
    this.blobService = new azure.storage.BlobServiceProperties(
      `${name}-blob-service`,
      {
        resourceGroupName,
        accountName,
        blobServicesName: "default",
        isVersioningEnabled: true,
        deleteRetentionPolicy: { enabled: true, days: SOFT_DELETE_DAYS },
        containerDeleteRetentionPolicy: { enabled: true, days: SOFT_DELETE_DAYS },
        // Browser uploads with a user-delegation SAS from the configured origins (#16).
        ...(config.delivery.corsOrigins.length > 0 ? { cors: { corsRules: blobCorsRules(config.delivery.corsOrigins) } } : {}),
      },
      child,
    );
    const container = (area: string, protect = false) =>
      new azure.storage.BlobContainer(
        `${name}-${area}`,
        { resourceGroupName, accountName, containerName: area, publicAccess: "None" },
        { ...child, dependsOn: [this.blobService], protect: protect && config.protectData },
      );
    this.uploads = container(CONTAINERS.uploads, true);
    container(CONTAINERS.work);
    this.renditions = container(CONTAINERS.renditions, true);
    this.deployments = container(DEPLOYMENTS_CONTAINER);
    // Events Event Grid cannot deliver to the queue within its retries are written here, not dropped.
    this.deadLetters = container(DEAD_LETTERS_CONTAINER);
    new azure.storage.ManagementPolicy(
      `${name}-lifecycle`,
      { resourceGroupName, accountName, managementPolicyName: "default", policy: { rules: lifecycleRules(config) } },
      { ...child, dependsOn: [this.blobService] },
    );
    this.jobs = new azure.storage.Table(`${name}-jobs`, { resourceGroupName, accountName, tableName: JOBS_TABLE }, dataOptions);
    this.uploadEvents = new azure.storage.Queue(`${name}-upload-events`, { resourceGroupName, accountName, queueName: UPLOAD_EVENTS_QUEUE }, child);
    this.deleteEvents = new azure.storage.Queue(`${name}-delete-events`, { resourceGroupName, accountName, queueName: DELETE_EVENTS_QUEUE }, child);

    this.blobEndpoint = this.account.primaryEndpoints.blob;
    this.dataResources = [this.account, this.uploads, this.renditions, this.jobs];
    this.registerOutputs({ accountName, blobEndpoint: this.blobEndpoint });
  }
}
