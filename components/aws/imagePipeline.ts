import { existsSync } from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bundledAssets, buildFunctionBundle, PROJECT_ROOT, type BundleCpu } from "../bundle";
import { bundledFiles } from "../../functions/core/options";
import { apiAuthMode, cdnEnabled, stepSettings, type PipelineConfig } from "../config";
import { JOBS_TABLE_KEY, JOBS_TABLE_TTL_ATTRIBUTE, LAMBDA_ENV, lambdaApiEnvironment, lambdaEnvironment, OPEN_JOBS_INDEX, WORK_PREFIX } from "../../functions/aws/contract";
import { stuckAfterSeconds } from "../../functions/steps/sweep";
import { ERASE_HANDLER, STEP_HANDLERS, SWEEP_HANDLER, workflow as defaultWorkflow, type FunctionHandler, type StepHandler, type WorkflowDefinition } from "../../functions/workflow";
import { PipelineApi } from "./api";
import { RenditionsCdn, renditionsBucketPolicy } from "./cdn";
import { StepLambda } from "./stepLambda";
import { AccessLogs } from "./accessLogs";
import { PipelineAlarms } from "./alarms";
import { PipelineDashboard } from "./dashboard";
import { runTimeoutSeconds } from "./limits";
import { PrivateNetwork } from "./network";
import { PipelineStateMachine } from "./stateMachine";
import { ReprocessWorkflow } from "./reprocess";
import { SecureBucket } from "./storage";
import { SWEEP_MEMORY_MB, SWEEP_TIMEOUT_SECONDS, SweepSchedule } from "./sweep";
import { DeleteTrigger, ERASE_MEMORY_MB, ERASE_TIMEOUT_SECONDS } from "./deleteTrigger";
import { UploadTrigger } from "./trigger";
import { UploaderAccess } from "./uploaders";
import type { ImagePipelineOutputs } from "../outputs";
import { pipelineTags } from "../tags";

/**
 * The image pipeline on AWS: uploads land in S3, EventBridge starts a Step
 * Functions run per object, one Lambda per workflow step (all from one bundle)
 * resizes, filters and encodes, DynamoDB records jobs, SNS announces results.
 *
 * Tags: every taggable resource carries `project`, `stack`, `data-classification`
 * and config.tags on its own `tags` input (not provider default tags), so the
 * policy pack sees them, and an explicit provider is not needed: an explicit
 * provider would ignore the stack's `aws:*` settings (profile, assumed role).
 * `config.region` is applied per resource (AWS provider v7 `region` inputs).
 */

export const WORK_EXPIRY_DAYS = 1;
/** The bundle entry: named exports, one per step handler. */
export const AWS_HANDLERS_ENTRY = "functions/aws/handlers.ts";
/** The API's bundle entry, exporting `handler` (API Gateway HTTP API, payload v2). */
export const AWS_API_ENTRY = "functions/aws/api.ts";
/** Extra seconds a Task waits beyond the function's own timeout, so Lambda reports the timeout itself. */
const TASK_TIMEOUT_MARGIN_SECONDS = 10;

export interface AwsImagePipelineArgs {
  /** The validated stack config (components/config.ts). */
  config: PipelineConfig;
  /**
   * Prebuilt code for all eight functions (six steps, the sweep and erasure; tests, CI artifacts). Default: the
   * bundle of `entry` for `config.architecture`, built when the program runs.
   */
  code?: pulumi.Input<pulumi.asset.Archive>;
  /** Bundle entry; default functions/aws/handlers.ts. */
  entry?: string;
  /** Default: the project's workflow (functions/workflow.ts). */
  workflow?: WorkflowDefinition;
  /** Prebuilt code of the API function (tests). Default: the bundle of `apiEntry`. */
  apiCode?: pulumi.Input<pulumi.asset.Archive>;
  /** The API's bundle entry; default functions/aws/api.ts. No API is deployed while the entry does not exist. */
  apiEntry?: string;
}

export class AwsImagePipeline extends pulumi.ComponentResource implements ImagePipelineOutputs {
  // The cloud-neutral outputs index.ts exports.
  readonly uploadsStore: pulumi.Output<string>;
  readonly renditionsStore: pulumi.Output<string>;
  readonly workflowId: pulumi.Output<string>;
  readonly jobsTable: pulumi.Output<string>;
  readonly notificationsTopic: pulumi.Output<string>;
  readonly uploadCommand: pulumi.Output<string>;
  readonly deadLetters: pulumi.Output<string>;
  /** The role `uploaders` assume to put objects into the uploads bucket; "" when none are configured. */
  readonly uploadersGrant: pulumi.Output<string>;

