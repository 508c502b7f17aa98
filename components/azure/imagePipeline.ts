import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import type { PipelineConfig } from "../config";
import { CONTAINERS, ORCHESTRATOR_NAME, UPLOAD_EVENTS_QUEUE } from "../../functions/azure/contract";
import { functionAppSettings } from "./appSettings";
import { buildAzureFunctionPackage, sha256File, taskHubName } from "./functionPackage";
import { PackageBlob, packageBlobUrl } from "./packageBlob";
import { deployerPrincipalType, roleDefinitionId, type RoleName } from "./roles";
import type { ImagePipelineOutputs } from "../outputs";

/**
 * The pipeline on Azure: Blob Storage → Event Grid → a queue → a Durable
 * Functions orchestrator on a Linux Function App (Flex Consumption, Premium or
 * Dedicated), Table Storage for jobs, an Event Grid topic for notifications,
 * Application Insights on a Log Analytics workspace.
 *
 * Everything is reached with Microsoft Entra ID: the storage account refuses
 * shared keys, the topic refuses access keys, the app uses its managed
 * identity, the deployer uploads the code package with its own login, and
 * each role is assigned on the one resource that needs it.
 */

export interface AzureImagePipelineArgs {
  /** The validated stack config (components/config.ts). */
  config: PipelineConfig;
  /**
   * A prebuilt code package (zip with index.js, host.json, package.json at its
   * root) to deploy instead of bundling functions/azure/app.ts; for CI caches and tests.
   */
  packagePath?: pulumi.Input<string>;
}

export const DEPLOYMENTS_CONTAINER = "deployments";
/** Upload events Event Grid could not deliver to the queue (after its retries) land here, as on AWS in the SQS dead-letter queue. */
export const DEAD_LETTERS_CONTAINER = "dead-letters";
/** Days dead-lettered events are kept (SQS's maximum retention, for parity). */
export const DEAD_LETTER_RETENTION_DAYS = 14;
export const JOBS_TABLE = "jobs";
/** Node major of the Functions worker (Node 20 left Azure Functions support in April 2026). */
export const NODE_VERSION = "22";
/** Flex Consumption loads the package of this name from its deployment container. */
export const FLEX_PACKAGE_BLOB = "released-package.zip";
/** Days deleted blobs and containers stay recoverable. */
export const SOFT_DELETE_DAYS = 7;

const PLAN_SKUS = {
  flex: { name: "FC1", tier: "FlexConsumption" },
  premium: { name: "EP1", tier: "ElasticPremium" },
  dedicated: { name: "P1v3", tier: "PremiumV3" },
} as const;

/**
 * Storage account names are global, 3-24 lowercase letters and digits; the
 * provider appends an 8-character random suffix to this 16-character stem.
 */
export function storageAccountStem(name: string, purpose: string): string {
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 4);
  return `${name.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 8)}${hash}${purpose.slice(0, 4)}`;
}

