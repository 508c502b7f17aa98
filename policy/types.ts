/**
 * Resource type tokens the rules look at, as @pulumi/aws 7 and
 * @pulumi/azure-native 3 register them. Plain strings, so the pack loads without
 * the (large) provider SDKs. The deprecated `...V2` S3 aliases still exist in
 * aws 7 and are checked alike.
 */

export const AWS = {
  bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
  publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  encryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  logging: ["aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"],
  bucketPolicy: ["aws:s3/bucketPolicy:BucketPolicy"],
  lifecycle: [
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  ],
  lambdaFunction: ["aws:lambda/function:Function"],
  lambdaPermission: ["aws:lambda/permission:Permission"],
  lambdaFunctionUrl: ["aws:lambda/functionUrl:FunctionUrl"],
  lambdaInvokeConfig: ["aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"],
  stateMachine: ["aws:sfn/stateMachine:StateMachine"],
  topic: ["aws:sns/topic:Topic"],
  table: ["aws:dynamodb/table:Table"],
  logGroup: ["aws:cloudwatch/logGroup:LogGroup"],
  queue: ["aws:sqs/queue:Queue"],
  eventRule: ["aws:cloudwatch/eventRule:EventRule"],
  eventTarget: ["aws:cloudwatch/eventTarget:EventTarget"],
  metricAlarm: ["aws:cloudwatch/metricAlarm:MetricAlarm"],
  /** Resources whose `policy` input is an identity-based IAM policy document. */
  iamPolicyDocument: ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"],
  /** Roles carry identity policies in `inlinePolicies[].policy`. */
  role: ["aws:iam/role:Role"],
  distribution: ["aws:cloudfront/distribution:Distribution"],
} as const;

/**
 * AWS types of this project (and close neighbours) that accept `tags`. An
 * explicit list: a policy only sees the inputs that were set, so "has a tags
 * key" cannot tell an untagged taggable resource from an untaggable one.
 */
export const AWS_TAGGABLE: readonly string[] = [
  ...AWS.bucket,
  ...AWS.lambdaFunction,
  ...AWS.stateMachine,
  ...AWS.topic,
  ...AWS.table,
  ...AWS.logGroup,
  ...AWS.role,
  "aws:iam/policy:Policy",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:cloudwatch/eventBus:EventBus",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:sqs/queue:Queue",
  "aws:kms/key:Key",
  "aws:lambda/layerVersion:LayerVersion",
  "aws:sfn/activity:Activity",
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:ec2/routeTable:RouteTable",
  "aws:secretsmanager/secret:Secret",
  "aws:ssm/parameter:Parameter",
  ...AWS.distribution,
  "aws:cloudfront/function:Function",
  "aws:apigatewayv2/api:Api",
  "aws:apigatewayv2/stage:Stage",
];

export const AZURE = {
  storageAccount: ["azure-native:storage:StorageAccount"],
  blobServiceProperties: ["azure-native:storage:BlobServiceProperties"],
  webApp: ["azure-native:web:WebApp"],
  webAppSettings: ["azure-native:web:WebAppApplicationSettings"],
  appInsights: ["azure-native:applicationinsights:Component"],
  eventSubscription: ["azure-native:eventgrid:SystemTopicEventSubscription", "azure-native:eventgrid:EventSubscription", "azure-native:eventgrid:TopicEventSubscription"],
  logAlert: ["azure-native:monitor:ScheduledQueryRule"],
  metricAlert: ["azure-native:monitor:MetricAlert"],
  frontDoorRoute: ["azure-native:cdn:Route"],
  frontDoorCustomDomain: ["azure-native:cdn:AFDCustomDomain"],
  frontDoorOrigin: ["azure-native:cdn:AFDOrigin"],
  frontDoorOriginGroup: ["azure-native:cdn:AFDOriginGroup"],
  frontDoorProfile: ["azure-native:cdn:Profile"],
} as const;

/** Azure types of this project (and close neighbours) that accept `tags`; see {@link AWS_TAGGABLE}. */
export const AZURE_TAGGABLE: readonly string[] = [
  "azure-native:resources:ResourceGroup",
  ...AZURE.storageAccount,
  ...AZURE.webApp,
  ...AZURE.appInsights,
  "azure-native:web:AppServicePlan",
  "azure-native:operationalinsights:Workspace",
  "azure-native:eventgrid:SystemTopic",
  "azure-native:eventgrid:Topic",
  "azure-native:managedidentity:UserAssignedIdentity",
  "azure-native:keyvault:Vault",
  "azure-native:monitor:ActionGroup",
  "azure-native:monitor:MetricAlert",
  "azure-native:monitor:ScheduledQueryRule",
  "azure-native:applicationinsights:Workbook",
  "azure-native:cdn:Profile",
  "azure-native:cdn:AFDEndpoint",
  "azure-native:frontdoor:Policy",
];

export const AWS_PROVIDER = "pulumi:providers:aws";
export const AZURE_PROVIDER = "pulumi:providers:azure-native";