  // AWS names for the same things, and more.
  readonly uploadsBucket: pulumi.Output<string>;
  readonly renditionsBucket: pulumi.Output<string>;
  readonly stateMachineArn: pulumi.Output<string>;
  /** The reprocess state machine (Distributed Map over the uploads listing): start it with `{ "prefix": "..." }`. */
  readonly reprocessStateMachineArn: pulumi.Output<string>;
  readonly tableName: pulumi.Output<string>;
  readonly topicArn: pulumi.Output<string>;
  readonly functionArns: Record<StepHandler, pulumi.Output<string>>;
  readonly functionNames: Record<StepHandler, pulumi.Output<string>>;
  /** The resources that hold data (uploads, renditions, jobs), protected from deletion when config.protectData is on. */
  readonly dataResources: pulumi.CustomResource[];
  /** Upload events EventBridge could not deliver to the state machine. */
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  /** Where the alarms send (email from config.alertEmail). */
  readonly alertsTopic: pulumi.Output<string>;
  /** The CloudWatch dashboard of the pipeline. */
  readonly dashboardName: pulumi.Output<string>;
  /** The scheduled stuck-job sweep's Lambda. */
  readonly sweepFunctionName: pulumi.Output<string>;
  /** The Lambda that erases a deleted upload's renditions, work objects and job records. */
  readonly eraseFunctionName: pulumi.Output<string>;
  /** The private VPC when `config.vpc` is on. */
  readonly vpcId?: pulumi.Output<string>;
  /** The S3 server access log bucket when `config.accessLogging` is `server`. */
  readonly accessLogsBucket?: pulumi.Output<string>;
  /** The HTTP API's base URL; "" when the stack has no API entry. */
  readonly apiUrl: pulumi.Output<string>;
  /** Where renditions are served: the CloudFront URL, or "" without a CDN (the API signs S3 URLs then). */
  readonly renditionsUrl: pulumi.Output<string>;
  /** The cloud-neutral name of reprocessStateMachineArn (a stack output). */
  readonly reprocessStarter: pulumi.Output<string>;

  constructor(name: string, args: AwsImagePipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:ImagePipeline", name, {}, opts);
    const { config, entry = AWS_HANDLERS_ENTRY, workflow: baseWorkflow = defaultWorkflow } = args;
    // The run timeout the state machine enforces (Express: at most 5 minutes); the sweep's threshold follows it.
    const workflow: WorkflowDefinition = { ...baseWorkflow, timeoutSeconds: runTimeoutSeconds(config, baseWorkflow) };
    const { region, kmsKeyArn, retentionDays, logRetentionDays } = config;
    const regional = region ? { region } : {};
    const tags = pipelineTags(config);
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;

    // Storage: uploads are versioned (an overwrite never loses the original); renditions hold a short-lived work/ prefix.
    // protectData: `pulumi destroy` (or a replacement) stops before deleting anything that holds data; children inherit it.
    const dataOptions = { parent: this, protect: config.protectData };
    const uploads = new SecureBucket(`${name}-uploads`, { tags, region, versioning: true, retentionDays, kmsKeyArn, eventBridge: true }, dataOptions);
    // With a CDN, the renditions bucket's one policy also admits the distribution, created below from the bucket.
    const withCdn = cdnEnabled(config);
    const [distributionArn, setDistributionArn] = pulumi.deferredOutput<string>();
    const renditions = new SecureBucket(
      `${name}-renditions`,
      {
        tags,
        region,
        retentionDays,
        kmsKeyArn,
        expiringPrefixes: { [WORK_PREFIX]: WORK_EXPIRY_DAYS },
        infrequentAccessAfterDays: config.renditionsInfrequentAccessDays,
        ...(withCdn ? { policy: (arn: string) => distributionArn.apply((distribution) => JSON.stringify(renditionsBucketPolicy(arn, distribution, WORK_PREFIX))) } : {}),
      },
      dataOptions,
    );
    // CloudFront is global (no region input); its certificate must be in us-east-1.
    const cdn = withCdn
      ? new RenditionsCdn(
          `${name}-cdn`,
          {
            bucketRegionalDomainName: renditions.bucket.bucketRegionalDomainName,
            formats: config.processing.formats,
            priceClass: config.delivery.priceClass,
            maxAgeSeconds: config.delivery.maxAgeSeconds,
            domain: config.delivery.domain,
            certificateArn: config.delivery.certificateArn,
            tags,
          },
          { parent: this },
        )
      : undefined;
    if (cdn) setDistributionArn(cdn.distributionArn);
    this.renditionsUrl = cdn ? cdn.url : pulumi.output("");

    const table = new aws.dynamodb.Table(
      `${name}-jobs`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: JOBS_TABLE_KEY,
        attributes: [JOBS_TABLE_KEY, OPEN_JOBS_INDEX.partitionKey, OPEN_JOBS_INDEX.sortKey].map((attribute) => ({ name: attribute, type: "S" })),
        // Sparse: only jobs not yet announced carry the partition key, so the stuck-job sweep reads just those.
        globalSecondaryIndexes: [
          {
            name: OPEN_JOBS_INDEX.name,
            keySchemas: [
              { attributeName: OPEN_JOBS_INDEX.partitionKey, keyType: "HASH" },
              { attributeName: OPEN_JOBS_INDEX.sortKey, keyType: "RANGE" },
            ],
            // A projection cannot change in place; an older stack's index is deleted and re-created: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.OnlineOps.html
            projectionType: OPEN_JOBS_INDEX.projection,
          },
        ],
        pointInTimeRecovery: { enabled: true },
        // Also refuses deletion from the console or another tool.
        deletionProtectionEnabled: config.protectData,
        // Without a configured key, the AWS-managed aws/dynamodb key (auditable in CloudTrail).
        serverSideEncryption: { enabled: true, ...(kmsKeyArn ? { kmsKeyArn } : {}) },
        // The job store stamps expiresAt JOB_RETENTION_DAYS after each write; DynamoDB then drops the record.
        ttl: { attributeName: JOBS_TABLE_TTL_ATTRIBUTE, enabled: true },
        ...regional,
        tags,
      },
      dataOptions,
    );
    this.dataResources = [uploads.bucket, renditions.bucket, table];