/** The lifecycle rules that mirror the AWS buckets' (1-day work area, upload versions kept retentionDays), plus old packages. */
export function lifecycleRules(config: PipelineConfig): azure.types.input.storage.ManagementPolicyRuleArgs[] {
  const rules: azure.types.input.storage.ManagementPolicyRuleArgs[] = [
    {
      name: "expire-work",
      enabled: true,
      type: "Lifecycle",
      definition: {
        filters: { blobTypes: ["blockBlob"], prefixMatch: [`${CONTAINERS.work}/`] },
        actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 1 } }, version: { delete: { daysAfterCreationGreaterThan: 1 } } },
      },
    },
    {
      name: "expire-noncurrent-uploads",
      enabled: true,
      type: "Lifecycle",
      definition: {
        filters: { blobTypes: ["blockBlob"], prefixMatch: [`${CONTAINERS.uploads}/`] },
        actions: { version: { delete: { daysAfterCreationGreaterThan: config.retentionDays } } },
      },
    },
    {
      name: "expire-dead-letters",
      enabled: true,
      type: "Lifecycle",
      definition: {
        filters: { blobTypes: ["blockBlob"], prefixMatch: [`${DEAD_LETTERS_CONTAINER}/`] },
        actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: DEAD_LETTER_RETENTION_DAYS } }, version: { delete: { daysAfterCreationGreaterThan: DEAD_LETTER_RETENTION_DAYS } } },
      },
    },
    {
      // Every deployment replaces the package; versioning keeps the old ones for a week, for a rollback.
      name: "expire-old-packages",
      enabled: true,
      type: "Lifecycle",
      definition: {
        filters: { blobTypes: ["blockBlob"], prefixMatch: [`${DEPLOYMENTS_CONTAINER}/`] },
        actions: { version: { delete: { daysAfterCreationGreaterThan: SOFT_DELETE_DAYS } } },
      },
    },
    {
      name: "expire-noncurrent-renditions",
      enabled: true,
      type: "Lifecycle",
      definition: {
        filters: { blobTypes: ["blockBlob"], prefixMatch: [`${CONTAINERS.renditions}/`] },
        actions: {
          version: { delete: { daysAfterCreationGreaterThan: config.retentionDays } },
          ...(config.renditionsInfrequentAccessDays ? { baseBlob: { tierToCool: { daysAfterModificationGreaterThan: config.renditionsInfrequentAccessDays } } } : {}),
        },
      },
    },
  ];
  return rules;
}

export class AzureImagePipeline extends pulumi.ComponentResource implements ImagePipelineOutputs {
  /** URL of the uploads container: every blob created here starts a job. */
  readonly uploadsStore: pulumi.Output<string>;
  /** URL of the renditions container (outputs and manifests). */
  readonly renditionsStore: pulumi.Output<string>;
  /** The Function App that hosts the Durable orchestrator. */
  readonly workflowId: pulumi.Output<string>;
  readonly jobsTable: pulumi.Output<string>;
  /** Endpoint of the Event Grid topic that receives image.processed / image.failed. */
  readonly notificationsTopic: pulumi.Output<string>;
  /** A ready-to-run command that uploads a file with your Entra ID login. */
  readonly uploadCommand: pulumi.Output<string>;
  /** URL of the container Event Grid writes undeliverable upload events to. */
  readonly deadLetters: pulumi.Output<string>;
  readonly resourceGroupName: pulumi.Output<string>;
  readonly storageAccountName: pulumi.Output<string>;
  readonly functionAppName: pulumi.Output<string>;
  readonly orchestratorName: pulumi.Output<string>;
  /** The resources that hold data (storage account, uploads and renditions containers, jobs table), protected from deletion when config.protectData is on. */
  readonly dataResources: pulumi.CustomResource[];

