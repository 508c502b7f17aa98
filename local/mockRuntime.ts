import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * The offline preview's stand-in for the Pulumi engine: Pulumi's own mock
 * monitor (`pulumi.runtime.setMocks`, preview mode) with
 * - every registration recorded the way the engine would see it (type, name,
 *   parent, provider, inputs after transforms, dependencies, property dependencies);
 * - plausible fake outputs (ids, ARNs, names, endpoints) so the program's
 *   `apply`s run and policies see complete documents;
 * - answers for the data sources this program calls; any other token fails
 *   loudly instead of returning an empty object.
 * Resource and stack transforms are applied here, as the engine would.
 */

/** The fake AWS account and Azure subscription of the offline preview. */
export const FAKE_AWS_ACCOUNT = "123456789012";
export const FAKE_AZURE_SUBSCRIPTION = "00000000-0000-4000-8000-000000000001";
export const FAKE_AZURE_TENANT = "00000000-0000-4000-8000-000000000002";

export type PlainValue = unknown;

/** Marks a value the engine would only know after deployment. */
export const UNKNOWN_VALUE = pulumi.runtime.unknownValue;

export interface ProviderRef {
  urn: string;
  id: string;
}

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  /** Explicit provider reference; undefined means the default provider of the package. */
  provider?: ProviderRef;
  /** Inputs as the engine sees them (after transforms): plain data, unknowns as {@link UNKNOWN_VALUE}. */
  inputs: Record<string, PlainValue>;
  /** Outputs the mock returned (inputs plus faked computed values). */
  outputs: Record<string, PlainValue>;
  id?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  protect: boolean;
  ignoreChanges: string[];
  additionalSecretOutputs: string[];
  /** Registration order. */
  index: number;
}

export interface MockRuntimeOptions {
  project: string;
  stack: string;
  /** `namespace:key` → string, as the language host passes config. */
  config: Record<string, string>;
  secretKeys?: string[];
}

// ------------------------------------------------------------------ plain values

/**
 * Converts a deserialized-to-JS protobuf struct (with Pulumi's special
 * signatures) to plain data: secrets unwrapped, resource references replaced by
 * their id (custom) or URN (component), assets and archives summarized.
 */
export function toPlain(value: unknown): PlainValue {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const sig = record[pulumi.runtime.specialSigKey];
  if (sig === pulumi.runtime.specialSecretSig) return toPlain(record.value);
  if (sig === pulumi.runtime.specialResourceSig) return typeof record.id === "string" && record.id !== "" ? record.id : record.urn;
  if (sig === pulumi.runtime.specialOutputValueSig) return "value" in record ? toPlain(record.value) : UNKNOWN_VALUE;
  if (sig === pulumi.runtime.specialAssetSig) return { asset: record.path ?? record.uri ?? "(inline text)" };
  if (sig === pulumi.runtime.specialArchiveSig) return { archive: record.path ?? record.uri ?? `(${Object.keys((record.assets as object) ?? {}).length} assets)` };
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) copy[k] = toPlain(v);
  return copy;
}

export function isUnknownValue(value: unknown): boolean {
  return value === UNKNOWN_VALUE;
}

// ------------------------------------------------------------------ fake outputs

function hex(seed: string, length: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

function fakeUuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" && !isUnknownValue(value) ? value : undefined;
}