    // Who read, wrote or deleted which image: renditions too, since they are the processed copies users fetch.
    const accessLogs =
      config.accessLogging === "server"
        ? new AccessLogs(
            `${name}-access-logs`,
            { sources: { uploads: { bucket: uploads.bucketName, arn: uploads.arn }, renditions: { bucket: renditions.bucketName, arn: renditions.arn } }, retentionDays, accountId, tags, region },
            { parent: this },
          )
        : undefined;

    const topic = new aws.sns.Topic(`${name}-notifications`, { kmsMasterKeyId: kmsKeyArn ?? "alias/aws/sns", ...regional, tags }, { parent: this });
    if (config.notificationEmail) {
      // The address must confirm the subscription from the email AWS sends.
      new aws.sns.TopicSubscription(`${name}-notifications-email`, { topic: topic.arn, protocol: "email", endpoint: config.notificationEmail, ...regional }, { parent: this });
    }

    const network = config.vpc
      ? new PrivateNetwork(`${name}-network`, { tags, region, allowed: { bucketArns: [uploads.arn, renditions.arn], tableArn: table.arn, topicArn: topic.arn } }, { parent: this })
      : undefined;

    // arm64 (Graviton) costs ~20% less per GB-second than x86_64 and sharp ships prebuilt linux-arm64 binaries.
    const cpu: BundleCpu = config.architecture === "arm64" ? "arm64" : "x64";
    // A `file:` watermark ships inside the bundle (assets/), so the functions need no extra access.
    const assets = bundledFiles(config.processing);
    const code =
      args.code ??
      pulumi.output(buildFunctionBundle({ entry, cpu, ...(assets.length > 0 ? { extraFiles: bundledAssets(assets) } : {}) })).apply((bundle) => new pulumi.asset.FileArchive(bundle.zipPath));

    const environment = {
      ...lambdaEnvironment({ uploadsBucket: uploads.bucketName, renditionsBucket: renditions.bucketName, jobsTable: table.name, topicArn: topic.arn, processing: config.processing, retentionDays }),
      // sharp's advice for glibc: fewer malloc arenas keep memory flat across libvips threads.
      MALLOC_ARENA_MAX: "2",
      NODE_OPTIONS: "--enable-source-maps",
      // The `service` of the steps' logs and job-outcome metrics: one per stack, which the alarms select.
      POWERTOOLS_SERVICE_NAME: name,
    };

