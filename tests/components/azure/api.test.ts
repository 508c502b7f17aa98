import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { appCors, AzureApiAccess, blobCorsRules, hasApiApp } from "../../../components/azure/api";
import { AzureImagePipeline } from "../../../components/azure/imagePipeline";
import { loadConfig } from "../../../components/config";
import { functionAppFrontDoorOnly } from "../../../policy/azure";
import { violationsOf } from "../../helpers/policyHarness";
import { outputValue, setupPulumiMocks, type PulumiMocks } from "../../helpers/pulumiMocks";

const T = {
  assignment: "azure-native:authorization:RoleAssignment",
  app: "azure-native:web:WebApp",
  blobService: "azure-native:storage:BlobServiceProperties",
  account: "azure-native:storage:StorageAccount",
  container: "azure-native:storage:BlobContainer",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  endpoint: "azure-native:cdn:AFDEndpoint",
  profile: "azure-native:cdn:Profile",
  table: "azure-native:storage:Table",
} as const;
const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
const role = (guid: string) => `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const ORIGIN = "https://gallery.example.com";

describe("the API's browser access on Azure", () => {
  it("lets the configured origins PUT blobs with a SAS and read them", () => {
    assert.deepEqual(blobCorsRules([ORIGIN]), [
      {
        allowedOrigins: [ORIGIN],
        allowedMethods: ["PUT", "GET", "HEAD", "OPTIONS"],
        allowedHeaders: ["content-type", "x-ms-blob-type", "x-ms-version", "x-ms-date", "x-ms-blob-content-type"],
        exposedHeaders: ["etag", "x-ms-request-id"],
        maxAgeInSeconds: 3600,
      },
    ]);
    assert.deepEqual(blobCorsRules([]), []);
  });

  it("lets the same origins call the app, without credentials", () => {
    assert.deepEqual(appCors([ORIGIN]), { allowedOrigins: [ORIGIN], supportCredentials: false });
    assert.equal(appCors([]), undefined);
  });

  it("knows whether the tree has the API app", () => {
    const root = mkdtempSync(path.join(tmpdir(), "api-root-"));
    assert.equal(hasApiApp(root), false);
    const withApp = mkdtempSync(path.join(tmpdir(), "api-root-"));
    mkdirSync(path.join(withApp, "functions/api"), { recursive: true });
    writeFileSync(path.join(withApp, "functions/api/app.ts"), "export {};\n");
    assert.equal(hasApiApp(withApp), true);
  });
});

describe("AzureApiAccess", () => {
  let mocks: PulumiMocks;

  before(async () => {
    mocks = await setupPulumiMocks({ stack: "dev-azure" });
    new AzureApiAccess("ip-api", {
      principalId: "app-principal",
      subscriptionId: SUBSCRIPTION,
      resourceGroupName: "rg",
      storageAccountName: "acct",
      storageAccountId: "/acct",
      uploadsContainerId: "/acct/uploads",
      renditionsContainerId: "/acct/renditions",
    });
    await mocks.settle();
  });

  it("grants the delegation key on the account, data access on the two containers and the rate-limit table, nothing wider", () => {
    const order = ["ip-api-delegator", "ip-api-uploads", "ip-api-renditions", "ip-api-rate-limits"];
    const grants = mocks
      .ofType(T.assignment)
      .map((r) => [r.name, r.inputs.roleDefinitionId, r.inputs.scope, r.inputs.principalId, r.inputs.principalType])
      .sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
    assert.deepEqual(grants, [
      ["ip-api-delegator", role("db58b8e5-c6ad-4a2a-8342-4190687cbf4a"), "/acct", "app-principal", "ServicePrincipal"],
      ["ip-api-uploads", role("ba92f5b4-2d11-453d-a403-e96b0029c9fe"), "/acct/uploads", "app-principal", "ServicePrincipal"],
      ["ip-api-renditions", role("ba92f5b4-2d11-453d-a403-e96b0029c9fe"), "/acct/renditions", "app-principal", "ServicePrincipal"],
      ["ip-api-rate-limits", role("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"), mocks.get(T.table, "ip-api-rate-limits").id, "app-principal", "ServicePrincipal"],
    ]);
  });

  it("keeps the request counts in their own table of the pipeline's storage account", () => {
    assert.match(String(mocks.get(T.table, "ip-api-rate-limits").id), /\S/, "the table's id is the grant's scope");
    const table = mocks.get(T.table, "ip-api-rate-limits").inputs;
    assert.deepEqual([table.resourceGroupName, table.accountName, table.tableName], ["rg", "acct", "apiratelimits"]);
  });
});

describe("AzureImagePipeline with the API and Front Door", function () {
  this.timeout(120_000);
  let mocks: PulumiMocks;
  let withBoth: AzureImagePipeline;
  let withNeither: AzureImagePipeline;
  let apiOnly: AzureImagePipeline;

  before(async () => {
    mocks = await setupPulumiMocks({
      stack: "dev-azure",
      outputs: {
        [T.account]: (args: pulumi.runtime.MockResourceArgs) => ({ name: `${args.name}x1`, primaryEndpoints: { blob: `https://${args.name}x1.blob.core.windows.net/`, queue: "q", table: "t" } }),
        [T.container]: (args: pulumi.runtime.MockResourceArgs) => ({ name: args.inputs.containerName }),
        [T.identity]: (args: pulumi.runtime.MockResourceArgs) => ({ principalId: `principal-of-${args.name}`, clientId: `client-of-${args.name}` }),
        [T.app]: (args: pulumi.runtime.MockResourceArgs) => ({ name: `${args.name}-a1`, defaultHostName: `${args.name}-a1.azurewebsites.net` }),
        [T.endpoint]: (args: pulumi.runtime.MockResourceArgs) => ({ hostName: `${args.name}-z.azurefd.net` }),
        // Front Door's id is a GUID the service assigns; this one stands for the profile "az-fd-profile".
        [T.profile]: () => ({ frontDoorId: "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69" }),
        "pulumi-nodejs:dynamic/azure:DeployerPrincipal": () => ({ principalType: "ServicePrincipal" }),
        "azure-native:eventgrid:SystemTopic": (args: pulumi.runtime.MockResourceArgs) => ({ identity: { type: "SystemAssigned", principalId: `principal-of-${args.name}` } }),
        "azure-native:eventgrid:Topic": (args: pulumi.runtime.MockResourceArgs) => ({ endpoint: `https://${args.name}.westeurope-1.eventgrid.azure.net/api/events` }),
        "azure-native:applicationinsights:Component": () => ({ connectionString: "InstrumentationKey=00000000-0000-0000-0000-000000000000" }),
      },
      calls: { "azure-native:authorization:getClientConfig": () => ({ subscriptionId: SUBSCRIPTION, tenantId: "tenant", clientId: "client", objectId: "deployer" }) },
    });
    const dir = mkdtempSync(path.join(tmpdir(), "azure-pkg-"));
    const packagePath = path.join(dir, "package.zip");
    writeFileSync(packagePath, "PK\u0003\u0004 not really a zip");
    const on = loadConfig({ cloud: "azure", delivery: { cdn: true, corsOrigins: [ORIGIN] }, tags: { environment: "production" } });
    withBoth = new AzureImagePipeline("az", { config: on, packagePath, withApi: true });
    withNeither = new AzureImagePipeline("no", { config: loadConfig({ cloud: "azure" }), packagePath, withApi: false });
    apiOnly = new AzureImagePipeline("open", { config: loadConfig({ cloud: "azure" }), packagePath, withApi: true });
    await mocks.settle();
  });

  const settingsOf = async (app: string) => {
    const settings = (await outputValue(mocks.get(T.app, app).inputs.siteConfig.appSettings)) as Array<{ name: string; value: string }>;
    return Object.fromEntries(settings.map((s) => [s.name, s.value]));
  };

  it("gives the app the API's settings, naming the Front Door URL, and no setting the app does not read", async () => {
    const settings = await settingsOf("az-func");
    assert.equal(settings.DELIVERY_BASE_URL, "https://az-fd-endpoint-z.azurefd.net");
    assert.equal(settings.RATE_LIMIT_TABLE, mocks.get(T.table, "az-api-rate-limits").inputs.tableName);
    assert.equal(JSON.parse(settings.API_SETTINGS).auth, "none");
    // The upload prefix is fixed in the app's contract (functions/api/uploads.ts), the CDN base is DELIVERY_BASE_URL.
    assert.equal(settings.RENDITIONS_URL, undefined);
    assert.equal(settings.UPLOAD_PREFIX, undefined);
  });

  it("tags the app with its auth mode, so the pack refuses no auth in production", () => {
    assert.equal(mocks.get(T.app, "az-func").inputs.tags["api-auth"], "none");
    assert.equal(mocks.get(T.app, "no-func").inputs.tags["api-auth"], undefined);
  });

  it("sets CORS on the app and on the blob service for the configured origins only", () => {
    assert.deepEqual(mocks.get(T.app, "az-func").inputs.siteConfig.cors, { allowedOrigins: [ORIGIN], supportCredentials: false });
    assert.deepEqual(mocks.get(T.blobService, "az-blob-service").inputs.cors, { corsRules: blobCorsRules([ORIGIN]) });
    assert.equal(mocks.get(T.app, "no-func").inputs.siteConfig.cors, undefined);
    assert.equal(mocks.get(T.blobService, "no-blob-service").inputs.cors, undefined);
  });

  it("grants the app identity the API's roles", () => {
    assert.equal(mocks.get(T.assignment, "az-api-delegator").inputs.principalId, "principal-of-az-app-identity");
    assert.equal(mocks.ofType(T.assignment).filter((r) => r.name.startsWith("no-api-")).length, 0);
  });

  it("serves the API through Front Door and outputs both URLs", async () => {
    assert.equal(await outputValue(withBoth.apiUrl), "https://az-fd-endpoint-z.azurefd.net/api");
    assert.equal(await outputValue(withBoth.renditionsUrl), "https://az-fd-endpoint-z.azurefd.net");
  });

  it("admits on the app only Front Door's backend addresses carrying this profile's id, and denies the rest", () => {
    const siteConfig = mocks.get(T.app, "az-func").inputs.siteConfig;

    assert.deepEqual(siteConfig.ipSecurityRestrictions, [
      {
        name: "FrontDoorOnly",
        action: "Allow",
        priority: 100,
        tag: "ServiceTag",
        ipAddress: "AzureFrontDoor.Backend",
        headers: { "x-azure-fdid": ["5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69"] },
        description: "This stack's Front Door only",
      },
    ]);
    assert.equal(siteConfig.ipSecurityRestrictionsDefaultAction, "Deny");
  });

  it("keeps the SCM site on its own open rules, where One Deploy publishes the code with the deployer's Entra ID token", () => {
    const siteConfig = mocks.get(T.app, "az-func").inputs.siteConfig;

    assert.equal(siteConfig.scmIpSecurityRestrictionsUseMain, false);
    assert.equal(siteConfig.scmIpSecurityRestrictionsDefaultAction, "Allow");
    assert.equal(siteConfig.scmIpSecurityRestrictions, undefined);
    assert.equal(mocks.get("pulumi-nodejs:dynamic/azure:CodeDeployment", "az-code").inputs.method, "onedeploy");
  });

  it("satisfies the pack's Front Door-only rule with what it declares", async () => {
    const asDeployed = (type: string, name: string) => ({ type, name, props: mocks.get(type, name).state });
    const stack = [asDeployed(T.profile, "az-fd-profile"), asDeployed(T.app, "az-func"), asDeployed("azure-native:cdn:AFDOrigin", "az-fd-api-origin")];

    assert.deepEqual(await violationsOf(functionAppFrontDoorOnly, stack), []);
    // The same app with its restrictions taken away is refused: the rule does see it as Front Door's API origin.
    const open = { ...stack[1]!, props: { ...stack[1]!.props, siteConfig: { ...stack[1]!.props.siteConfig, ipSecurityRestrictions: [], ipSecurityRestrictionsDefaultAction: "Allow" } } };
    assert.equal((await violationsOf(functionAppFrontDoorOnly, [stack[0]!, open, stack[2]!])).length, 2);
  });

  it("tells the app the same Front Door id, so it refuses requests that skipped Front Door", async () => {
    assert.equal((await settingsOf("az-func")).FRONT_DOOR_ID, "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69");
  });

  it("routes the reprocess starter through Front Door, the only way left to the app", async () => {
    assert.equal(await outputValue(withBoth.reprocessStarter), "https://az-fd-endpoint-z.azurefd.net/api/reprocess");
  });

  it("without the CDN leaves the app's host open as the API's URL, with no restriction and no Front Door id", async () => {
    const siteConfig = mocks.get(T.app, "open-func").inputs.siteConfig;

    assert.equal(siteConfig.ipSecurityRestrictions, undefined);
    assert.equal(siteConfig.ipSecurityRestrictionsDefaultAction, undefined);
    assert.equal(siteConfig.scmIpSecurityRestrictionsUseMain, undefined);
    assert.equal((await settingsOf("open-func")).FRONT_DOOR_ID, undefined);
    assert.equal(await outputValue(apiOnly.apiUrl), "https://open-func-a1.azurewebsites.net/api");
    assert.equal(await outputValue(apiOnly.reprocessStarter), "https://open-func-a1.azurewebsites.net/api/reprocess");
    assert.equal(mocks.get(T.app, "no-func").inputs.siteConfig.ipSecurityRestrictions, undefined);
  });

  it("has no Front Door by default on Azure, and no API without the app", async () => {
    assert.equal(mocks.ofType(T.profile).filter((r) => r.name.startsWith("no-")).length, 0);
    assert.equal(await outputValue(withNeither.apiUrl), "");
    assert.equal(await outputValue(withNeither.renditionsUrl), "");
  });
});
