import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { apiAuthMode, cdnEnabled, parseAzureUploader, type PipelineConfig } from "../config";
import { azureApiAppSettings, ORCHESTRATOR_NAME, RATE_LIMIT_TABLE, REPROCESS_ROUTE } from "../../functions/azure/contract";
import type { ImagePipelineOutputs } from "../outputs";
import { pipelineTags } from "../tags";
import { AzureApiAccess, hasApiApp } from "./api";
import { DeployerPrincipal } from "./deployer";
import { PipelineAlerts } from "./alerts";
import { API_ROUTE_PREFIX, RenditionsFrontDoor } from "./frontDoor";
import { PipelineFunctionApp } from "./functionApp";
import { Observability } from "./observability";
import { grantRole } from "./roles";
import { PipelineStorage } from "./storage";
import { UploadTrigger } from "./trigger";
import { PipelineWorkbook } from "./workbook";

export { CONTAINERS, DEAD_LETTERS_CONTAINER, DEAD_LETTER_RETENTION_DAYS, DEPLOYMENTS_CONTAINER, JOBS_TABLE, SOFT_DELETE_DAYS, lifecycleRules, storageAccountStem } from "./storage";
export { NODE_VERSION } from "./functionApp";

/**
 * The pipeline on Azure: Blob Storage → Event Grid → a queue → a Durable
 * Functions orchestrator on a Linux Function App (Flex Consumption, Premium or
 * Dedicated), Table Storage for jobs, an Event Grid topic for notifications,
 * Application Insights and blob access logs on a Log Analytics workspace.
 *
 * Everything is reached with Microsoft Entra ID: the storage account refuses
 * shared keys, the topic refuses access keys, the app uses a user-assigned
 * identity, the deployer deploys the code with its own login, and each role is
 * assigned on the one resource that needs it.
 *
 * The sub-components carry the pipeline's own name (their types differ), so
 * their children keep the names they had when they were children of this
 * component; aliases keep their URNs.
 */

export interface AzureImagePipelineArgs {
  /** The validated stack config (components/config.ts). */
  config: PipelineConfig;
  /**
   * A prebuilt code package (zip with index.js, host.json, package.json at its
   * root) to deploy instead of bundling functions/azure/app.ts; for CI caches and tests.
   */
  packagePath?: pulumi.Input<string>;
  /** How long the code deployment retries before `pulumi up` fails. Default 10 minutes. */
  deployTimeoutSeconds?: number;
  /** Whether the code has the HTTP API (functions/api/app.ts); default: whether that file exists. */
  withApi?: boolean;
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
  /** The uploads container's resource id, where the deployer and `uploaders` hold Storage Blob Data Contributor. */
  readonly uploadersGrant: pulumi.Output<string>;
  readonly resourceGroupName: pulumi.Output<string>;
  readonly storageAccountName: pulumi.Output<string>;
  readonly functionAppName: pulumi.Output<string>;
  readonly orchestratorName: pulumi.Output<string>;
  /** The action group the alerts notify (email from config.alertEmail). */
  readonly alertsActionGroup: pulumi.Output<string>;
  /** The resources that hold data (storage account, uploads and renditions containers, jobs table), protected from deletion when config.protectData is on. */
  readonly dataResources: pulumi.CustomResource[];
  /** The API's base URL (through Front Door when the CDN is on); "" without the API. */
  readonly apiUrl: pulumi.Output<string>;
  /** Where renditions are served: the Front Door URL, or "" without a CDN (the API signs SAS URLs then). */
  readonly renditionsUrl: pulumi.Output<string>;
  /**
   * POST here with the StartReprocess function's key (`?code=`) and `{"prefix": "..."}` to start a reprocess: the app's own
   * host, or with the API behind Front Door (CDN on) the Front Door URL, since the app's host then answers Front Door only.
   */
  readonly reprocessStarter: pulumi.Output<string>;

