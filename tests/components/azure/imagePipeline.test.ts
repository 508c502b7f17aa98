import * as assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { loadConfig, type PipelineConfig } from "../../../components/config";
import { FLEX_FORBIDDEN_SETTINGS } from "../../../components/azure/appSettings";
import { AzureImagePipeline, storageAccountStem } from "../../../components/azure/imagePipeline";
import { ROLES } from "../../../components/azure/roles";
import { DELETE_EVENTS_QUEUE, UPLOAD_EVENTS_QUEUE } from "../../../functions/azure/contract";
import { isTaggable, outputValue, setupPulumiMocks, type PulumiMocks, type RecordedResource } from "../../helpers/pulumiMocks";

const T = {
  resourceGroup: "azure-native:resources:ResourceGroup",
  account: "azure-native:storage:StorageAccount",
  blobService: "azure-native:storage:BlobServiceProperties",
  container: "azure-native:storage:BlobContainer",
  lifecycle: "azure-native:storage:ManagementPolicy",
  table: "azure-native:storage:Table",
  queue: "azure-native:storage:Queue",
  packageBlob: "pulumi-nodejs:dynamic/azure:PackageBlob",
  deployment: "pulumi-nodejs:dynamic/azure:CodeDeployment",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  deployer: "pulumi-nodejs:dynamic/azure:DeployerPrincipal",
  diagnostics: "azure-native:monitor:DiagnosticSetting",
  workspace: "azure-native:operationalinsights:Workspace",
  insights: "azure-native:applicationinsights:Component",
  topic: "azure-native:eventgrid:Topic",
  systemTopic: "azure-native:eventgrid:SystemTopic",
  subscription: "azure-native:eventgrid:SystemTopicEventSubscription",
  plan: "azure-native:web:AppServicePlan",
  app: "azure-native:web:WebApp",
  scmAllowed: "azure-native:web:WebAppScmAllowed",
  ftpAllowed: "azure-native:web:WebAppFtpAllowed",
  role: "azure-native:authorization:RoleAssignment",
} as const;

const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
const UPLOADER = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const CONNECTION_STRING = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/";

/** Outputs Azure computes, shaped like the real ones. */
const azureOutputs = {
  [T.account]: (args: pulumi.runtime.MockResourceArgs) => {
    const name = `${args.name}x1y2z3w4`;
    const endpoint = (service: string) => `https://${name}.${service}.core.windows.net/`;
    return { name, primaryEndpoints: { blob: endpoint("blob"), queue: endpoint("queue"), table: endpoint("table"), file: endpoint("file"), dfs: endpoint("dfs"), web: endpoint("web") } };
  },
  [T.container]: (args: pulumi.runtime.MockResourceArgs) => ({ name: args.inputs.containerName }),
  [T.table]: (args: pulumi.runtime.MockResourceArgs) => ({ name: args.inputs.tableName }),
  [T.queue]: (args: pulumi.runtime.MockResourceArgs) => ({ name: args.inputs.queueName }),
  // What the provider reads from the deployer's token at `pulumi up`: here, a service principal.
  [T.deployer]: () => ({ principalType: "ServicePrincipal" }),
  [T.identity]: (args: pulumi.runtime.MockResourceArgs) => ({ principalId: `principal-of-${args.name}`, clientId: `client-of-${args.name}` }),
  [T.packageBlob]: (args: pulumi.runtime.MockResourceArgs) => ({ url: `${args.inputs.blobEndpoint}${args.inputs.containerName}/${args.inputs.blobName}` }),
  [T.app]: (args: pulumi.runtime.MockResourceArgs) => ({
    name: `${args.name}-a1b2c3`,
    defaultHostName: `${args.name}-a1b2c3.azurewebsites.net`,
    identity: { type: "SystemAssigned", principalId: `principal-of-${args.name}`, tenantId: "tenant" },
  }),
  [T.topic]: (args: pulumi.runtime.MockResourceArgs) => ({ endpoint: `https://${args.name}.westeurope-1.eventgrid.azure.net/api/events` }),
  [T.systemTopic]: (args: pulumi.runtime.MockResourceArgs) => ({ identity: { type: "SystemAssigned", principalId: `principal-of-${args.name}` } }),
  [T.insights]: () => ({ connectionString: CONNECTION_STRING }),
};