  constructor(name: string, args: AzureImagePipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:azure:ImagePipeline", name, {}, opts);
    const { config, packagePath } = args;
    const { plan, location } = config.azure;
    const parent = { parent: this };
    const tags = { project: pulumi.getProject(), stack: pulumi.getStack(), "data-classification": config.dataClassification, ...config.tags };

    const resourceGroupName = config.azure.resourceGroupName
      ? pulumi.output(config.azure.resourceGroupName)
      : new azure.resources.ResourceGroup(`${name}-rg`, { location, tags }, parent).name;
    // The identity this deployment runs as: role definitions live in its subscription, and it uploads the package.
    const { subscriptionId, objectId: deployerObjectId, clientId: deployerClientId } = azure.authorization.getClientConfigOutput(parent);

    // --- Storage: uploads, work, renditions, the code package, jobs, upload events,
    // and the Functions host's own state. Identity access only.
    // protectData: `pulumi destroy` (or a replacement) stops before deleting the account, the data containers or the jobs table.
    const dataOptions = { parent: this, protect: config.protectData };
    const dataAccount = new azure.storage.StorageAccount(
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
    const blobService = new azure.storage.BlobServiceProperties(
      `${name}-blob-service`,
      {
        resourceGroupName,
        accountName: dataAccount.name,
        blobServicesName: "default",
        isVersioningEnabled: true,
        deleteRetentionPolicy: { enabled: true, days: SOFT_DELETE_DAYS },
        containerDeleteRetentionPolicy: { enabled: true, days: SOFT_DELETE_DAYS },
      },
      parent,
    );
    const container = (area: string, protect = false) =>
      new azure.storage.BlobContainer(
        `${name}-${area}`,
        { resourceGroupName, accountName: dataAccount.name, containerName: area, publicAccess: "None" },
        { parent: this, dependsOn: [blobService], protect: protect && config.protectData },
      );
    const uploads = container(CONTAINERS.uploads, true);
    container(CONTAINERS.work);
    const renditions = container(CONTAINERS.renditions, true);
    new azure.storage.ManagementPolicy(
      `${name}-lifecycle`,
      { resourceGroupName, accountName: dataAccount.name, managementPolicyName: "default", policy: { rules: lifecycleRules(config) } },
      { parent: this, dependsOn: [blobService] },
    );
    const jobs = new azure.storage.Table(`${name}-jobs`, { resourceGroupName, accountName: dataAccount.name, tableName: JOBS_TABLE }, dataOptions);
    this.dataResources = [dataAccount, uploads, renditions, jobs];
    const uploadEvents = new azure.storage.Queue(`${name}-upload-events`, { resourceGroupName, accountName: dataAccount.name, queueName: UPLOAD_EVENTS_QUEUE }, parent);

    // --- Code package, uploaded with the deploying identity (see ./packageBlob).
    const deployments = container(DEPLOYMENTS_CONTAINER);
    const deployerUpload = new azure.authorization.RoleAssignment(
      `${name}-deployer-package`,
      {
        principalId: deployerObjectId,
        principalType: deployerClientId.apply(deployerPrincipalType),
        roleDefinitionId: subscriptionId.apply((id) => roleDefinitionId(id, "storageBlobDataContributor")),
        scope: deployments.id,
      },
      parent,
    );
    const hubName = taskHubName(name);
    const codePackage = packagePath
      ? pulumi.output(packagePath).apply(async (zipPath) => ({ zipPath, sha256: await sha256File(zipPath) }))
      : pulumi.output(buildAzureFunctionPackage(config, hubName).then(({ zipPath, sha256 }) => ({ zipPath, sha256 })));
    // Flex loads one fixed name (overwritten in place); the other plans run from a content-addressed URL.
    const packageBlobName = plan === "flex" ? pulumi.output(FLEX_PACKAGE_BLOB) : codePackage.apply(({ sha256 }) => `${hubName}-${sha256.slice(0, 16)}.zip`);
    const packageBlob = new PackageBlob(
      `${name}-package`,
      {
        blobEndpoint: dataAccount.primaryEndpoints.blob,
        containerName: deployments.name,
        blobName: packageBlobName,
        filePath: codePackage.apply(({ zipPath }) => zipPath),
        sha256: codePackage.apply(({ sha256 }) => sha256),
      },
      { parent: this, dependsOn: [deployerUpload] },
    );
    // Known before the upload runs, so a preview shows the app settings; the app waits for the upload (dependsOn).
    const packageUrl = pulumi
      .all([dataAccount.primaryEndpoints, deployments.name, packageBlobName])
      .apply(([endpoints, containerName, blobName]) => packageBlobUrl({ blobEndpoint: endpoints.blob, containerName, blobName }));

    // --- Observability.
    const workspace = new azure.operationalinsights.Workspace(
      `${name}-logs`,
      // Log Analytics keeps data 30 days at least.
      { resourceGroupName, location, sku: { name: "PerGB2018" }, retentionInDays: Math.min(730, Math.max(30, config.logRetentionDays)), tags },
      parent,
    );
    const insights = new azure.applicationinsights.Component(
      `${name}-insights`,
      { resourceGroupName, location, kind: "web", applicationType: "web", ingestionMode: "LogAnalytics", workspaceResourceId: workspace.id, tags },
      parent,
    );

    // --- Notifications: CloudEvents on a topic that only accepts Entra ID.
    const topic = new azure.eventgrid.Topic(
      `${name}-events`,
      { resourceGroupName, location, inputSchema: "CloudEventSchemaV1_0", disableLocalAuth: true, minimumTlsVersionAllowed: "1.2", tags },
      parent,
    );

    // --- Function App.
    const servicePlan = new azure.web.AppServicePlan(
      `${name}-plan`,
      {
        resourceGroupName,
        location,
        kind: plan === "flex" ? "functionapp" : plan === "premium" ? "elastic" : "linux",
        reserved: true,
        sku: plan === "premium" ? { ...PLAN_SKUS.premium, capacity: config.azure.premiumMinInstances } : PLAN_SKUS[plan],
        maximumElasticWorkerCount: plan === "premium" ? Math.max(20, config.azure.premiumMinInstances) : undefined,
        tags,
      },
      parent,
    );
    const appSettings = pulumi
      .all([dataAccount.name, dataAccount.primaryEndpoints, topic.endpoint, insights.connectionString, codePackage, packageUrl])
      .apply(([storageAccountName, endpoints, eventGridTopicEndpoint, applicationInsightsConnectionString, { sha256 }, packageUrl]) =>
        Object.entries(
          functionAppSettings({
            plan,
            storageAccountName,
            endpoints,
            containers: CONTAINERS,
            jobsTable: JOBS_TABLE,
            eventGridTopicEndpoint: eventGridTopicEndpoint ?? "",
            applicationInsightsConnectionString,
            processing: config.processing,
            retentionDays: config.retentionDays,
            packageSha256: sha256,
            packageUrl: plan === "flex" ? undefined : packageUrl,
          }),
        ).map(([settingName, value]) => ({ name: settingName, value })),
      );
    const siteConfig = {
      appSettings,
      ftpsState: "Disabled",
      minTlsVersion: "1.2",
      scmMinTlsVersion: "1.2",
      http20Enabled: true,
      ...(plan === "premium" ? { linuxFxVersion: `Node|${NODE_VERSION}`, minimumElasticInstanceCount: config.azure.premiumMinInstances } : {}),
      ...(plan === "dedicated" ? { linuxFxVersion: `Node|${NODE_VERSION}`, alwaysOn: true } : {}),
    };
    const app = new azure.web.WebApp(
      `${name}-func`,
      {
        resourceGroupName,
        location,
        kind: "functionapp,linux",
        serverFarmId: servicePlan.id,
        reserved: true,
        httpsOnly: true,
        clientAffinityEnabled: false,
        identity: { type: "SystemAssigned" },
        siteConfig,
        functionAppConfig:
          plan === "flex"
            ? {
                deployment: {
                  storage: {
                    type: "blobContainer",
                    value: pulumi.interpolate`${dataAccount.primaryEndpoints.blob}${deployments.name}`,
                    authentication: { type: "SystemAssignedIdentity" },
                  },
                },
                runtime: { name: "node", version: NODE_VERSION },
                scaleAndConcurrency: { instanceMemoryMB: config.azure.flexInstanceMemoryMb, maximumInstanceCount: config.azure.flexMaximumInstances },
              }
            : undefined,
        tags,
      },
      { parent: this, dependsOn: [packageBlob] },
    );
    if (plan !== "flex") {
      // No basic-auth publishing (FTP, Kudu): deployments go through the package blob. Flex has neither.
      new azure.web.WebAppScmAllowed(`${name}-scm-basic-auth`, { resourceGroupName, name: app.name, allow: false }, parent);
      new azure.web.WebAppFtpAllowed(`${name}-ftp-basic-auth`, { resourceGroupName, name: app.name, allow: false }, parent);
    }

    // --- Upload events: the storage account's system topic → the upload-events queue.
    const storageEvents = new azure.eventgrid.SystemTopic(
      `${name}-storage-events`,
      { resourceGroupName, location, source: dataAccount.id, topicType: "Microsoft.Storage.StorageAccounts", identity: { type: "SystemAssigned" }, tags },
      parent,
    );

    // --- Roles: each on the one resource it is for.
    const principalOf = (identity: pulumi.Output<{ principalId?: string } | undefined>, what: string) =>
      identity.apply((value) => {
        if (!value?.principalId) throw new Error(`${what} has no system-assigned identity to grant roles to.`);
        return value.principalId;
      });
    const appPrincipal = principalOf(app.identity, `Function App ${name}-func`);
    const assign = (suffix: string, role: RoleName, scope: pulumi.Input<string>, principalId: pulumi.Input<string>) =>
      new azure.authorization.RoleAssignment(
        `${name}-${suffix}`,
        { principalId, principalType: "ServicePrincipal", roleDefinitionId: subscriptionId.apply((id) => roleDefinitionId(id, role)), scope },
        parent,
      );
    // Host storage with an identity needs Blob Data Owner on the account (it creates its containers at run time);
    // that also covers the steps' containers and the package (Flex deployment storage, WEBSITE_RUN_FROM_PACKAGE).
    assign("app-blob-owner", "storageBlobDataOwner", dataAccount.id, appPrincipal);
    assign("app-queue-contributor", "storageQueueDataContributor", dataAccount.id, appPrincipal);
    assign("app-table-contributor", "storageTableDataContributor", dataAccount.id, appPrincipal);
    assign("app-events-sender", "eventGridDataSender", topic.id, appPrincipal);
    const storageEventsPrincipal = principalOf(storageEvents.identity, `System topic ${name}-storage-events`);
    const queueSender = assign("storage-events-queue-sender", "storageQueueDataMessageSender", uploadEvents.id, storageEventsPrincipal);
    // Events Event Grid cannot deliver to the queue within its retries are written here, not dropped.
    const deadLetters = container(DEAD_LETTERS_CONTAINER);
    const deadLetterWriter = assign("storage-events-dead-letter-writer", "storageBlobDataContributor", deadLetters.id, storageEventsPrincipal);

    new azure.eventgrid.SystemTopicEventSubscription(
      `${name}-uploads-created`,
      {
        resourceGroupName,
        systemTopicName: storageEvents.name,
        eventDeliverySchema: "CloudEventSchemaV1_0",
        filter: { includedEventTypes: ["Microsoft.Storage.BlobCreated"], subjectBeginsWith: `/blobServices/default/containers/${CONTAINERS.uploads}/blobs/` },
        deliveryWithResourceIdentity: {
          identity: { type: "SystemAssigned" },
          destination: { endpointType: "StorageQueue", resourceId: dataAccount.id, queueName: uploadEvents.name, queueMessageTimeToLiveInSeconds: 7 * 24 * 3600 },
        },
        retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 24 * 60 },
        deadLetterWithResourceIdentity: {
          identity: { type: "SystemAssigned" },
          deadLetterDestination: { endpointType: "StorageBlob", resourceId: dataAccount.id, blobContainerName: deadLetters.name },
        },
      },
      { parent: this, dependsOn: [queueSender, deadLetterWriter] },
    );

    const blobEndpoint = dataAccount.primaryEndpoints.blob;
    this.uploadsStore = pulumi.interpolate`${blobEndpoint}${uploads.name}`;
    this.renditionsStore = pulumi.interpolate`${blobEndpoint}${renditions.name}`;
    this.workflowId = app.name;
    this.jobsTable = jobs.name;
    this.notificationsTopic = topic.endpoint.apply((endpoint) => endpoint ?? "");
    this.deadLetters = pulumi.interpolate`${blobEndpoint}${deadLetters.name}`;
    this.uploadCommand = pulumi.interpolate`az storage blob upload --auth-mode login --account-name ${dataAccount.name} --container-name ${uploads.name} --file ./photo.jpg --name photo.jpg`;
    this.resourceGroupName = resourceGroupName;
    this.storageAccountName = dataAccount.name;
    this.functionAppName = app.name;
    this.orchestratorName = pulumi.output(ORCHESTRATOR_NAME);

    this.registerOutputs({
      uploadsStore: this.uploadsStore,
      renditionsStore: this.renditionsStore,
      workflowId: this.workflowId,
      jobsTable: this.jobsTable,
      notificationsTopic: this.notificationsTopic,
      uploadCommand: this.uploadCommand,
      deadLetters: this.deadLetters,
    });
  }
}