    const access = { uploadsBucketArn: uploads.arn, renditionsBucketArn: renditions.arn, workPrefix: WORK_PREFIX, tableArn: table.arn, topicArn: topic.arn, kmsKeyArn };
    const vpc = network ? { subnetIds: network.subnetIds, securityGroupIds: [network.functionsSecurityGroupId] } : undefined;
    // Every function of the bundle (the steps, the sweep, erasure): the same code, access, network and concurrency setting.
    // Reserving even 1 fails on accounts whose quota leaves under 100 unreserved (new accounts: 10), so only on request
    // (https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html; https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
    const bundleLambda = (handler: FunctionHandler, size: { memoryMb: number; timeoutSeconds: number }, env: Record<string, pulumi.Input<string>> = environment) =>
      new StepLambda(
        `${name}-${handler}`,
        {
          handler,
          functionName: lambdaName(name, handler),
          code,
          architecture: config.architecture,
          ...size,
          environment: env,
          logRetentionDays,
          access,
          reservedConcurrency: config.reservedConcurrency,
          vpc,
          tags,
          region,
        },
        { parent: this },
      );
    const functions = {} as Record<StepHandler, StepLambda>;
    for (const handler of STEP_HANDLERS) functions[handler] = bundleLambda(handler, stepSettings(config, handler));
    this.functionArns = mapHandlers((handler) => functions[handler].arn);
    this.functionNames = mapHandlers((handler) => functions[handler].functionName);

    const stateMachine = new PipelineStateMachine(
      `${name}-workflow`,
      {
        definition: workflow,
        functionArns: this.functionArns,
        taskTimeoutSeconds: mapHandlers((handler) => stepSettings(config, handler).timeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS),
        workflowType: config.workflowType,
        logRetentionDays,
        kmsKeyArn,
        accountId,
        tags,
        region,
      },
      { parent: this },
    );

    // The stuck-job sweep: the same bundle and access, a small fixed size, on a schedule.
    const sweeper = bundleLambda(SWEEP_HANDLER, { memoryMb: SWEEP_MEMORY_MB, timeoutSeconds: SWEEP_TIMEOUT_SECONDS }, { ...environment, [LAMBDA_ENV.stuckAfterSeconds]: String(stuckAfterSeconds(workflow)) });
    new SweepSchedule(`${name}-sweep`, { functionArn: sweeper.arn, functionName: sweeper.functionName, tags, region }, { parent: this });
    this.sweepFunctionName = sweeper.functionName;

    // Erasure on delete: the same bundle, its own role (components/aws/iam.ts eraseGrants), run per deleted upload.
    const eraser = bundleLambda(ERASE_HANDLER, { memoryMb: ERASE_MEMORY_MB, timeoutSeconds: ERASE_TIMEOUT_SECONDS });
    const deleteTrigger = new DeleteTrigger(
      `${name}-erase`,
      { uploadsBucketName: uploads.bucketName, functionArn: eraser.arn, functionName: eraser.functionName, functionRoleName: eraser.roleName, tags, region },
      { parent: this },
    );
    this.eraseFunctionName = eraser.functionName;

    const trigger = new UploadTrigger(`${name}-trigger`, { uploadsBucketName: uploads.bucketName, stateMachineArn: stateMachine.arn, accountId, tags, region }, { parent: this });
    this.deadLetterQueueUrl = trigger.deadLetterQueueUrl;
    const reprocess = new ReprocessWorkflow(
      `${name}-reprocess`,
      { uploadsBucketName: uploads.bucketName, uploadsBucketArn: uploads.arn, pipelineStateMachineArn: stateMachine.arn, settings: config.reprocess, logRetentionDays, kmsKeyArn, accountId, tags, region },
      { parent: this },
    );
    this.reprocessStateMachineArn = reprocess.arn;
    this.reprocessStarter = this.reprocessStateMachineArn;

    // The API, once its entry exists (functions/aws/api.ts, #16): same runtime and CPU as the steps, its own bundle.
    const apiEntry = args.apiEntry ?? AWS_API_ENTRY;
    const apiCode = args.apiCode ?? (existsSync(path.resolve(PROJECT_ROOT, apiEntry)) ? pulumi.output(buildFunctionBundle({ entry: apiEntry, cpu })).apply((bundle) => new pulumi.asset.FileArchive(bundle.zipPath)) : undefined);
    const api = apiCode
      ? new PipelineApi(
          `${name}-api`,
          {
            code: apiCode,
            functionName: lambdaName(name, "api"),
            architecture: config.architecture,
            environment: { ...environment, ...lambdaApiEnvironment({ api: config.api, deliveryBaseUrl: this.renditionsUrl }) },
            uploadsBucketArn: uploads.arn,
            uploadsBucketName: uploads.bucketName,
            renditionsBucketArn: renditions.arn,
            workPrefix: WORK_PREFIX,
            tableArn: table.arn,
            topicArn: topic.arn,
            kmsKeyArn,
            corsOrigins: config.delivery.corsOrigins,
            rateLimit: config.delivery.rateLimit,
            burstLimit: config.delivery.burstLimit,
            logRetentionDays,
            auth: apiAuthMode(config),
            tags,
            region,
          },
          { parent: this },
        )
      : undefined;
    this.apiUrl = api ? api.url : pulumi.output("");