function parseJsonRecord(value: unknown): Record<string, unknown> | undefined {
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  if (typeof value !== "string") return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** AWS types whose physical name is the `name` input (auto-named `<logical>-<7 hex>` like Pulumi does). */
const AWS_NAMED_BY_NAME = new Set([
  "aws:lambda/function:Function",
  "aws:sfn/stateMachine:StateMachine",
  "aws:sns/topic:Topic",
  "aws:dynamodb/table:Table",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:iam/role:Role",
  "aws:iam/policy:Policy",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:cloudwatch/eventBus:EventBus",
  "aws:sqs/queue:Queue",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:lambda/layerVersion:LayerVersion",
]);

interface FakeContext {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Inputs of the explicit provider, if any. */
  providerInputs?: Record<string, unknown>;
  config: Record<string, string>;
}

function awsRegion(ctx: FakeContext): string {
  return str(ctx.inputs.region) ?? str(ctx.providerInputs?.region) ?? ctx.config["aws:region"] ?? process.env.AWS_REGION ?? "us-east-1";
}

function awsState(ctx: FakeContext): { id: string; state: Record<string, unknown> } {
  const { type, name, inputs, urn } = ctx;
  const region = awsRegion(ctx);
  const account = FAKE_AWS_ACCOUNT;
  const suffix = hex(urn, 7);
  const [, modulePath = "", kind = ""] = type.split(":");
  const service = modulePath.split("/")[0];
  const defaultTags = parseJsonRecord(ctx.providerInputs?.defaultTags ?? ctx.config["aws:defaultTags"])?.tags;
  const tagsAll = { ...((defaultTags as Record<string, unknown>) ?? {}), ...((inputs.tags as Record<string, unknown>) ?? {}) };
  const state: Record<string, unknown> = { ...inputs, region, tagsAll };
  const physical = str(inputs.name) ?? (str(inputs.namePrefix) ? `${inputs.namePrefix}${suffix}` : `${name}-${suffix}`);

  switch (type) {
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2": {
      const bucket = str(inputs.bucket) ?? (str(inputs.bucketPrefix) ? `${inputs.bucketPrefix}${suffix}` : `${name}-${suffix}`.toLowerCase());
      Object.assign(state, {
        bucket,
        arn: `arn:aws:s3:::${bucket}`,
        bucketDomainName: `${bucket}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
        hostedZoneId: "Z1BKCTXD74EZPE",
      });
      return { id: bucket, state };
    }
    case "aws:lambda/function:Function": {
      const arn = `arn:aws:lambda:${region}:${account}:function:${physical}`;
      Object.assign(state, {
        name: physical,
        arn,
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
        qualifiedArn: `${arn}:$LATEST`,
        qualifiedInvokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}:$LATEST/invocations`,
        version: "$LATEST",
        lastModified: "2026-01-01T00:00:00.000+0000",
        codeSha256: hex(`${urn}#code`, 44),
        sourceCodeSize: 1024,
        signingJobArn: "",
        signingProfileVersionArn: "",
      });
      return { id: physical, state };
    }
    case "aws:sfn/stateMachine:StateMachine": {
      const arn = `arn:aws:states:${region}:${account}:stateMachine:${physical}`;
      Object.assign(state, { name: physical, arn, status: "ACTIVE", creationDate: "2026-01-01T00:00:00Z", revisionId: hex(`${urn}#rev`, 8), stateMachineVersionArn: "", versionDescription: "" });
      return { id: arn, state };
    }
    case "aws:sns/topic:Topic": {
      const arn = `arn:aws:sns:${region}:${account}:${physical}`;
      Object.assign(state, { name: physical, arn, owner: account, beginningArchiveTime: "" });
      return { id: arn, state };
    }
    case "aws:sns/topicSubscription:TopicSubscription": {
      const arn = `${str(inputs.topic) ?? `arn:aws:sns:${region}:${account}:topic`}:${fakeUuid(urn)}`;
      Object.assign(state, { arn, ownerId: account, pendingConfirmation: inputs.protocol === "email" });
      return { id: arn, state };
    }
    case "aws:dynamodb/table:Table": {
      const arn = `arn:aws:dynamodb:${region}:${account}:table/${physical}`;
      Object.assign(state, { name: physical, arn });
      if (inputs.streamEnabled === true) Object.assign(state, { streamArn: `${arn}/stream/2026-01-01T00:00:00.000`, streamLabel: "2026-01-01T00:00:00.000" });
      return { id: physical, state };
    }
    case "aws:cloudwatch/logGroup:LogGroup":
      Object.assign(state, { name: physical, arn: `arn:aws:logs:${region}:${account}:log-group:${physical}` });
      return { id: physical, state };
    case "aws:iam/role:Role":
      Object.assign(state, { name: physical, arn: `arn:aws:iam::${account}:role${str(inputs.path) ?? "/"}${physical}`, uniqueId: `AROA${hex(urn, 17).toUpperCase()}`, createDate: "2026-01-01T00:00:00Z" });
      return { id: physical, state };
    case "aws:iam/policy:Policy": {
      const arn = `arn:aws:iam::${account}:policy${str(inputs.path) ?? "/"}${physical}`;
      Object.assign(state, { name: physical, arn, policyId: `ANPA${hex(urn, 17).toUpperCase()}`, attachmentCount: 0 });
      return { id: arn, state };
    }
    case "aws:iam/rolePolicy:RolePolicy":
      Object.assign(state, { name: physical });
      return { id: `${str(inputs.role) ?? "role"}:${physical}`, state };
    case "aws:cloudwatch/eventRule:EventRule":
      Object.assign(state, { name: physical, arn: `arn:aws:events:${region}:${account}:rule/${str(inputs.eventBusName) && inputs.eventBusName !== "default" ? `${inputs.eventBusName}/` : ""}${physical}` });
      return { id: physical, state };
    case "aws:sqs/queue:Queue": {
      const url = `https://sqs.${region}.amazonaws.com/${account}/${physical}`;
      Object.assign(state, { name: physical, arn: `arn:aws:sqs:${region}:${account}:${physical}`, url });
      return { id: url, state };
    }
    case "aws:kms/key:Key": {
      const keyId = fakeUuid(urn);
      Object.assign(state, { keyId, arn: `arn:aws:kms:${region}:${account}:key/${keyId}` });
      return { id: keyId, state };
    }
    case "aws:kms/alias:Alias":
      Object.assign(state, { name: str(inputs.name) ?? `alias/${name}`, arn: `arn:aws:kms:${region}:${account}:${str(inputs.name) ?? `alias/${name}`}`, targetKeyArn: `arn:aws:kms:${region}:${account}:key/${str(inputs.targetKeyId) ?? fakeUuid(urn)}` });
      return { id: str(inputs.name) ?? `alias/${name}`, state };
    case "aws:lambda/permission:Permission":
      return { id: str(inputs.statementId) ?? `${name}-${suffix}`, state: { ...state, statementId: str(inputs.statementId) ?? `${name}-${suffix}` } };
    case "aws:ec2/vpc:Vpc":
    case "aws:ec2/subnet:Subnet":
    case "aws:ec2/securityGroup:SecurityGroup":
    case "aws:ec2/vpcEndpoint:VpcEndpoint":
    case "aws:ec2/routeTable:RouteTable": {
      const prefix = { Vpc: "vpc", Subnet: "subnet", SecurityGroup: "sg", VpcEndpoint: "vpce", RouteTable: "rtb" }[kind] ?? "res";
      const id = `${prefix}-${hex(urn, 17)}`;
      Object.assign(state, { arn: `arn:aws:ec2:${region}:${account}:${kind.toLowerCase()}/${id}`, ownerId: account });
      if (kind === "Vpc") Object.assign(state, { defaultSecurityGroupId: `sg-${hex(`${urn}#sg`, 17)}`, mainRouteTableId: `rtb-${hex(`${urn}#rtb`, 17)}` });
      if (kind === "VpcEndpoint") Object.assign(state, { prefixListId: `pl-${hex(urn, 8)}` });
      return { id, state };
    }
    default: {
      const physicalName = AWS_NAMED_BY_NAME.has(type) ? physical : str(inputs.name) ?? `${name}-${suffix}`;
      // Sub-resources of a bucket (policy, versioning, encryption...) take the bucket name as id.
      const id = str(inputs.bucket) ?? physicalName;
      Object.assign(state, { arn: `arn:aws:${service}:${region}:${account}:${kind.charAt(0).toLowerCase()}${kind.slice(1)}/${physicalName}` });
      return { id, state };
    }
  }
}

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
  "azure-native:authorization:RoleAssignment": { path: "Microsoft.Authorization/roleAssignments", nameKey: "roleAssignmentName" },
  "azure-native:keyvault:Vault": { path: "Microsoft.KeyVault/vaults", nameKey: "vaultName" },
};

function azureState(ctx: FakeContext): { id: string; state: Record<string, unknown> } {
  const { type, name, inputs, urn } = ctx;
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

/** Fake id and outputs for a resource the program registers. */
export function fakeResource(ctx: FakeContext): { id: string | undefined; state: Record<string, unknown> } {
  if (ctx.type.startsWith("pulumi:providers:")) return { id: fakeUuid(ctx.urn), state: { ...ctx.inputs } };
  if (ctx.type.startsWith("aws:")) return awsState(ctx);
  if (ctx.type.startsWith("azure-native:")) return azureState(ctx);
  return { id: `${ctx.name}-${hex(ctx.urn, 7)}`, state: { ...ctx.inputs } };
}

// ------------------------------------------------------------------ data sources

function regionFor(inputs: Record<string, unknown>, providerInputs: Record<string, unknown> | undefined, config: Record<string, string>): string {
  return str(inputs.region) ?? str(inputs.name) ?? str(providerInputs?.region) ?? config["aws:region"] ?? process.env.AWS_REGION ?? "us-east-1";
}

/**
 * Answers a data-source call with plausible fake values.
 * @throws {Error} for a token the offline preview does not know.
 */
export function fakeCall(token: string, inputs: Record<string, unknown>, providerInputs: Record<string, unknown> | undefined, config: Record<string, string>): Record<string, unknown> {
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: FAKE_AWS_ACCOUNT, arn: `arn:aws:iam::${FAKE_AWS_ACCOUNT}:user/offline-preview`, userId: "AIDAOFFLINEPREVIEW0001", id: FAKE_AWS_ACCOUNT };
    case "aws:index/getRegion:getRegion": {
      const region = regionFor(inputs, providerInputs, config);
      return { name: region, region, id: region, description: `Offline preview region ${region}`, endpoint: `ec2.${region}.amazonaws.com` };
    }
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
    case "aws:index/getAvailabilityZones:getAvailabilityZones": {
      const region = regionFor({ region: inputs.region }, providerInputs, config);
      const letters = ["a", "b", "c"];
      return { names: letters.map((l) => `${region}${l}`), zoneIds: letters.map((_, i) => `${region.slice(0, 3)}1-az${i + 1}`), groupNames: [region], id: region };
    }
    case "azure-native:authorization:getClientConfig":
      return { clientId: fakeUuid("client"), objectId: fakeUuid("object"), subscriptionId: FAKE_AZURE_SUBSCRIPTION, tenantId: FAKE_AZURE_TENANT };
    case "azure-native:web:listWebAppHostKeys":
      return {
        functionKeys: { default: "offline-preview-function-key" },
        masterKey: "offline-preview-master-key",
        systemKeys: { durabletask_extension: "offline-preview-durable-key", eventgrid_extension: "offline-preview-eventgrid-key", blobs_extension: "offline-preview-blobs-key" },
      };
    default:
      throw new Error(`The offline preview has no fake answer for the data source "${token}"; add one to fakeCall in local/mockRuntime.ts.`);
  }
}