  constructor(name: string, args: AzureImagePipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:azure:ImagePipeline", name, {}, opts);
    const { config } = args;
    const { location } = config.azure;
    const tags = pipelineTags(config);
    const parent = { parent: this };

    const resourceGroupName = config.azure.resourceGroupName
      ? pulumi.output(config.azure.resourceGroupName)
      : new azure.resources.ResourceGroup(`${name}-rg`, { location, tags }, parent).name;
    // The identity running `pulumi up`: role definitions live in its subscription; it uploads and deploys.
    const { subscriptionId, objectId: deployerObjectId } = azure.authorization.getClientConfigOutput(parent);
    const deployer = { objectId: deployerObjectId, principalType: new DeployerPrincipal(`${name}-deployer`, { objectId: deployerObjectId }, parent).principalType };

    const storage = new PipelineStorage(name, { config, resourceGroupName, location, tags }, parent);
    this.dataResources = storage.dataResources;
    const observability = new Observability(name, { resourceGroupName, location, logRetentionDays: config.logRetentionDays, storageAccountId: storage.account.id, tags }, parent);

    // Notifications: CloudEvents on a topic that only accepts Entra ID.
    const topic = new azure.eventgrid.Topic(
      `${name}-events`,
      { resourceGroupName, location, inputSchema: "CloudEventSchemaV1_0", disableLocalAuth: true, minimumTlsVersionAllowed: "1.2", tags },
      parent,
    );

    // The app's settings name the Front Door URL, and Front Door's API origin is the app: set once both exist.
    const withApi = args.withApi ?? hasApiApp();
    const withCdn = cdnEnabled(config);
    const [renditionsUrl, setRenditionsUrl] = pulumi.deferredOutput<string>();
    // Behind Front Door the app admits only its profile's id; the profile does not wait for the app, so no cycle.
    const behindFrontDoor = withApi && withCdn;
    const [frontDoorId, setFrontDoorId] = pulumi.deferredOutput<string>();
    const functionApp = new PipelineFunctionApp(
      name,
      {
        config,
        resourceGroupName,
        location,
        subscriptionId,
        deployer,
        storage,
        topic,
        applicationInsightsConnectionString: observability.insights.connectionString,
        packagePath: args.packagePath,
        deployTimeoutSeconds: args.deployTimeoutSeconds,
        tags,
        ...(withApi
          ? {
              appTags: { "api-auth": apiAuthMode(config) },
              apiSettings: azureApiAppSettings({ api: config.api, deliveryBaseUrl: renditionsUrl, rateLimitTable: pulumi.output(RATE_LIMIT_TABLE), ...(behindFrontDoor ? { frontDoorId } : {}) }),
            }
          : {}),
        ...(behindFrontDoor ? { frontDoorId } : {}),
      },
      parent,
    );
    if (withApi) {
      new AzureApiAccess(
        `${name}-api`,
        {
          principalId: functionApp.identity.principalId,
          subscriptionId,
          resourceGroupName,
          storageAccountName: storage.account.name,
          storageAccountId: storage.account.id,
          uploadsContainerId: storage.uploads.id,
          renditionsContainerId: storage.renditions.id,
        },
        parent,
      );
    }

    const frontDoor = withCdn
      ? new RenditionsFrontDoor(
          `${name}-fd`,
          {
            resourceGroupName,
            location,
            subscriptionId,
            blobEndpoint: storage.blobEndpoint,
            renditionsContainerName: storage.renditions.name,
            renditionsContainerId: storage.renditions.id,
            apiHostName: functionApp.app.defaultHostName,
            tier: config.delivery.frontDoorTier,
            formats: config.processing.formats,
            maxAgeSeconds: config.delivery.maxAgeSeconds,
            rateLimit: config.delivery.rateLimit,
            domain: config.delivery.domain,
            tags,
          },
          parent,
        )
      : undefined;
    setRenditionsUrl(frontDoor ? frontDoor.url : pulumi.output(""));
    setFrontDoorId(frontDoor ? frontDoor.frontDoorId : pulumi.output(""));
    this.renditionsUrl = renditionsUrl;
    this.apiUrl = !withApi ? pulumi.output("") : frontDoor ? pulumi.interpolate`${frontDoor.url}/${API_ROUTE_PREFIX}` : pulumi.interpolate`https://${functionApp.app.defaultHostName}/${API_ROUTE_PREFIX}`;

    const trigger = new UploadTrigger(
      name,
      { resourceGroupName, location, subscriptionId, storageAccountId: storage.account.id, uploadEventsQueue: storage.uploadEvents, deleteEventsQueue: storage.deleteEvents, deadLetters: storage.deadLetters, tags },
      parent,
    );

    // Monitoring: the alerts (to an action group) and the workbook read the app's Application Insights and the workspace.
    const monitored = { resourceGroupName, location, insightsId: observability.insights.id, tags };
    const alerts = new PipelineAlerts(
      `${name}-alerts`,
      { ...monitored, workspaceId: observability.workspace.id, deleteEventsSubscriptionName: trigger.deleteSubscriptionName, eventsTopicId: trigger.systemTopic.id, alertEmail: config.alertEmail },
      parent,
    );
    new PipelineWorkbook(`${name}-monitoring`, monitored, parent);
    this.alertsActionGroup = alerts.actionGroupId;

    // Uploading: the deployer (so `uploadCommand` works as is) and the configured uploaders, on the uploads container only.
    // An assignment cannot be updated in place, and two for the same principal, role and scope conflict: delete first.
    const uploader = (suffix: string, principalId: pulumi.Input<string>, principalType: pulumi.Input<"User" | "ServicePrincipal" | "Group">) =>
      grantRole(`${name}-${suffix}`, { principalId, principalType, role: "storageBlobDataContributor", scope: storage.uploads.id, subscriptionId }, { parent: this, deleteBeforeReplace: true });
    uploader("deployer-uploads", deployer.objectId, deployer.principalType);
    for (const { objectId, principalType } of config.uploaders.map(parseAzureUploader)) uploader(`uploader-${objectId.toLowerCase()}`, objectId, principalType);

    const blobEndpoint = storage.blobEndpoint;
    this.uploadsStore = pulumi.interpolate`${blobEndpoint}${storage.uploads.name}`;
    this.renditionsStore = pulumi.interpolate`${blobEndpoint}${storage.renditions.name}`;
    this.workflowId = functionApp.app.name;
    this.jobsTable = storage.jobs.name;
    this.notificationsTopic = topic.endpoint.apply((endpoint) => endpoint ?? "");
    this.deadLetters = pulumi.interpolate`${blobEndpoint}${storage.deadLetters.name}`;
    this.uploadCommand = pulumi.interpolate`az storage blob upload --auth-mode login --account-name ${storage.account.name} --container-name ${storage.uploads.name} --file ./photo.jpg --name photo.jpg`;
    this.uploadersGrant = storage.uploads.id;
    this.resourceGroupName = resourceGroupName;
    this.storageAccountName = storage.account.name;
    this.functionAppName = functionApp.app.name;
    this.orchestratorName = pulumi.output(ORCHESTRATOR_NAME);
    // Routes sit under the host's `api` prefix (https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#customize-the-http-endpoint);
    // behind Front Door its /api/* route reaches the function too (the app's own host then refuses everyone else), else the app's host.
    this.reprocessStarter = behindFrontDoor && frontDoor
      ? pulumi.interpolate`${frontDoor.url}/${API_ROUTE_PREFIX}/${REPROCESS_ROUTE}`
      : pulumi.interpolate`https://${functionApp.app.defaultHostName}/${API_ROUTE_PREFIX}/${REPROCESS_ROUTE}`;

    this.registerOutputs({
      uploadsStore: this.uploadsStore,
      renditionsStore: this.renditionsStore,
      workflowId: this.workflowId,
      jobsTable: this.jobsTable,
      notificationsTopic: this.notificationsTopic,
      uploadCommand: this.uploadCommand,
      deadLetters: this.deadLetters,
      uploadersGrant: this.uploadersGrant,
      apiUrl: this.apiUrl,
      renditionsUrl: this.renditionsUrl,
      reprocessStarter: this.reprocessStarter,
    });
  }
}