    const alarms = new PipelineAlarms(
      `${name}-alarms`,
      {
        stateMachineArn: stateMachine.arn,
        reprocessStateMachineArn: reprocess.arn,
        functionNames: this.functionNames,
        deadLetterQueueName: trigger.deadLetterQueueName,
        uploadRuleName: trigger.ruleName,
        erase: { functionName: eraser.functionName, deadLetterQueueName: deleteTrigger.deadLetterQueueName },
        sweepFunctionName: sweeper.functionName,
        ...(api ? { api: { apiId: api.api.id, functionName: api.functionName } } : {}),
        metricsService: name,
        alertEmail: config.alertEmail,
        accountId,
        tags,
        region,
      },
      { parent: this },
    );
    const dashboard = new PipelineDashboard(
      `${name}-monitoring`,
      {
        stateMachineArn: stateMachine.arn,
        functionNames: this.functionNames,
        erase: { functionName: eraser.functionName, deadLetterQueueName: deleteTrigger.deadLetterQueueName },
        sweepFunctionName: sweeper.functionName,
        metricsService: name,
        alarmArns: Object.values(alarms.alarms).map((alarm) => alarm.arn),
        // arn:aws:states:<region>:<account>:stateMachine:<name>: the region without another provider call.
        metricsRegion: region ?? stateMachine.arn.apply((arn) => arn.split(":")[3] ?? ""),
        region,
      },
      { parent: this },
    );
    this.alertsTopic = alarms.topicArn;
    this.dashboardName = dashboard.dashboardName;

    this.uploadsBucket = uploads.bucketName;
    this.renditionsBucket = renditions.bucketName;
    this.stateMachineArn = stateMachine.arn;
    this.tableName = table.name;
    this.topicArn = topic.arn;
    this.vpcId = network?.vpcId;
    this.accessLogsBucket = accessLogs?.bucketName;

    this.uploadsStore = this.uploadsBucket;
    this.renditionsStore = this.renditionsBucket;
    this.workflowId = this.stateMachineArn;
    this.jobsTable = this.tableName;
    this.notificationsTopic = this.topicArn;
    this.uploadCommand = pulumi.interpolate`aws s3 cp <image-file> s3://${uploads.bucketName}/ --region ${uploads.bucket.region}`;
    this.deadLetters = this.deadLetterQueueUrl;
    this.uploadersGrant =
      config.uploaders.length > 0
        ? new UploaderAccess(`${name}-uploaders`, { principalArns: config.uploaders, uploadsBucketArn: uploads.arn, kmsKeyArn, tags }, { parent: this }).roleArn
        : pulumi.output("");

    this.registerOutputs({
      uploadsStore: this.uploadsStore,
      renditionsStore: this.renditionsStore,
      workflowId: this.workflowId,
      jobsTable: this.jobsTable,
      notificationsTopic: this.notificationsTopic,
      uploadCommand: this.uploadCommand,
      deadLetters: this.deadLetters,
      uploadersGrant: this.uploadersGrant,
      uploadsBucket: this.uploadsBucket,
      renditionsBucket: this.renditionsBucket,
      stateMachineArn: this.stateMachineArn,
      reprocessStateMachineArn: this.reprocessStateMachineArn,
      tableName: this.tableName,
      topicArn: this.topicArn,
      sweepFunctionName: this.sweepFunctionName,
      eraseFunctionName: this.eraseFunctionName,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      alertsTopic: this.alertsTopic,
      dashboardName: this.dashboardName,
      vpcId: this.vpcId,
      accessLogsBucket: this.accessLogsBucket,
      apiUrl: this.apiUrl,
      renditionsUrl: this.renditionsUrl,
      reprocessStarter: this.reprocessStarter,
    });
  }
}

/** The function's physical name: fixed, so its log group can be named before it exists. */
export function lambdaName(pipelineName: string, handler: FunctionHandler | "api"): string {
  const functionName = `${pipelineName}-${handler}`;
  if (!/^[a-zA-Z0-9-_]{1,64}$/.test(functionName)) {
    throw new Error(`The Lambda name "${functionName}" is not valid (letters, digits, - and _, at most 64); use a shorter pipeline name than "${pipelineName}".`);
  }
  return functionName;
}

function mapHandlers<T>(value: (handler: StepHandler) => T): Record<StepHandler, T> {
  return Object.fromEntries(STEP_HANDLERS.map((handler) => [handler, value(handler)])) as Record<StepHandler, T>;
}
