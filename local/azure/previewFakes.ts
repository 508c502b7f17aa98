import type { FakeContext, PreviewFakes } from "../preview/fakes";
import { fakeUuid, hex, str } from "../preview/fakes";

/** The offline preview's fake Azure subscription: ARM ids, endpoints and data sources with plausible values. */

export const FAKE_AZURE_SUBSCRIPTION = "00000000-0000-4000-8000-000000000001";
export const FAKE_AZURE_TENANT = "00000000-0000-4000-8000-000000000002";

/** azure-native type → ARM resource type, for fake resource ids. */
const AZURE_RESOURCE_TYPES: Record<string, { path: string; nameKey: string; parentKey?: string }> = {
  "azure-native:resources:ResourceGroup": { path: "", nameKey: "resourceGroupName" },
  "azure-native:storage:StorageAccount": { path: "Microsoft.Storage/storageAccounts", nameKey: "accountName" },
  "azure-native:storage:BlobServiceProperties": { path: "Microsoft.Storage/storageAccounts/{parent}/blobServices", nameKey: "blobServicesName", parentKey: "accountName" },
  "azure-native:storage:BlobContainer": { path: "Microsoft.Storage/storageAccounts/{parent}/blobServices/default/containers", nameKey: "containerName", parentKey: "accountName" },
  "azure-native:storage:Table": { path: "Microsoft.Storage/storageAccounts/{parent}/tableServices/default/tables", nameKey: "tableName", parentKey: "accountName" },
  "azure-native:storage:Queue": { path: "Microsoft.Storage/storageAccounts/{parent}/queueServices/default/queues", nameKey: "queueName", parentKey: "accountName" },
  "azure-native:storage:Blob": { path: "Microsoft.Storage/storageAccounts/{parent}/blobServices/default/containers/blobs", nameKey: "blobName", parentKey: "accountName" },
  "azure-native:storage:ManagementPolicy": { path: "Microsoft.Storage/storageAccounts/{parent}/managementPolicies", nameKey: "managementPolicyName", parentKey: "accountName" },
  "azure-native:web:WebApp": { path: "Microsoft.Web/sites", nameKey: "name" },
  "azure-native:web:WebAppApplicationSettings": { path: "Microsoft.Web/sites/{parent}/config", nameKey: "appsettings", parentKey: "name" },
  "azure-native:web:AppServicePlan": { path: "Microsoft.Web/serverfarms", nameKey: "name" },
  "azure-native:applicationinsights:Component": { path: "Microsoft.Insights/components", nameKey: "resourceName" },
  "azure-native:operationalinsights:Workspace": { path: "Microsoft.OperationalInsights/workspaces", nameKey: "workspaceName" },
  "azure-native:eventgrid:SystemTopic": { path: "Microsoft.EventGrid/systemTopics", nameKey: "systemTopicName" },
  "azure-native:eventgrid:SystemTopicEventSubscription": { path: "Microsoft.EventGrid/systemTopics/{parent}/eventSubscriptions", nameKey: "eventSubscriptionName", parentKey: "systemTopicName" },
  "azure-native:eventgrid:Topic": { path: "Microsoft.EventGrid/topics", nameKey: "topicName" },
  "azure-native:managedidentity:UserAssignedIdentity": { path: "Microsoft.ManagedIdentity/userAssignedIdentities", nameKey: "resourceName" },
  "azure-native:monitor:DiagnosticSetting": { path: "Microsoft.Insights/diagnosticSettings", nameKey: "name" },
  "azure-native:authorization:RoleAssignment": { path: "Microsoft.Authorization/roleAssignments", nameKey: "roleAssignmentName" },
  "azure-native:keyvault:Vault": { path: "Microsoft.KeyVault/vaults", nameKey: "vaultName" },
};