const configs = {
  flex: loadConfig({
    cloud: "azure",
    tags: { owner: "platform-team", project: "someone-else" },
    dataClassification: "confidential",
    steps: { optimize: { timeoutSeconds: 300 } },
    uploaders: [`Group:${UPLOADER.toUpperCase()}`],
  }),
  premium: loadConfig({ cloud: "azure", azure: { plan: "premium", premiumMinInstances: 2, resourceGroupName: "shared-rg" }, renditionsInfrequentAccessDays: 90, retentionDays: 60 }),
  dedicated: loadConfig({ cloud: "azure", azure: { plan: "dedicated" }, protectData: false }),
};

type Plan = keyof typeof configs;
const stacks: Record<Plan, { name: string; outputs: Record<string, pulumi.Output<string>>; pipeline: AzureImagePipeline }> = {} as never;
let mocks: PulumiMocks;
let small: AzureImagePipeline | undefined;

/** Resources of one type that belong to one component: children are named after it, storage accounts by a hashed stem. */
function of(plan: Plan, type: string): RecordedResource[] {
  return mocks.ofType(type).filter((r) => r.name.startsWith(`${stacks[plan].name}-`) || accountOwners.get(r.name) === plan);
}

const accountOwners = new Map<string, Plan>();

function one(plan: Plan, type: string, suffix?: string): RecordedResource {
  const found = of(plan, type).filter((r) => suffix === undefined || r.name.endsWith(suffix));
  assert.equal(found.length, 1, `expected one ${type}${suffix ? ` (${suffix})` : ""} in the ${plan} stack, found ${found.map((r) => r.name).join(", ") || "none"}`);
  return found[0]!;
}

function settings(plan: Plan): Record<string, string> {
  const app = one(plan, T.app);
  return Object.fromEntries((app.inputs.siteConfig.appSettings as Array<{ name: string; value: string }>).map((s) => [s.name, s.value]));
}

