import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import type { PipelineConfig } from "../config";
import { functionAppSettings } from "./appSettings";
import { CodeDeployment, DEFAULT_TIMEOUT_SECONDS, scmHostName } from "./codeDeployment";
import { buildAzureFunctionPackage, sha256File, taskHubName } from "./functionPackage";
import { movedFrom } from "./moved";
import { PackageBlob, packageBlobUrl } from "./packageBlob";
import { grantRole, type RoleName } from "./roles";
import { CONTAINERS, JOBS_TABLE, type PipelineStorage } from "./storage";
import { appCors } from "./api";

/** Node major of the Functions worker (Node 20 left Azure Functions support in April 2026). */
export const NODE_VERSION = "22";
/** Azure Resource Manager of the public cloud, where the deployer's requests go. */
export const ARM_ENDPOINT = "https://management.azure.com";

const PLAN_SKUS = {
  flex: { name: "FC1", tier: "FlexConsumption" },
  premium: { name: "EP1", tier: "ElasticPremium" },
  dedicated: { name: "P1v3", tier: "PremiumV3" },
} as const;

export interface PipelineFunctionAppArgs {
  config: PipelineConfig;
  resourceGroupName: pulumi.Input<string>;
  location: string;
  subscriptionId: pulumi.Input<string>;
  /** The identity running `pulumi up` (Premium/Dedicated: it uploads the package blob). */
  deployer: { objectId: pulumi.Input<string>; principalType: pulumi.Input<"User" | "ServicePrincipal"> };
  storage: PipelineStorage;
  /** The notifications topic the steps publish to. */
  topic: azure.eventgrid.Topic;
  applicationInsightsConnectionString: pulumi.Input<string>;
  /** A prebuilt code package instead of bundling functions/azure/app.ts (CI caches, tests). */
  packagePath?: pulumi.Input<string>;
  /** How long the code deployment retries (role propagation, restarts) before `pulumi up` fails. Default 10 minutes. */
  deployTimeoutSeconds?: number;
  tags: Record<string, string>;
  /** Tags of the app alone, e.g. the API's `api-auth` mode for the policy pack. */
  appTags?: Record<string, string>;
  /** Settings for the HTTP API (#16), added to the app's own. */
  apiSettings?: Record<string, pulumi.Input<string>>;
  /** The Front Door profile's id when only that profile may reach the app (frontDoorOnlyAccess); unset, the app's host stays open. */
  frontDoorId?: pulumi.Input<string>;
}

/** The access-restriction rule that admits Front Door; its name and priority as the portal would show them. */
export const FRONT_DOOR_RULE_NAME = "FrontDoorOnly";

/**
 * The app's inbound access restrictions when the API is served through Front Door, so no caller skips its WAF:
 * only Front Door's backend addresses (service tag AzureFrontDoor.Backend) carrying this profile's X-Azure-FDID,
 * everything else denied (https://learn.microsoft.com/azure/frontdoor/origin-security#public-ip-address-based-origins).
 * Access restrictions apply on every plan of the app, Flex Consumption included
 * (https://learn.microsoft.com/azure/azure-functions/functions-networking-options#inbound-access-restrictions).
 * The SCM (Kudu) site keeps its own rules (scmIpSecurityRestrictionsUseMain false) and admits any address: Flex
 * deploys by One Deploy to the SCM site from wherever `pulumi up` runs (codeDeployment.ts), authenticated by the
 * deployer's Entra ID token, with basic-auth publishing off (WebAppScmAllowed) or absent (Flex); Premium and
 * Dedicated deploy through ARM (syncfunctiontriggers) and a package URL the app fetches, which these rules do not touch.
 */
export function frontDoorOnlyAccess(frontDoorId: pulumi.Input<string>): Pick<
  azure.types.input.web.SiteConfigArgs,
  "ipSecurityRestrictions" | "ipSecurityRestrictionsDefaultAction" | "scmIpSecurityRestrictionsUseMain" | "scmIpSecurityRestrictionsDefaultAction"
> {
  return {
    // Fields of azure-native's web.WebApp siteConfig (https://www.pulumi.com/registry/packages/azure-native/api-docs/web/webapp/); X-Azure-FDID matches exactly.
    ipSecurityRestrictions: [
      { name: FRONT_DOOR_RULE_NAME, action: "Allow", priority: 100, tag: "ServiceTag", ipAddress: "AzureFrontDoor.Backend", headers: { "x-azure-fdid": [frontDoorId] }, description: "This stack's Front Door only" },
    ],
    ipSecurityRestrictionsDefaultAction: "Deny",
    scmIpSecurityRestrictionsUseMain: false,
    scmIpSecurityRestrictionsDefaultAction: "Allow",
  };
}