function azureState(ctx: FakeContext): { id: string; state: Record<string, unknown> } {
  const { type, name, inputs, urn } = ctx;
  if (type.startsWith(AZURE_DYNAMIC_PREFIX)) return dynamicState(ctx);
  const [, module = "", kind = ""] = type.split(":");
  const known = AZURE_RESOURCE_TYPES[type];
  const nameKey = known?.nameKey ?? `${kind.charAt(0).toLowerCase()}${kind.slice(1)}Name`;
  const suffix = hex(urn, 8);
  let physical = str(inputs[nameKey]) ?? (type === "azure-native:authorization:RoleAssignment" ? fakeUuid(urn) : `${name}${suffix}`);
  if (type === "azure-native:storage:StorageAccount" && !str(inputs.accountName)) physical = `${name.replace(/[^a-z0-9]/gi, "").toLowerCase().slice(0, 16)}${suffix}`;
  if (type === "azure-native:storage:BlobServiceProperties") physical = str(inputs.blobServicesName) ?? "default";
  if (type === "azure-native:web:WebAppApplicationSettings") physical = "appsettings";
  const location = str(inputs.location) ?? str(ctx.providerInputs?.location) ?? ctx.config["azure-native:location"] ?? "westeurope";
  const group = str(inputs.resourceGroupName) ?? "resource-group";
  const scope = `/subscriptions/${FAKE_AZURE_SUBSCRIPTION}/resourceGroups/${type === "azure-native:resources:ResourceGroup" ? physical : group}`;
  const armPath = known?.path ?? `Microsoft.${module.charAt(0).toUpperCase()}${module.slice(1)}/${kind.charAt(0).toLowerCase()}${kind.slice(1)}s`;
  const parent = known?.parentKey ? str(inputs[known.parentKey]) ?? "parent" : "";
  const id = type === "azure-native:resources:ResourceGroup" ? scope : `${scope}/providers/${armPath.replace("{parent}", parent)}/${physical}`;
  const state: Record<string, unknown> = { ...inputs, name: physical, location, azureApiVersion: "2024-01-01", type: armPath.replace("/{parent}", "") };

  const principal = () => ({ principalId: fakeUuid(`${urn}#principal`), tenantId: FAKE_AZURE_TENANT });
  // A system-assigned identity gets its principal when the resource is created.
  const identity = inputs.identity as Record<string, unknown> | undefined;
  if (identity && typeof identity.type === "string" && identity.type.includes("SystemAssigned")) state.identity = { ...identity, ...principal() };
  switch (type) {
    case "azure-native:storage:StorageAccount": {
      const endpoint = (service: string) => `https://${physical}.${service}.core.windows.net/`;
      state.primaryEndpoints = { blob: endpoint("blob"), queue: endpoint("queue"), table: endpoint("table"), file: endpoint("file"), dfs: endpoint("dfs"), web: `https://${physical}.z6.web.core.windows.net/` };
      state.primaryLocation = location;
      state.provisioningState = "Succeeded";
      break;
    }
    case "azure-native:web:WebApp": {
      state.defaultHostName = `${physical}.azurewebsites.net`;
      state.hostNameSslStates = [
        { name: `${physical}.azurewebsites.net`, hostType: "Standard" },
        { name: `${physical}.scm.azurewebsites.net`, hostType: "Repository" },
      ];
      state.outboundIpAddresses = "20.0.0.1,20.0.0.2";
      state.customDomainVerificationId = hex(`${urn}#domain`, 64).toUpperCase();
      break;
    }
    case "azure-native:applicationinsights:Component": {
      const key = fakeUuid(`${urn}#ikey`);
      const appId = fakeUuid(`${urn}#app`);
      state.instrumentationKey = key;
      state.appId = appId;
      state.connectionString = `InstrumentationKey=${key};IngestionEndpoint=https://${location}-0.in.applicationinsights.azure.com/;LiveEndpoint=https://${location}.livediagnostics.monitor.azure.com/;ApplicationId=${appId}`;
      break;
    }
    case "azure-native:storage:Blob":
      state.url = `https://${str(inputs.accountName) ?? "account"}.blob.core.windows.net/${str(inputs.containerName) ?? "container"}/${physical}`;
      break;
    case "azure-native:operationalinsights:Workspace":
      state.customerId = fakeUuid(`${urn}#customer`);
      break;
    case "azure-native:managedidentity:UserAssignedIdentity":
      Object.assign(state, principal(), { clientId: fakeUuid(`${urn}#client`) });
      break;
    case "azure-native:eventgrid:SystemTopic":
      state.metricResourceId = fakeUuid(`${urn}#metric`);
      break;
    case "azure-native:eventgrid:Topic":
      state.endpoint = `https://${physical}.${location}-1.eventgrid.azure.net/api/events`;
      break;
  }
  return { id, state };
}

/** The program's own dynamic resources on Azure (components/azure): what their providers would return at `pulumi up`. */
const AZURE_DYNAMIC_PREFIX = "pulumi-nodejs:dynamic/azure:";

function dynamicState(ctx: FakeContext): { id: string; state: Record<string, unknown> } {
  // What the provider reads from the deployer's token (components/azure/deployer.ts).
  if (ctx.type === `${AZURE_DYNAMIC_PREFIX}DeployerPrincipal`) return { id: String(ctx.inputs.objectId), state: { ...ctx.inputs, principalType: "User" } };
  return { id: `${ctx.name}-${hex(ctx.urn, 7)}`, state: { ...ctx.inputs } };
}

/** Answers for the Azure data sources this program calls. */
function azureCall(token: string): Record<string, unknown> | undefined {
  switch (token) {
    case "azure-native:authorization:getClientConfig":
      return { clientId: fakeUuid("client"), objectId: fakeUuid("object"), subscriptionId: FAKE_AZURE_SUBSCRIPTION, tenantId: FAKE_AZURE_TENANT };
    case "azure-native:web:listWebAppHostKeys":
      return {
        functionKeys: { default: "offline-preview-function-key" },
        masterKey: "offline-preview-master-key",
        systemKeys: { durabletask_extension: "offline-preview-durable-key", eventgrid_extension: "offline-preview-eventgrid-key", blobs_extension: "offline-preview-blobs-key" },
      };
    default:
      return undefined;
  }
}

export const azurePreviewFakes: PreviewFakes = { typePrefixes: ["azure-native:", AZURE_DYNAMIC_PREFIX], resource: azureState, call: azureCall };