describe("AzureImagePipeline", function () {
  this.timeout(120_000);

  before(async () => {
    mocks = await setupPulumiMocks({
      stack: "dev-azure",
      outputs: azureOutputs,
      calls: { "azure-native:authorization:getClientConfig": () => ({ subscriptionId: SUBSCRIPTION, tenantId: "tenant", clientId: "client", objectId: "deployer" }) },
    });
    const dir = mkdtempSync(path.join(tmpdir(), "azure-pkg-"));
    const packagePath = path.join(dir, "package.zip");
    writeFileSync(packagePath, "PK\u0003\u0004 not really a zip");
    for (const plan of Object.keys(configs) as Plan[]) {
      const name = `ip-${plan}`;
      accountOwners.set(storageAccountStem(name, "data"), plan);
      const pipeline = new AzureImagePipeline(name, { config: configs[plan] as PipelineConfig, packagePath });
      stacks[plan] = {
        name,
        pipeline,
        outputs: {
          uploadsStore: pipeline.uploadsStore,
          renditionsStore: pipeline.renditionsStore,
          workflowId: pipeline.workflowId,
          jobsTable: pipeline.jobsTable,
          notificationsTopic: pipeline.notificationsTopic,
          uploadCommand: pipeline.uploadCommand,
          deadLetters: pipeline.deadLetters,
          uploadersGrant: pipeline.uploadersGrant,
        },
      };
    }
    // A small-instance stack beside them: 512 MB Flex instances, which run one activity at a time.
    small = new AzureImagePipeline("ip-small", {
      config: loadConfig({ cloud: "azure", azure: { flexInstanceMemoryMb: 512 }, memoryMb: 512, limits: { maxPixels: 24_000_000 } }) as PipelineConfig,
      packagePath,
    });
    await mocks.settle();
  });

  describe("inventory", () => {
    it("declares the pipeline's resources for the default (Flex Consumption) plan", () => {
      const counts = Object.fromEntries(Object.values(T).map((type) => [type, of("flex", type).length]));

      assert.deepEqual(counts, {
        [T.resourceGroup]: 1,
        [T.account]: 1,
        [T.blobService]: 1,
        [T.container]: 5,
        [T.lifecycle]: 1,
        // The jobs table and the HTTP API's rate-limit table.
        [T.table]: 2,
        // Upload events and delete events.
        [T.queue]: 2,
        [T.packageBlob]: 0,
        [T.deployment]: 1,
        [T.identity]: 1,
        [T.diagnostics]: 1,
        [T.deployer]: 1,
        [T.workspace]: 1,
        [T.insights]: 1,
        [T.topic]: 1,
        [T.systemTopic]: 1,
        [T.subscription]: 2,
        [T.plan]: 1,
        [T.app]: 1,
        [T.scmAllowed]: 0,
        [T.ftpAllowed]: 0,
        // The steps', Event Grid's, the deployer's and the uploaders' nine, and the HTTP API's four (components/azure/api.ts).
        [T.role]: 13,
      });
    });

    it("uses an existing resource group when one is configured", () => {
      assert.equal(of("premium", T.resourceGroup).length, 0);
      for (const r of of("premium", T.account)) assert.equal(r.inputs.resourceGroupName, "shared-rg");
    });

    it("parents every resource to the pipeline or one of its parts", () => {
      const parts = ["ImagePipeline", "Storage", "FunctionApp", "UploadTrigger", "Observability", "Alerts", "Workbook", "ApiAccess"].map((part) => `image-pipeline:azure:${part}`);
      for (const r of mocks.customResources()) assert.ok(parts.includes(r.parentType ?? ""), `${r.type} ${r.name} is a child of ${r.parentType}`);
      assert.deepEqual(
        mocks.resources.filter((r) => !r.custom && r.name === "ip-flex").map((r) => r.type).sort(),
        ["image-pipeline:azure:FunctionApp", "image-pipeline:azure:ImagePipeline", "image-pipeline:azure:Observability", "image-pipeline:azure:Storage", "image-pipeline:azure:UploadTrigger"],
      );
      // The HTTP API's grants have their own part, a child of the pipeline.
      assert.deepEqual(
        mocks.resources.filter((r) => !r.custom && r.name === "ip-flex-api").map((r) => [r.type, r.parentType]),
        [["image-pipeline:azure:ApiAccess", "image-pipeline:azure:ImagePipeline"]],
      );
    });

    it("alerts on the stack's own Application Insights and workspace, to its action group, and adds a workbook on the component", () => {
      const insights = one("flex", T.insights).state.id;
      const workspace = one("flex", T.workspace).state.id;
      const rules = of("flex", "azure-native:monitor:ScheduledQueryRule");

      assert.equal(rules.length, 11);
      // The erase dead-letter alert reads the delete subscription's own folder of the dead-letters container.
      const deleteSubscription = of("flex", "azure-native:eventgrid:SystemTopicEventSubscription").find((r) => r.name.endsWith("-uploads-deleted"))!;
      const eraseDeadLetters = rules.find((r) => r.name.endsWith("-erase-dead-letters"))!;
      assert.ok(eraseDeadLetters.inputs.criteria.allOf[0].query.includes(`Uri contains "/dead-letters/${deleteSubscription.state.name}/"`));
      assert.deepEqual([...new Set(rules.map((r) => r.inputs.scopes[0]))].sort(), [insights, workspace].sort());
      assert.deepEqual([...new Set(rules.map((r) => r.inputs.actions.actionGroups[0]))], [one("flex", "azure-native:monitor:ActionGroup").state.id]);
      assert.equal(one("flex", "azure-native:applicationinsights:Workbook").inputs.sourceId, insights);
    });

    it("makes no provider call but the client config lookup (no host keys, no listKeys)", () => {
      assert.deepEqual([...new Set(mocks.calls.map((c) => c.token))], ["azure-native:authorization:getClientConfig"]);
    });

    it("tags everything taggable with project, stack, data classification and the configured tags", () => {
      const taggable = of("flex", T.account).concat(...Object.values(T).filter((t) => t !== T.account).map((t) => of("flex", t))).filter((r) => isTaggable(r.type));
      assert.deepEqual([...new Set(taggable.map((r) => r.type))].sort(), [T.insights, T.topic, T.systemTopic, T.workspace, T.resourceGroup, T.account, T.plan, T.app, T.identity].sort());
      for (const r of taggable) {
        // The Function App, which hosts the HTTP API, also carries its auth mode, for the policy pack.
        const extra = r.type === T.app ? { "api-auth": "none" } : {};
        assert.deepEqual(r.inputs.tags, { project: "image-pipeline", stack: "dev-azure", "data-classification": "confidential", owner: "platform-team", ...extra }, `${r.type} ${r.name}: the required tags win over a user tag "project"`);
      }
    });
  });

  describe("storage", () => {
    it("refuses shared keys, public access, plain HTTP and old TLS on the storage account", () => {
      for (const plan of Object.keys(configs) as Plan[]) {
        const account = one(plan, T.account);
        assert.equal(account.inputs.kind, "StorageV2");
        assert.equal(account.inputs.allowSharedKeyAccess, false);
        assert.equal(account.inputs.allowBlobPublicAccess, false);
        assert.equal(account.inputs.enableHttpsTrafficOnly, true);
        assert.equal(account.inputs.minimumTlsVersion, "TLS1_2");
        assert.equal(account.inputs.location, "westeurope");
      }
    });

    it("Premium: uploads the code package with the deploying identity, allowed into the deployments container only", () => {
      const account = one("premium", T.account);
      const deployments = of("premium", T.container).find((r) => r.inputs.containerName === "deployments")!;
      const upload = one("premium", T.packageBlob);
      const deployerGrant = of("premium", T.role).find((r) => r.name === "ip-premium-deployer-package")!;

      assert.equal(upload.inputs.blobEndpoint, account.state.primaryEndpoints.blob);
      assert.equal(upload.inputs.containerName, "deployments");
      assert.match(upload.inputs.sha256, /^[0-9a-f]{64}$/);
      assert.equal(deployerGrant.inputs.principalId, "deployer");
      assert.equal(deployerGrant.inputs.scope, deployments.id);
      assert.equal(deployerGrant.inputs.roleDefinitionId, `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${ROLES.storageBlobDataContributor}`);
    });

    it("Flex: uploads no package blob and gives the deployer no role on the deployments container (One Deploy writes it)", () => {
      assert.equal(of("flex", T.packageBlob).length, 0);
      assert.equal(of("flex", T.role).filter((r) => r.name.endsWith("-deployer-package")).length, 0);
    });

    it("versions blobs and soft-deletes blobs and containers", () => {
      const service = one("flex", T.blobService);

      assert.equal(service.inputs.isVersioningEnabled, true);
      assert.deepEqual(service.inputs.deleteRetentionPolicy, { enabled: true, days: 7 });
      assert.deepEqual(service.inputs.containerDeleteRetentionPolicy, { enabled: true, days: 7 });
    });

    it("creates private uploads, work, renditions, deployments and dead-letters containers, the jobs table and the events queues", () => {
      const containers = of("flex", T.container);

      assert.deepEqual(containers.map((c) => c.inputs.containerName).sort(), ["dead-letters", "deployments", "renditions", "uploads", "work"]);
      for (const c of containers) assert.equal(c.inputs.publicAccess, "None");
      assert.equal(one("flex", T.table, "-jobs").inputs.tableName, "jobs");
      assert.equal(one("flex", T.queue, "-upload-events").inputs.queueName, UPLOAD_EVENTS_QUEUE);
      assert.equal(one("flex", T.queue, "-delete-events").inputs.queueName, DELETE_EVENTS_QUEUE);
    });

    it("protects the storage account, the uploads and renditions containers and the jobs table from pulumi destroy, unless protectData is off", () => {
      const protection = (plan: Plan) =>
        stacks[plan].pipeline.dataResources.map((r) => [(r as unknown as { __name?: string }).__name, (r as unknown as { __protect?: boolean }).__protect]);

      assert.deepEqual(protection("flex"), [[storageAccountStem("ip-flex", "data"), true], ["ip-flex-uploads", true], ["ip-flex-renditions", true], ["ip-flex-jobs", true]]);
      assert.ok(protection("dedicated").every(([, isProtected]) => isProtected === false));
    });

    it("expires the work area after a day and old upload versions after retentionDays", () => {
      const rules = one("flex", T.lifecycle).inputs.policy.rules as Array<{ name: string; definition: { filters: { prefixMatch: string[] }; actions: Record<string, unknown> } }>;
      const rule = (prefix: string) => rules.find((r) => r.definition.filters.prefixMatch.includes(prefix))!;

      assert.deepEqual(rule("work/").definition.actions, { baseBlob: { delete: { daysAfterModificationGreaterThan: 1 } }, version: { delete: { daysAfterCreationGreaterThan: 1 } } });
      assert.deepEqual(rule("uploads/").definition.actions, { version: { delete: { daysAfterCreationGreaterThan: 30 } } });
      assert.equal(rule("renditions/").definition.actions.baseBlob, undefined, "no tiering unless configured");
      assert.deepEqual(rule("dead-letters/").definition.actions, { baseBlob: { delete: { daysAfterModificationGreaterThan: 14 } }, version: { delete: { daysAfterCreationGreaterThan: 14 } } }, "kept 14 days, as the SQS dead-letter queue");
    });

    it("moves renditions to the cool tier when renditionsInfrequentAccessDays is set", () => {
      const rules = one("premium", T.lifecycle).inputs.policy.rules as Array<{ definition: { filters: { prefixMatch: string[] }; actions: Record<string, unknown> } }>;
      const renditions = rules.find((r) => r.definition.filters.prefixMatch.includes("renditions/"))!;

      assert.deepEqual(renditions.definition.actions, { version: { delete: { daysAfterCreationGreaterThan: 60 } }, baseBlob: { tierToCool: { daysAfterModificationGreaterThan: 90 } } });
    });
  });

  describe("function app", () => {
    it("runs on a Flex Consumption plan with the package in a blob container reached by the user-assigned identity", () => {
      const plan = one("flex", T.plan);
      const app = one("flex", T.app);
      const account = one("flex", T.account);
      const identity = one("flex", T.identity);

      assert.deepEqual(plan.inputs.sku, { name: "FC1", tier: "FlexConsumption" });
      assert.equal(plan.inputs.reserved, true);
      assert.equal(app.inputs.kind, "functionapp,linux");
      assert.deepEqual(app.inputs.functionAppConfig, {
        deployment: {
          storage: { type: "blobContainer", value: `${account.state.primaryEndpoints.blob}deployments`, authentication: { type: "UserAssignedIdentity", userAssignedIdentityResourceId: identity.id } },
        },
        runtime: { name: "node", version: "22" },
        scaleAndConcurrency: { instanceMemoryMB: 2048, maximumInstanceCount: 100 },
      });
      assert.equal(app.inputs.siteConfig.linuxFxVersion, undefined, "Flex takes the runtime from functionAppConfig");
    });

    it("sizes the Flex instances from azure.flexInstanceMemoryMb (512 MB on the small stack)", () => {
      assert.ok(small, "the small stack was built");
      const apps = mocks.ofType(T.app).filter((r) => r.name.startsWith("ip-small-"));
      assert.equal(apps.length, 1);
      assert.deepEqual((apps[0]!.inputs.functionAppConfig as { scaleAndConcurrency: unknown }).scaleAndConcurrency, { instanceMemoryMB: 512, maximumInstanceCount: 100 });
    });

    it("locks the app down: managed identities, HTTPS only, no FTP, TLS 1.2", () => {
      for (const plan of Object.keys(configs) as Plan[]) {
        const app = one(plan, T.app);
        assert.deepEqual(app.inputs.identity, { type: "SystemAssigned, UserAssigned", userAssignedIdentities: [one(plan, T.identity).id] });
        assert.equal(app.inputs.httpsOnly, true);
        assert.equal(app.inputs.siteConfig.ftpsState, "Disabled");
        assert.equal(app.inputs.siteConfig.minTlsVersion, "1.2");
        assert.equal(app.inputs.siteConfig.scmMinTlsVersion, "1.2");
      }
    });

    it("turns off basic-auth publishing where the plan has FTP and Kudu (Premium, Dedicated)", () => {
      for (const plan of ["premium", "dedicated"] as const) {
        const app = one(plan, T.app);
        for (const type of [T.scmAllowed, T.ftpAllowed]) {
          const policy = one(plan, type);
          assert.equal(policy.inputs.allow, false);
          assert.equal(policy.inputs.name, app.state.name);
        }
      }
    });

    it("reaches storage by identity only: no account key, SAS or keyed connection string in any setting", () => {
      for (const plan of Object.keys(configs) as Plan[]) {
        const values = settings(plan);
        for (const [key, value] of Object.entries(values)) {
          assert.doesNotMatch(value, /AccountKey|SharedAccessSignature|[?&]sig=/i, `${plan} ${key}`);
          assert.notEqual(key, "AzureWebJobsStorage", "no connection-string form of host storage");
        }
        const data = one(plan, T.account);
        assert.equal(values.AzureWebJobsStorage__credential, "managedidentity");
        assert.equal(values.AzureWebJobsStorage__clientId, `client-of-ip-${plan}-app-identity`);
        assert.equal(values.AZURE_CLIENT_ID, `client-of-ip-${plan}-app-identity`, "the steps' DefaultAzureCredential picks the same identity");
        assert.equal(values.AzureWebJobsStorage__blobServiceUri, `https://${data.state.name}.blob.core.windows.net`);
        assert.equal(values.AzureWebJobsStorage__queueServiceUri, `https://${data.state.name}.queue.core.windows.net`);
        assert.equal(values.AzureWebJobsStorage__tableServiceUri, `https://${data.state.name}.table.core.windows.net`);
        assert.equal(values.AzureWebJobsStorage__accountName, data.state.name, "the host's workaround for its blob-client race on the service URIs alone");
      }
    });

    it("gives the steps their settings", () => {
      const values = settings("flex");
      const data = one("flex", T.account);
      const topic = one("flex", T.topic);

      assert.equal(values.STORAGE_ACCOUNT_NAME, data.state.name);
      assert.equal(values.UPLOADS_CONTAINER, "uploads");
      assert.equal(values.WORK_CONTAINER, "work");
      assert.equal(values.RENDITIONS_CONTAINER, "renditions");
      assert.equal(values.JOBS_TABLE, "jobs");
      assert.equal(values.EVENTGRID_TOPIC_ENDPOINT, topic.state.endpoint);
      assert.deepEqual(JSON.parse(values.PIPELINE_OPTIONS!), configs.flex.processing);
      assert.equal(values.JOB_RETENTION_DAYS, "30");
      assert.equal(values.MALLOC_ARENA_MAX, "2");
      assert.equal(values.APPLICATIONINSIGHTS_CONNECTION_STRING, CONNECTION_STRING);
      assert.match(values.PIPELINE_PACKAGE_SHA256 ?? "", /^[0-9a-f]{64}$/);
    });

    it("sets none of the settings Flex Consumption rejects", () => {
      const values = settings("flex");
      for (const forbidden of FLEX_FORBIDDEN_SETTINGS) assert.equal(values[forbidden], undefined, forbidden);
    });

    it("runs Premium on EP1 with always-ready instances, from the package URL fetched by identity", () => {
      const plan = one("premium", T.plan);
      const app = one("premium", T.app);
      const upload = one("premium", T.packageBlob);
      const values = settings("premium");

      assert.deepEqual(plan.inputs.sku, { name: "EP1", tier: "ElasticPremium", capacity: 2 });
      assert.equal(plan.inputs.kind, "elastic");
      assert.equal(app.inputs.siteConfig.minimumElasticInstanceCount, 2);
      assert.equal(app.inputs.siteConfig.linuxFxVersion, "Node|22");
      assert.equal(app.inputs.functionAppConfig, undefined);
      assert.match(upload.inputs.blobName, /^ippremium-[0-9a-f]{16}\.zip$/, "content-addressed");
      assert.equal(values.WEBSITE_RUN_FROM_PACKAGE, upload.state.url);
      assert.equal(values.WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID, one("premium", T.identity).id);
      assert.equal(values.FUNCTIONS_WORKER_RUNTIME, "node");
      assert.equal(values.FUNCTIONS_EXTENSION_VERSION, "~4");
      assert.equal(values.WEBSITE_CONTENTAZUREFILECONNECTIONSTRING, undefined, "no Azure Files share: it would need a key");
    });

    it("runs Dedicated on P1v3 with Always On", () => {
      assert.deepEqual(one("dedicated", T.plan).inputs.sku, { name: "P1v3", tier: "PremiumV3" });
      assert.equal(one("dedicated", T.app).inputs.siteConfig.alwaysOn, true);
    });
  });

  describe("roles", () => {
    const roleId = (guid: string) => `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

    function grants(plan: Plan): Array<[string, string, string]> {
      return of(plan, T.role)
        .map((r) => [r.inputs.roleDefinitionId as string, r.inputs.scope as string, r.inputs.principalId as string] as [string, string, string])
        .sort();
    }

    it("grants exactly the data roles Durable Functions, the steps, Event Grid and the uploaders need, each on its own resource", () => {
      const account = one("flex", T.account);
      const container = (name: string) => of("flex", T.container).find((r) => r.inputs.containerName === name)!;
      const topic = one("flex", T.topic);
      const queue = one("flex", T.queue, "-upload-events");
      const deleteQueue = one("flex", T.queue, "-delete-events");
      const systemTopic = one("flex", T.systemTopic);
      const appIdentity = "principal-of-ip-flex-app-identity";

      assert.deepEqual(
        grants("flex"),
        [
          [roleId(ROLES.storageBlobDataOwner), account.id, appIdentity],
          [roleId(ROLES.storageQueueDataContributor), account.id, appIdentity],
          [roleId(ROLES.storageTableDataContributor), account.id, appIdentity],
          [roleId(ROLES.eventGridDataSender), topic.id, appIdentity],
          [roleId(ROLES.storageQueueDataMessageSender), queue.id, systemTopic.state.identity.principalId],
          [roleId(ROLES.storageQueueDataMessageSender), deleteQueue.id, systemTopic.state.identity.principalId],
          [roleId(ROLES.storageBlobDataContributor), container("dead-letters").id, systemTopic.state.identity.principalId],
          [roleId(ROLES.storageBlobDataContributor), container("uploads").id, "deployer"],
          [roleId(ROLES.storageBlobDataContributor), container("uploads").id, UPLOADER],
          // The HTTP API: a user delegation key (an account-level operation) for its SAS, the two containers it reads and erases, its rate-limit table.
          [roleId(ROLES.storageBlobDelegator), account.id, appIdentity],
          [roleId(ROLES.storageBlobDataContributor), container("uploads").id, appIdentity],
          [roleId(ROLES.storageBlobDataContributor), container("renditions").id, appIdentity],
          [roleId(ROLES.storageTableDataContributor), one("flex", T.table, "-api-rate-limits").id, appIdentity],
        ].sort(),
      );
    });

    it("states each principal's type: its identities as service principals, the deployer as its token says, uploaders as configured", () => {
      const deployerType = one("flex", T.deployer);
      const types = Object.fromEntries(of("flex", T.role).map((r) => [r.name, r.inputs.principalType]));

      assert.equal(deployerType.inputs.objectId, "deployer");
      assert.deepEqual(types, {
        "ip-flex-app-blob-owner": "ServicePrincipal",
        "ip-flex-app-queue-contributor": "ServicePrincipal",
        "ip-flex-app-table-contributor": "ServicePrincipal",
        "ip-flex-app-events-sender": "ServicePrincipal",
        "ip-flex-storage-events-queue-sender": "ServicePrincipal",
        "ip-flex-storage-events-delete-queue-sender": "ServicePrincipal",
        "ip-flex-storage-events-dead-letter-writer": "ServicePrincipal",
        "ip-flex-deployer-uploads": "ServicePrincipal",
        [`ip-flex-uploader-${UPLOADER}`]: "Group",
        "ip-flex-api-delegator": "ServicePrincipal",
        "ip-flex-api-uploads": "ServicePrincipal",
        "ip-flex-api-renditions": "ServicePrincipal",
        "ip-flex-api-rate-limits": "ServicePrincipal",
      });
    });

    it("creates the app after its identity's role assignments", async () => {
      const app = one("flex", T.app);
      const identityGrants = of("flex", T.role).filter((r) => r.inputs.principalId === "principal-of-ip-flex-app-identity");

      // The steps' four, and the HTTP API's four (components/azure/api.ts), which it needs only once it serves requests.
      assert.equal(identityGrants.length, 8);
      assert.equal(app.inputs.identity.userAssignedIdentities[0], one("flex", T.identity).id, "the identity exists before the app");
    });
  });

  describe("code deployment", () => {
    it("Flex: deploys the package through One Deploy on the app's SCM site, with a bounded retry", () => {
      const deployment = one("flex", T.deployment);
      const app = one("flex", T.app);

      assert.equal(deployment.inputs.method, "onedeploy");
      assert.equal(deployment.inputs.appName, app.state.name);
      assert.equal(deployment.inputs.subscriptionId, SUBSCRIPTION);
      assert.equal(deployment.inputs.scmEndpoint, `https://${app.state.name}.scm.azurewebsites.net`);
      assert.equal(deployment.inputs.armEndpoint, "https://management.azure.com");
      assert.match(deployment.inputs.sha256, /^[0-9a-f]{64}$/);
      assert.equal(deployment.inputs.sha256, settings("flex").PIPELINE_PACKAGE_SHA256);
      assert.equal(deployment.inputs.timeoutSeconds, 600);
    });

    it("Premium and Dedicated: syncs triggers after the package URL changes", () => {
      for (const plan of ["premium", "dedicated"] as const) assert.equal(one(plan, T.deployment).inputs.method, "syncTriggers");
    });
  });

  describe("events", () => {
    it("publishes notifications to a CloudEvents topic that accepts Entra ID only", () => {
      const topic = one("flex", T.topic);

      assert.equal(topic.inputs.inputSchema, "CloudEventSchemaV1_0");
      assert.equal(topic.inputs.disableLocalAuth, true);
    });

    it("delivers the uploads container's BlobCreated events to the starter's queue with the system topic's identity", () => {
      const data = one("flex", T.account);
      const systemTopic = one("flex", T.systemTopic);
      const subscription = one("flex", T.subscription, "-uploads-created");

      assert.equal(systemTopic.inputs.source, data.id);
      assert.equal(systemTopic.inputs.topicType, "Microsoft.Storage.StorageAccounts");
      assert.deepEqual(systemTopic.inputs.identity, { type: "SystemAssigned" });
      assert.deepEqual(subscription.inputs.filter.includedEventTypes, ["Microsoft.Storage.BlobCreated"]);
      assert.equal(subscription.inputs.filter.subjectBeginsWith, "/blobServices/default/containers/uploads/blobs/");
      assert.equal(subscription.inputs.eventDeliverySchema, "CloudEventSchemaV1_0");
      assert.deepEqual(subscription.inputs.deliveryWithResourceIdentity, {
        identity: { type: "SystemAssigned" },
        destination: { endpointType: "StorageQueue", resourceId: data.id, queueName: UPLOAD_EVENTS_QUEUE, queueMessageTimeToLiveInSeconds: 604800 },
      });
    });

    it("delivers the uploads container's BlobDeleted events to the erase function's queue with the system topic's identity", () => {
      const data = one("flex", T.account);
      const subscription = one("flex", T.subscription, "-uploads-deleted");

      assert.deepEqual(subscription.inputs.filter.includedEventTypes, ["Microsoft.Storage.BlobDeleted"]);
      assert.equal(subscription.inputs.filter.subjectBeginsWith, "/blobServices/default/containers/uploads/blobs/");
      assert.equal(subscription.inputs.eventDeliverySchema, "CloudEventSchemaV1_0");
      assert.deepEqual(subscription.inputs.deliveryWithResourceIdentity, {
        identity: { type: "SystemAssigned" },
        destination: { endpointType: "StorageQueue", resourceId: data.id, queueName: "delete-events", queueMessageTimeToLiveInSeconds: 604800 },
      });
    });

    it("writes events it cannot deliver within a day (30 attempts) to the dead-letters container, with the system topic's identity", () => {
      const data = one("flex", T.account);

      for (const suffix of ["-uploads-created", "-uploads-deleted"]) {
        const subscription = one("flex", T.subscription, suffix);
        assert.deepEqual(subscription.inputs.retryPolicy, { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }, suffix);
        assert.deepEqual(subscription.inputs.deadLetterWithResourceIdentity, {
          identity: { type: "SystemAssigned" },
          deadLetterDestination: { endpointType: "StorageBlob", resourceId: data.id, blobContainerName: "dead-letters" },
        }, suffix);
      }
    });
  });

  describe("observability", () => {
    it("logs every blob read, write and delete of the storage account to the workspace", () => {
      const setting = one("flex", T.diagnostics);

      assert.equal(setting.inputs.resourceUri, `${one("flex", T.account).id}/blobServices/default`);
      assert.equal(setting.inputs.workspaceId, one("flex", T.workspace).id);
      assert.deepEqual(setting.inputs.logs, [
        { category: "StorageRead", enabled: true },
        { category: "StorageWrite", enabled: true },
        { category: "StorageDelete", enabled: true },
      ]);
    });

    it("sends telemetry to workspace-based Application Insights", () => {
      const workspace = one("flex", T.workspace);
      const insights = one("flex", T.insights);

      assert.equal(insights.inputs.ingestionMode, "LogAnalytics");
      assert.equal(insights.inputs.workspaceResourceId, workspace.id);
      assert.equal(workspace.inputs.retentionInDays, 30, "Log Analytics keeps 30 days at least");
    });
  });

  describe("outputs", () => {
    it("exposes the eight values index.ts exports", async () => {
      const data = one("flex", T.account);
      const app = one("flex", T.app);
      const topic = one("flex", T.topic);
      const values = Object.fromEntries(await Promise.all(Object.entries(stacks.flex.outputs).map(async ([key, output]) => [key, await outputValue(output)])));

      assert.deepEqual(values, {
        uploadsStore: `https://${data.state.name}.blob.core.windows.net/uploads`,
        renditionsStore: `https://${data.state.name}.blob.core.windows.net/renditions`,
        workflowId: app.state.name,
        jobsTable: "jobs",
        notificationsTopic: topic.state.endpoint,
        uploadCommand: `az storage blob upload --auth-mode login --account-name ${data.state.name} --container-name uploads --file ./photo.jpg --name photo.jpg`,
        deadLetters: `https://${data.state.name}.blob.core.windows.net/dead-letters`,
        uploadersGrant: of("flex", T.container).find((r) => r.inputs.containerName === "uploads")!.id,
      });
    });

    it("names the reprocess starter's URL on the app's own host (its key is not an output)", async () => {
      const app = one("flex", T.app);

      assert.equal(await outputValue(stacks.flex.pipeline.reprocessStarter), `https://${app.name}-a1b2c3.azurewebsites.net/api/reprocess`);
      assert.equal(await outputValue(stacks.premium.pipeline.reprocessStarter), `https://${one("premium", T.app).name}-a1b2c3.azurewebsites.net/api/reprocess`);
    });
  });
});