/**
 * The Linux Function App that hosts the Durable orchestrator, and its code.
 *
 * Order matters on a first deploy: a user-assigned identity is created and
 * granted its data roles first, the app is created with that identity for host
 * storage, deployment storage and the package (so its first start finds its
 * roles), and the code is deployed last, after the app and the roles exist.
 */
export class PipelineFunctionApp extends pulumi.ComponentResource {
  readonly app: azure.web.WebApp;
  readonly identity: azure.managedidentity.UserAssignedIdentity;
  /** The identity's data-role assignments, which the app and the deployment wait for. */
  readonly identityGrants: azure.authorization.RoleAssignment[];
  readonly deployment: CodeDeployment;

  constructor(name: string, args: PipelineFunctionAppArgs, opts: pulumi.ComponentResourceOptions & { parent: pulumi.Resource }) {
    super("image-pipeline:azure:FunctionApp", name, {}, opts);
    const { config, resourceGroupName, location, subscriptionId, storage, topic, tags } = args;
    const { plan } = config.azure;
    const child = movedFrom(this, opts);

    // Exists, with its roles, before the app: the host's first start needs them (https://learn.microsoft.com/en-us/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
    this.identity = new azure.managedidentity.UserAssignedIdentity(`${name}-app-identity`, { resourceGroupName, location, tags }, { parent: this });
    const appIdentity = { principalId: this.identity.principalId, subscriptionId, principalType: "ServicePrincipal" as const };
    const grant = (suffix: string, role: RoleName, scope: pulumi.Input<string>) => grantRole(`${name}-${suffix}`, { ...appIdentity, role, scope }, child);
    this.identityGrants = [
      // Host storage with an identity needs Blob Data Owner on the account (it creates its containers at run time);
      // that also covers the steps' containers and the package (Flex deployment storage, WEBSITE_RUN_FROM_PACKAGE).
      grant("app-blob-owner", "storageBlobDataOwner", storage.account.id),
      grant("app-queue-contributor", "storageQueueDataContributor", storage.account.id),
      grant("app-table-contributor", "storageTableDataContributor", storage.account.id),
      grant("app-events-sender", "eventGridDataSender", topic.id),
    ];

    const hubName = taskHubName(name);
    const codePackage = args.packagePath
      ? pulumi.output(args.packagePath).apply(async (zipPath) => ({ zipPath, sha256: await sha256File(zipPath) }))
      : pulumi.output(buildAzureFunctionPackage(config, hubName).then(({ zipPath, sha256 }) => ({ zipPath, sha256 })));

    // Premium and Dedicated run from a content-addressed package URL, uploaded by the deployer; Flex takes its package through One Deploy.
    let packageBlob: PackageBlob | undefined;
    let packageUrl: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (plan !== "flex") {
      const deployerUpload = grantRole(
        `${name}-deployer-package`,
        { principalId: args.deployer.objectId, principalType: args.deployer.principalType, role: "storageBlobDataContributor", scope: storage.deployments.id, subscriptionId },
        // An assignment cannot be updated in place, and two for the same principal, role and scope conflict.
        { ...child, deleteBeforeReplace: true },
      );
      const blobName = codePackage.apply(({ sha256 }) => `${hubName}-${sha256.slice(0, 16)}.zip`);
      packageBlob = new PackageBlob(
        `${name}-package`,
        { blobEndpoint: storage.blobEndpoint, containerName: storage.deployments.name, blobName, filePath: codePackage.zipPath, sha256: codePackage.sha256 },
        { ...child, dependsOn: [deployerUpload] },
      );
      // Known before the upload runs, so a preview shows the app settings; the app waits for the upload (dependsOn).
      packageUrl = pulumi.all([storage.blobEndpoint, storage.deployments.name, blobName]).apply(([blobEndpoint, containerName, name]) => packageBlobUrl({ blobEndpoint, containerName, blobName: name }));
    }

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
      child,
    );
    const appSettings = pulumi
      .all([storage.account.name, storage.account.primaryEndpoints, topic.endpoint, args.applicationInsightsConnectionString, codePackage.sha256, packageUrl, this.identity.clientId, this.identity.id])
      .apply(([storageAccountName, endpoints, eventGridTopicEndpoint, applicationInsightsConnectionString, packageSha256, url, clientId, resourceId]) =>
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
            packageSha256,
            packageUrl: url,
            identity: { clientId, resourceId },
            reprocess: config.reprocess,
          }),
        ).map(([settingName, value]): { name: string; value: pulumi.Input<string> } => ({ name: settingName, value })),
      )
      .apply((settings) => [...settings, ...Object.entries(args.apiSettings ?? {}).map(([settingName, value]) => ({ name: settingName, value }))]);
    this.app = new azure.web.WebApp(
      `${name}-func`,
      {
        resourceGroupName,
        location,
        kind: "functionapp,linux",
        serverFarmId: servicePlan.id,
        reserved: true,
        httpsOnly: true,
        clientAffinityEnabled: false,
        // The user-assigned identity does the work; the system one is there because the policy pack requires one (it holds no role).
        identity: { type: "SystemAssigned, UserAssigned", userAssignedIdentities: [this.identity.id] },
        siteConfig: {
          appSettings,
          ftpsState: "Disabled",
          minTlsVersion: "1.2",
          scmMinTlsVersion: "1.2",
          http20Enabled: true,
          // Browser calls to the API from the configured origins (#16).
          ...(appCors(config.delivery.corsOrigins) ? { cors: appCors(config.delivery.corsOrigins) } : {}),
          ...(args.frontDoorId !== undefined ? frontDoorOnlyAccess(args.frontDoorId) : {}),
          ...(plan === "premium" ? { linuxFxVersion: `Node|${NODE_VERSION}`, minimumElasticInstanceCount: config.azure.premiumMinInstances } : {}),
          ...(plan === "dedicated" ? { linuxFxVersion: `Node|${NODE_VERSION}`, alwaysOn: true } : {}),
        },
        functionAppConfig:
          plan === "flex"
            ? {
                deployment: {
                  storage: {
                    type: "blobContainer",
                    value: pulumi.interpolate`${storage.blobEndpoint}${storage.deployments.name}`,
                    // The deployment container is read with the user-assigned identity (https://learn.microsoft.com/en-us/javascript/api/@azure/arm-appservice/functionsdeploymentstorageauthentication).
                    authentication: { type: "UserAssignedIdentity", userAssignedIdentityResourceId: this.identity.id },
                  },
                },
                runtime: { name: "node", version: NODE_VERSION },
                scaleAndConcurrency: { instanceMemoryMB: config.azure.flexInstanceMemoryMb, maximumInstanceCount: config.azure.flexMaximumInstances },
              }
            : undefined,
        tags: { ...tags, ...args.appTags },
      },
      { ...child, dependsOn: [...this.identityGrants, ...(packageBlob ? [packageBlob] : [])] },
    );
    if (plan !== "flex") {
      // No basic-auth publishing (FTP, Kudu): deployments use Entra ID. Flex has neither.
      new azure.web.WebAppScmAllowed(`${name}-scm-basic-auth`, { resourceGroupName, name: this.app.name, allow: false }, child);
      new azure.web.WebAppFtpAllowed(`${name}-ftp-basic-auth`, { resourceGroupName, name: this.app.name, allow: false }, child);
    }

    // Last: the code, once the app and every role it needs exist (https://learn.microsoft.com/en-us/azure/azure-functions/functions-deployment-technologies).
    this.deployment = new CodeDeployment(
      `${name}-code`,
      {
        method: plan === "flex" ? "onedeploy" : "syncTriggers",
        armEndpoint: ARM_ENDPOINT,
        subscriptionId,
        resourceGroupName,
        appName: this.app.name,
        scmEndpoint: plan === "flex" ? pulumi.all([this.app.defaultHostName, this.app.hostNameSslStates]).apply(([host, states]) => `https://${scmHostName(host, states ?? [])}`) : "",
        zipPath: codePackage.zipPath,
        sha256: codePackage.sha256,
        timeoutSeconds: args.deployTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      },
      { parent: this, dependsOn: [this.app, ...this.identityGrants, ...(packageBlob ? [packageBlob] : [])] },
    );

    this.registerOutputs({ appName: this.app.name, identityClientId: this.identity.clientId, deployedSha256: this.deployment.sha256 });
  }
}