// ------------------------------------------------------------------ the runtime

interface MonitorRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): { toJavaScript(): unknown } | undefined;
  getProvider(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (value: { getUrnsList(): string[] }, key: string) => void): void };
  getProtect(): boolean;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
}

interface MockMonitorLike {
  registerResource(req: MonitorRequest, callback: (err: unknown, resp: unknown) => void): Promise<void>;
  invoke(req: unknown, callback: (err: unknown, resp: unknown) => void): Promise<void>;
  readResource(req: unknown, callback: (err: unknown, resp: unknown) => void): Promise<void>;
}

function parseProviderRef(ref: string): ProviderRef | undefined {
  if (!ref) return undefined;
  const at = ref.lastIndexOf("::");
  return at < 0 ? undefined : { urn: ref.slice(0, at), id: ref.slice(at + 2) };
}

function newUrn(project: string, stack: string, parent: string, type: string, name: string): string {
  let qualified = type;
  if (parent) qualified = `${parent.split("::")[2].split("$").pop()}$${type}`;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

export interface MockRuntime {
  /** Every resource registered so far, in registration order. */
  readonly resources: RecordedResource[];
  /** Waits until the program has registered everything and all outputs have settled. */
  settle(timeoutMs?: number): Promise<void>;
  /** Inputs of the explicit provider a resource uses, if any. */
  providerInputs(ref: ProviderRef | undefined): Record<string, unknown> | undefined;
}

/**
 * Installs the mock runtime for one preview: config, mocks (preview mode) and
 * the recorder. Call before importing the program.
 */
export async function startMockRuntime(options: MockRuntimeOptions): Promise<MockRuntime> {
  const { project, stack, config } = options;
  const resources: RecordedResource[] = [];
  const byUrn = new Map<string, RecordedResource>();
  const ownTransforms = new Map<string, pulumi.ResourceTransform[]>();
  const stackTransforms: pulumi.ResourceTransform[] = [];
  /** Requests waiting for their newResource call, by type and name. */
  const waiting = new Map<string, MonitorRequest[]>();
  let pending = 0;
  let operations = 0;

  const providerInputs = (ref: ProviderRef | undefined) => (ref ? byUrn.get(ref.urn)?.inputs : undefined);

  const mocks: pulumi.runtime.Mocks = {
    async newResource(args) {
      const queue = waiting.get(`${args.type}::${args.name}`);
      const req = queue?.shift();
      if (!req) throw new Error(`The offline preview lost track of the registration of ${args.type} "${args.name}".`);
      const parent = req.getParent() || undefined;
      const urn = newUrn(project, stack, req.getParent(), args.type, args.name);
      const provider = parseProviderRef(req.getProvider());
      let inputs = (toPlain(req.getObject()?.toJavaScript() ?? {}) ?? {}) as Record<string, unknown>;

      // The engine applies the resource's own transforms, then its ancestors', then the stack's.
      const chain: pulumi.ResourceTransform[] = [...(args.transforms ?? [])];
      for (let p = parent; p; p = byUrn.get(p)?.parent) chain.push(...(ownTransforms.get(p) ?? []));
      chain.push(...stackTransforms);
      for (const transform of chain) {
        const result = await transform({ custom: args.custom ?? false, type: args.type, name: args.name, props: inputs, opts: {} });
        if (result?.props) {
          const serialized = await pulumi.runtime.serializeProperties(`transform of ${args.name}`, result.props);
          inputs = toPlain(serialized) as Record<string, unknown>;
        }
      }
      if (args.transforms?.length) ownTransforms.set(urn, args.transforms);

      const propertyDependencies: Record<string, string[]> = {};
      req.getPropertydependenciesMap().forEach((value, key) => (propertyDependencies[key] = value.getUrnsList()));
      const custom = args.custom ?? false;
      const fake = custom ? fakeResource({ urn, type: args.type, name: args.name, inputs, providerInputs: providerInputs(provider), config }) : { id: undefined, state: {} };
      const record: RecordedResource = {
        urn,
        type: args.type,
        name: args.name,
        custom,
        parent,
        provider,
        inputs,
        outputs: fake.state,
        id: fake.id,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        protect: req.getProtect(),
        ignoreChanges: req.getIgnorechangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        index: resources.length,
      };
      resources.push(record);
      byUrn.set(urn, record);
      return fake;
    },
    call(args) {
      try {
        return fakeCall(args.token, (toPlain(args.inputs) ?? {}) as Record<string, unknown>, providerInputs(parseProviderRef(args.provider ?? "")), config);
      } catch (error) {
        // The SDK reports a failed invoke by the gRPC error's `details`.
        throw Object.assign(error as Error, { details: (error as Error).message });
      }
    },
    registerTransform(transform) {
      stackTransforms.push(transform);
    },
  };

  await pulumi.runtime.setMocks(mocks, project, stack, true);
  pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);

  // Count outstanding monitor calls so settle() knows when the program is done.
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorLike;
  const track = <R>(call: (req: R, cb: (err: unknown, resp: unknown) => void) => Promise<void>) =>
    (req: R, callback: (err: unknown, resp: unknown) => void) => {
      pending++;
      operations++;
      return call(req, (err, resp) => {
        pending--;
        callback(err, resp);
      });
    };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = track<MonitorRequest>((req, cb) => {
    const key = `${req.getType()}::${req.getName()}`;
    waiting.set(key, [...(waiting.get(key) ?? []), req]);
    return register(req, cb);
  });
  monitor.invoke = track(monitor.invoke.bind(monitor));
  monitor.readResource = track(monitor.readResource.bind(monitor));

  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  return {
    resources,
    providerInputs,
    async settle(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      let stableRounds = 0;
      let seen = -1;
      while (stableRounds < 3) {
        if (Date.now() > deadline) throw new Error(`The program was still registering resources after ${timeoutMs / 1000} s.`);
        if (runtime.waitForRPCs) await runtime.waitForRPCs();
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (pending === 0 && operations === seen) stableRounds++;
        else stableRounds = 0;
        seen = operations;
      }
    },
  };
}
