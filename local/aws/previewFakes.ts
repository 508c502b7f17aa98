import type { FakeContext, PreviewFakes } from "../preview/fakes";
import { fakeUuid, hex, parseJsonRecord, str } from "../preview/fakes";

/** The offline preview's fake AWS account: ids, ARNs and data sources with plausible values. */

export const FAKE_AWS_ACCOUNT = "123456789012";

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

function regionFor(inputs: Record<string, unknown>, providerInputs: Record<string, unknown> | undefined, config: Record<string, string>): string {
  return str(inputs.region) ?? str(inputs.name) ?? str(providerInputs?.region) ?? config["aws:region"] ?? process.env.AWS_REGION ?? "us-east-1";
}

/** Answers for the AWS data sources this program calls. */
function awsCall(token: string, inputs: Record<string, unknown>, providerInputs: Record<string, unknown> | undefined, config: Record<string, string>): Record<string, unknown> | undefined {
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
    default:
      return undefined;
  }
}

export const awsPreviewFakes: PreviewFakes = { typePrefixes: ["aws:"], resource: awsState, call: awsCall };
