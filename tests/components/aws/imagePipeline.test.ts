import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { aslTaskStates, type AslStateMachine } from "../../../components/aws/asl";
import type { PolicyDocument, TrustPolicyDocument } from "../../../components/aws/iam";
import { AwsImagePipeline } from "../../../components/aws/imagePipeline";
import { START_INPUT_TEMPLATE } from "../../../components/aws/trigger";
import { loadConfig } from "../../../components/config";
import { ERASE_HANDLER, STEP_HANDLERS, SWEEP_HANDLER, taskSteps, workflow, type FunctionHandler } from "../../../functions/workflow";
import { isTaggable, outputValue, setupPulumiMocks, type PulumiMocks, type RecordedResource } from "../../helpers/pulumiMocks";
import { assertLeastPrivilege, grants } from "./policyAssertions";

// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };

const NAME = "image-pipeline-dev";
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const T = {
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  notification: "aws:s3/bucketNotification:BucketNotification",
  table: "aws:dynamodb/table:Table",
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  fn: "aws:lambda/function:Function",
  stateMachine: "aws:sfn/stateMachine:StateMachine",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  permission: "aws:lambda/permission:Permission",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  invokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  logging: "aws:s3/bucketLogging:BucketLogging",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  key: "aws:kms/key:Key",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  distribution: "aws:cloudfront/distribution:Distribution",
  cdnFunction: "aws:cloudfront/function:Function",
  cachePolicy: "aws:cloudfront/cachePolicy:CachePolicy",
  responseHeaders: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
  originAccess: "aws:cloudfront/originAccessControl:OriginAccessControl",
  httpApi: "aws:apigatewayv2/api:Api",
  httpStage: "aws:apigatewayv2/stage:Stage",
  httpIntegration: "aws:apigatewayv2/integration:Integration",
  httpRoute: "aws:apigatewayv2/route:Route",
} as const;

const bucketArn = (name: string) => `arn:aws:s3:::${name}`;
const functionArn = (handler: FunctionHandler) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${NAME}-${handler}`;
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${NAME}-jobs`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${NAME}-notifications`;
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${NAME}-workflow`;

describe("AwsImagePipeline, default stack", () => {
  let mocks: PulumiMocks;
  let pipeline: AwsImagePipeline;
  const code = new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.validate = async () => ({});") });
  const rolePolicyOf = (role: string): PolicyDocument => JSON.parse(mocks.get(T.rolePolicy, `${role}-policy`).inputs.policy) as PolicyDocument;
  const trustOf = (role: string): TrustPolicyDocument => JSON.parse(mocks.get(T.role, `${role}-role`).inputs.assumeRolePolicy) as TrustPolicyDocument;

  before(async () => {
    mocks = await setupPulumiMocks({ project: "image-pipeline", stack: "dev", region: REGION, accountId: ACCOUNT });
    const config = loadConfig({ tags: { owner: "platform-team" } });
    pipeline = new AwsImagePipeline(NAME, { config, code });
    await mocks.settle();
  });

  describe("inventory", () => {
    it("declares exactly these cloud resources", () => {
      assert.deepEqual(mocks.typeCounts(), {
        // Rules, targets, queues: the upload trigger, the sweep's schedule, erasure on delete; invoke permissions: the sweep, erasure and API Gateway calling the API.
        [T.rule]: 3,
        [T.target]: 3,
        [T.permission]: 3,
        [T.queue]: 2,
        [T.queuePolicy]: 2,
        // Eight functions' and the state machine's, the API's access logs; the reprocess workflow adds a log group, a role with two policies and a state machine.
        [T.logGroup]: 12,
        // The jobs table and the API's rate-limit table.
        [T.table]: 2,
        [T.role]: 12,
        // One per role, the erase function's leave to send its failures to its dead-letter queue, the reprocess role's second.
        [T.rolePolicy]: 14,
        // Six steps, the sweep, erasure and the HTTP API.
        [T.fn]: 9,
        [T.invokeConfig]: 1,
        // Uploads, renditions, and the access-log bucket with their server access logging.
        [T.bucket]: 3,
        [T.lifecycle]: 3,
        [T.notification]: 1,
        [T.ownership]: 3,
        [T.bucketPolicy]: 3,
        [T.publicAccess]: 3,
        [T.encryption]: 3,
        [T.versioning]: 2,
        [T.logging]: 2,
        [T.stateMachine]: 2,
        // Notifications, and the alerts topic with its own key (components/aws/alarms.ts).
        [T.topic]: 2,
        // The workflow's, each step's, the reprocess run's, the job metrics', and erasure's and the sweep's (components/aws/alarms.ts).
        [T.alarm]: 27,
        [T.key]: 1,
        [T.dashboard]: 1,
        // Delivery: CloudFront is on by default on AWS (no base fee).
        [T.distribution]: 1,
        [T.cdnFunction]: 1,
        [T.cachePolicy]: 1,
        [T.responseHeaders]: 1,
        [T.originAccess]: 1,
        // The HTTP API (functions/aws/api.ts): one API, its $default stage, route and Lambda proxy integration.
        [T.httpApi]: 1,
        [T.httpStage]: 1,
        [T.httpRoute]: 1,
        [T.httpIntegration]: 1,
      });
    });

    it("groups them in components under the pipeline, one per concern", () => {
      const components = mocks.resources.filter((r) => !r.custom).map((r) => `${r.type} ${r.name}`);

      assert.deepEqual(components.sort(), [
        `image-pipeline:aws:ImagePipeline ${NAME}`,
        `image-pipeline:aws:AccessLogs ${NAME}-access-logs`,
        `image-pipeline:aws:Alarms ${NAME}-alarms`,
        `image-pipeline:aws:Dashboard ${NAME}-monitoring`,
        `image-pipeline:aws:SecureBucket ${NAME}-access-logs-bucket`,
        `image-pipeline:aws:SecureBucket ${NAME}-renditions`,
        `image-pipeline:aws:ReprocessWorkflow ${NAME}-reprocess`,
        `image-pipeline:aws:SecureBucket ${NAME}-uploads`,
        `image-pipeline:aws:StateMachine ${NAME}-workflow`,
        ...[...STEP_HANDLERS, SWEEP_HANDLER, ERASE_HANDLER].map((h) => `image-pipeline:aws:StepLambda ${NAME}-${h}`),
        `image-pipeline:aws:SweepSchedule ${NAME}-sweep`,
        `image-pipeline:aws:DeleteTrigger ${NAME}-erase`,
        `image-pipeline:aws:UploadTrigger ${NAME}-trigger`,
        `image-pipeline:aws:RenditionsCdn ${NAME}-cdn`,
        `image-pipeline:aws:Api ${NAME}-api`,
      ].sort());
    });

    it("parents every resource to the pipeline or one of its components, and names it after the pipeline", () => {
      const components = new Set(mocks.resources.filter((r) => !r.custom).map((r) => r.type));
      for (const r of mocks.resources.filter((r) => r.type !== "image-pipeline:aws:ImagePipeline")) {
        // The access-log bucket is a SecureBucket of the AccessLogs component.
        const expectedParent = r.custom ? components : new Set(["image-pipeline:aws:ImagePipeline", ...(r.type === "image-pipeline:aws:SecureBucket" ? ["image-pipeline:aws:AccessLogs"] : [])]);
        assert.ok(r.parentType && expectedParent.has(r.parentType), `${r.type} ${r.name} has parent ${r.parentType}`);
        assert.ok(r.name.startsWith(`${NAME}-`), `${r.type} ${r.name} derives its name from the pipeline`);
      }
    });

    it("tags every taggable resource with project, stack, data-classification and the configured tags", () => {
      const taggable = mocks.customResources().filter((r) => isTaggable(r.type));

      assert.equal(taggable.length, 3 + 2 + 2 + 12 + 12 + 9 + 2 + 3 + 2 + 27 + 1 + 2 + 2, "buckets, tables (jobs, the API's rate limits), topics, log groups, roles, functions, state machines (pipeline, reprocess), rules, dead-letter queues, alarms, alerts key, distribution and its function, HTTP API and its stage");
      for (const r of taggable) {
        // The HTTP API alone also carries its auth mode, for the policy pack.
        const extra = r.type === T.httpApi ? { "api-auth": "none" } : {};
        assert.deepEqual(r.inputs.tags, { owner: "platform-team", project: "image-pipeline", stack: "dev", "data-classification": "internal", ...extra }, `${r.type} ${r.name}`);
      }
    });

    it("makes no provider calls except the account lookup for trust-policy conditions", () => {
      assert.deepEqual([...new Set(mocks.calls.map((c) => c.token))], ["aws:index/getCallerIdentity:getCallerIdentity"]);
    });
  });

  describe("storage", () => {
    const forBucket = (type: string, bucket: "uploads" | "renditions", suffix: string): RecordedResource => {
      const found = mocks.get(type, `${NAME}-${bucket}-${suffix}`);
      assert.equal(found.inputs.bucket, `${NAME}-${bucket}`, `${type} configures the ${bucket} bucket`);
      return found;
    };

    it("versions uploads (and the access-log bucket), not renditions", () => {
      assert.deepEqual(forBucket(T.versioning, "uploads", "versioning").inputs.versioningConfiguration, { status: "Enabled" });
      assert.deepEqual(mocks.ofType(T.versioning).map((v) => v.name).sort(), [`${NAME}-access-logs-bucket-versioning`, `${NAME}-uploads-versioning`]);
    });

    it("logs every request to uploads and renditions into the access-log bucket, date-partitioned", () => {
      for (const bucket of ["uploads", "renditions"] as const) {
        const logging = mocks.get(T.logging, `${NAME}-access-logs-${bucket}`);
        assert.equal(logging.inputs.bucket, `${NAME}-${bucket}`);
        assert.equal(logging.inputs.targetBucket, `${NAME}-access-logs-bucket`);
        assert.equal(logging.inputs.targetPrefix, `s3-access/${bucket}/`);
        assert.deepEqual(logging.inputs.targetObjectKeyFormat, { partitionedPrefix: { partitionDateSource: "EventTime" } });
      }
    });

    it("keeps access logs private, TLS-only and SSE-S3 encrypted, writable only by S3 log delivery for these buckets of this account", () => {
      const logs = bucketArn(`${NAME}-access-logs-bucket`);
      const policy = JSON.parse(mocks.get(T.bucketPolicy, `${NAME}-access-logs-bucket-policy`).inputs.policy);

      assert.deepEqual(policy.Statement, [
        { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: ["s3:*"], Resource: [logs, `${logs}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } },
        {
          Sid: "S3ServerAccessLogsDelivery",
          Effect: "Allow",
          Principal: { Service: "logging.s3.amazonaws.com" },
          Action: ["s3:PutObject"],
          Resource: [`${logs}/s3-access/*`],
          Condition: { ArnLike: { "aws:SourceArn": [bucketArn(`${NAME}-uploads`), bucketArn(`${NAME}-renditions`)] }, StringEquals: { "aws:SourceAccount": ACCOUNT } },
        },
      ]);
      assert.deepEqual(mocks.get(T.encryption, `${NAME}-access-logs-bucket-encryption`).inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
      const block = mocks.get(T.publicAccess, `${NAME}-access-logs-bucket-public-access`).inputs;
      assert.deepEqual([block.blockPublicAcls, block.blockPublicPolicy, block.ignorePublicAcls, block.restrictPublicBuckets], [true, true, true, true]);
      assert.equal(mocks.ofType(T.logging).some((l) => l.inputs.bucket === `${NAME}-access-logs-bucket`), false, "the log bucket does not log itself");
    });

    it("expires access logs and their noncurrent versions after retentionDays (30)", () => {
      const rules = mocks.get(T.lifecycle, `${NAME}-access-logs-bucket-lifecycle`).inputs.rules as { id: string; expiration?: unknown; noncurrentVersionExpiration?: unknown }[];

      assert.deepEqual(rules.find((r) => r.id === "expire-current")?.expiration, { days: 30 });
      assert.deepEqual(rules.find((r) => r.id === "expire-noncurrent-versions")?.noncurrentVersionExpiration, { noncurrentDays: 30 });
    });

    it("encrypts both buckets with SSE-S3 by default", () => {
      for (const bucket of ["uploads", "renditions"] as const) {
        assert.deepEqual(forBucket(T.encryption, bucket, "encryption").inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
      }
    });

    it("blocks all public access and disables ACLs on both buckets", () => {
      for (const bucket of ["uploads", "renditions"] as const) {
        const { bucket: _b, ...flags } = forBucket(T.publicAccess, bucket, "public-access").inputs;
        assert.deepEqual(flags, { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        assert.deepEqual(forBucket(T.ownership, bucket, "ownership").inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
      }
    });

    it("denies non-TLS requests on both buckets and their objects", () => {
      for (const bucket of ["uploads", "renditions"] as const) {
        const policy = JSON.parse(forBucket(T.bucketPolicy, bucket, "policy").inputs.policy);
        // The renditions bucket also admits the CDN (tests/components/aws/cdn.test.ts).
        assert.deepEqual(policy.Statement.slice(0, 1), [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: ["s3:*"],
            Resource: [bucketArn(`${NAME}-${bucket}`), `${bucketArn(`${NAME}-${bucket}`)}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ]);
      }
    });

    it("expires uploads' noncurrent versions and incomplete multipart uploads after retentionDays (30)", () => {
      assert.deepEqual(forBucket(T.lifecycle, "uploads", "lifecycle").inputs.rules, [
        { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 30 } },
        { id: "expire-noncurrent-versions", status: "Enabled", filter: { prefix: "" }, noncurrentVersionExpiration: { noncurrentDays: 30 }, expiration: { expiredObjectDeleteMarker: true } },
      ]);
    });

    it("expires intermediates under work/ after 1 day, and moves nothing to infrequent access by default", () => {
      assert.deepEqual(forBucket(T.lifecycle, "renditions", "lifecycle").inputs.rules, [
        { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 30 } },
        { id: "expire-work", status: "Enabled", filter: { prefix: "work/" }, expiration: { days: 1 } },
      ]);
    });

    it("sends the uploads bucket's object events to EventBridge, and only that bucket's", () => {
      assert.equal(forBucket(T.notification, "uploads", "events").inputs.eventbridge, true);
      assert.equal(mocks.ofType(T.notification).length, 1);
    });
  });

  describe("trigger", () => {
    it("matches Object Created events of the uploads bucket", () => {
      const rule = mocks.get(T.rule, `${NAME}-trigger-rule`);

      assert.deepEqual(JSON.parse(rule.inputs.eventPattern), { source: ["aws.s3"], "detail-type": ["Object Created"], detail: { bucket: { name: [`${NAME}-uploads`] } } });
    });

    it("starts the state machine with only the object key, ETag and version id as input", () => {
      const target = mocks.get(T.target, `${NAME}-trigger-target`);

      assert.equal(target.inputs.arn, STATE_MACHINE_ARN);
      assert.equal(target.inputs.rule, `${NAME}-trigger-rule`);
      assert.deepEqual(target.inputs.inputTransformer, {
        inputPaths: { sourceKey: "$.detail.object.key", sourceEtag: "$.detail.object.etag", sourceVersion: "$.detail.object.version-id" },
        inputTemplate: START_INPUT_TEMPLATE,
      });
      const filled = START_INPUT_TEMPLATE.replace("<sourceKey>", JSON.stringify('photos/a "b".jpg')).replace("<sourceEtag>", JSON.stringify("etag1")).replace("<sourceVersion>", JSON.stringify("v1"));
      assert.deepEqual(JSON.parse(filled), { sourceKey: 'photos/a "b".jpg', sourceEtag: "etag1", sourceVersion: "v1" });
    });

    it("keeps events it cannot deliver for 14 days in an encrypted dead-letter queue only its rule may write to", () => {
      const target = mocks.get(T.target, `${NAME}-trigger-target`);
      const queue = mocks.get(T.queue, `${NAME}-trigger-dead-letters`);
      const rule = mocks.get(T.rule, `${NAME}-trigger-rule`);
      const policy = JSON.parse(mocks.get(T.queuePolicy, `${NAME}-trigger-dead-letters-policy`).inputs.policy) as PolicyDocument;

      assert.deepEqual(target.inputs.deadLetterConfig, { arn: queue.state.arn });
      assert.deepEqual(target.inputs.retryPolicy, { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
      assert.equal(queue.inputs.messageRetentionSeconds, 14 * 24 * 3600);
      assert.equal(queue.inputs.sqsManagedSseEnabled, true);
      const [allow, denyPlain] = policy.Statement;
      assert.deepEqual(allow, { Sid: "UploadTriggerDeadLetters", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: ["sqs:SendMessage"], Resource: [queue.state.arn], Condition: { ArnEquals: { "aws:SourceArn": rule.state.arn } } });
      assert.equal(denyPlain?.Effect, "Deny");
      assert.deepEqual(denyPlain?.Condition, { Bool: { "aws:SecureTransport": "false" } });
    });

    it("uses a role EventBridge assumes for this account, allowed only to start this state machine", () => {
      assert.equal(mocks.get(T.target, `${NAME}-trigger-target`).inputs.roleArn, `arn:aws:iam::${ACCOUNT}:role/${NAME}-trigger-role`);
      assert.deepEqual(trustOf(`${NAME}-trigger`).Statement, [
        { Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } },
      ]);
      const policy = rolePolicyOf(`${NAME}-trigger`);
      assert.deepEqual(grants(policy), [`states:StartExecution ${STATE_MACHINE_ARN}`]);
      assertLeastPrivilege(policy, "trigger");
    });
  });

  describe("functions", () => {
    const fn = (handler: FunctionHandler) => mocks.get(T.fn, `${NAME}-${handler}`);

    it("deploys one Lambda per step handler and one for the sweep, each running its named export of the bundle", () => {
      assert.deepEqual(
        mocks.ofType(T.fn).map((f) => [f.inputs.name, f.inputs.handler]),
        [...[...STEP_HANDLERS, SWEEP_HANDLER, ERASE_HANDLER].map((h) => [`${NAME}-${h}`, `index.${h}`]), [`${NAME}-api`, "index.handler"]],
      );
    });

    it("gives the API's role exactly what the app does with this stack's buckets, table and topic", () => {
      const uploads = bucketArn(`${NAME}-uploads`);
      const renditions = bucketArn(`${NAME}-renditions`);
      const logGroupArn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${NAME}-api`;
      const policy = rolePolicyOf(`${NAME}-api`);

      assert.deepEqual(grants(policy), [
        `dynamodb:DeleteItem ${TABLE_ARN}`,
        `dynamodb:GetItem ${TABLE_ARN}`,
        `dynamodb:UpdateItem arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${NAME}-api-rate-limits`,
        `logs:CreateLogStream ${logGroupArn}:*`,
        `logs:PutLogEvents ${logGroupArn}:*`,
        `s3:DeleteObject ${renditions}/users/*`,
        `s3:DeleteObject ${renditions}/work/*`,
        `s3:DeleteObject ${renditions}/work/api/uploads/*`,
        `s3:DeleteObject ${uploads}/users/*`,
        `s3:DeleteObjectVersion ${renditions}/users/*`,
        `s3:DeleteObjectVersion ${renditions}/work/*`,
        `s3:DeleteObjectVersion ${uploads}/users/*`,
        `s3:GetObject ${renditions}/users/*`,
        `s3:GetObject ${renditions}/work/api/uploads/*`,
        `s3:GetObject ${uploads}/users/*`,
        `s3:ListBucket ${renditions}`,
        `s3:ListBucket ${uploads}`,
        `s3:ListBucketVersions ${renditions}`,
        `s3:ListBucketVersions ${uploads}`,
        `s3:PutObject ${renditions}/work/api/uploads/*`,
        `s3:PutObject ${uploads}/users/*`,
        `sns:Publish ${TOPIC_ARN}`,
      ]);
      assertLeastPrivilege(policy, "api");
      assert.deepEqual(trustOf(`${NAME}-api`).Statement.map((s) => s.Principal), [{ Service: "lambda.amazonaws.com" }]);
    });

    it("runs the stuck-job sweep every 5 minutes, small, unreserved, invocable only by its schedule", () => {
      const { inputs } = fn(SWEEP_HANDLER);
      const rule = mocks.get(T.rule, `${NAME}-sweep-rule`);
      const target = mocks.get(T.target, `${NAME}-sweep-target`);
      const permission = mocks.get(T.permission, `${NAME}-sweep-invoke`);

      assert.equal(inputs.memorySize, 256);
      assert.equal(inputs.timeout, 120);
      // A new account's quota of 10 leaves no room to reserve any: nothing is reserved unless reservedConcurrency asks.
      assert.equal(inputs.reservedConcurrentExecutions, undefined);
      // Standard: the 15-minute run timeout plus the 5-minute margin.
      assert.equal(inputs.environment.variables.STUCK_AFTER_SECONDS, "600");
      assert.equal(rule.inputs.scheduleExpression, "rate(5 minutes)");
      assert.equal(target.inputs.rule, rule.state.name ?? `${NAME}-sweep-rule`);
      assert.equal(target.inputs.arn, functionArn(SWEEP_HANDLER));
      assert.deepEqual(
        { principal: permission.inputs.principal, sourceArn: permission.inputs.sourceArn, function: permission.inputs.function, action: permission.inputs.action },
        { principal: "events.amazonaws.com", sourceArn: rule.state.arn, function: `${NAME}-${SWEEP_HANDLER}`, action: "lambda:InvokeFunction" },
      );
    });

    it("erases on each Object Deleted event of the uploads bucket, retried, with failures kept in a dead-letter queue", () => {
      const { inputs } = fn(ERASE_HANDLER);
      const rule = mocks.get(T.rule, `${NAME}-erase-rule`);
      const target = mocks.get(T.target, `${NAME}-erase-target`);
      const permission = mocks.get(T.permission, `${NAME}-erase-invoke`);
      const deadLetters = mocks.get(T.queue, `${NAME}-erase-dead-letters`);
      const invokeConfig = mocks.get(T.invokeConfig, `${NAME}-erase-failures`);
      const failures = JSON.parse(mocks.get(T.rolePolicy, `${NAME}-erase-failures-policy`).inputs.policy) as PolicyDocument;

      assert.equal(inputs.memorySize, 256);
      assert.equal(inputs.timeout, 300);
      assert.deepEqual(JSON.parse(rule.inputs.eventPattern), { source: ["aws.s3"], "detail-type": ["Object Deleted"], detail: { bucket: { name: [`${NAME}-uploads`] } } });
      assert.equal(target.inputs.arn, functionArn(ERASE_HANDLER));
      assert.deepEqual(target.inputs.inputTransformer.inputPaths, {
        sourceKey: "$.detail.object.key",
        sourceEtag: "$.detail.object.etag",
        sourceVersion: "$.detail.object.version-id",
        deletionType: "$.detail.deletion-type",
      });
      assert.deepEqual(target.inputs.retryPolicy, { maximumEventAgeInSeconds: 86_400, maximumRetryAttempts: 185 });
      assert.equal(target.inputs.deadLetterConfig.arn, deadLetters.state.arn);
      assert.deepEqual(
        { principal: permission.inputs.principal, sourceArn: permission.inputs.sourceArn, function: permission.inputs.function },
        { principal: "events.amazonaws.com", sourceArn: rule.state.arn, function: `${NAME}-${ERASE_HANDLER}` },
      );
      assert.deepEqual(
        { functionName: invokeConfig.inputs.functionName, retries: invokeConfig.inputs.maximumRetryAttempts, onFailure: invokeConfig.inputs.destinationConfig.onFailure.destination },
        { functionName: `${NAME}-${ERASE_HANDLER}`, retries: 2, onFailure: deadLetters.state.arn },
      );
      assert.deepEqual(grants(failures), [`sqs:SendMessage ${deadLetters.state.arn}`]);
      assert.equal(deadLetters.inputs.messageRetentionSeconds, 1_209_600);
    });

    it("runs them all from one archive, on Node 24, arm64, with the configured memory and timeout", async () => {
      for (const handler of STEP_HANDLERS) {
        const { inputs } = fn(handler);
        assert.equal(inputs.runtime, "nodejs24.x");
        assert.deepEqual(inputs.architectures, ["arm64"]);
        assert.equal(inputs.memorySize, 1024);
        assert.equal(inputs.timeout, 30);
        assert.ok(inputs.code instanceof pulumi.asset.AssetArchive, `${handler} gets the archive it was given`);
        assert.deepEqual(Object.keys(await inputs.code.assets), ["index.js"]);
      }
    });

    it("passes buckets, prefix, table, topic, processing options and runtime tuning in the environment", () => {
      const config = loadConfig({});
      for (const handler of STEP_HANDLERS) {
        assert.deepEqual(fn(handler).inputs.environment, {
          variables: {
            UPLOADS_BUCKET: `${NAME}-uploads`,
            RENDITIONS_BUCKET: `${NAME}-renditions`,
            WORK_PREFIX: "work/",
            JOBS_TABLE: `${NAME}-jobs`,
            TOPIC_ARN: TOPIC_ARN,
            PIPELINE_OPTIONS: JSON.stringify(config.processing),
            JOB_RETENTION_DAYS: "30",
            MALLOC_ARENA_MAX: "2",
            NODE_OPTIONS: "--enable-source-maps",
            POWERTOOLS_SERVICE_NAME: NAME,
          },
        });
      }
    });

    it("logs each function as JSON into its own /aws/lambda/<name> group kept logRetentionDays (14)", () => {
      for (const handler of STEP_HANDLERS) {
        const logGroup = mocks.get(T.logGroup, `${NAME}-${handler}-logs`);
        assert.equal(logGroup.inputs.name, `/aws/lambda/${NAME}-${handler}`);
        assert.equal(logGroup.inputs.retentionInDays, 14);
        assert.deepEqual(fn(handler).inputs.loggingConfig, { logFormat: "JSON", logGroup: `/aws/lambda/${NAME}-${handler}`, applicationLogLevel: "INFO", systemLogLevel: "WARN" });
      }
    });

    it("traces with X-Ray, reserves no concurrency, and stays out of any VPC by default", () => {
      for (const handler of STEP_HANDLERS) {
        const { inputs } = fn(handler);
        assert.deepEqual(inputs.tracingConfig, { mode: "Active" });
        assert.equal(inputs.reservedConcurrentExecutions, undefined);
        assert.equal(inputs.vpcConfig, undefined);
        assert.equal(inputs.kmsKeyArn, undefined);
      }
    });

    it("gives each function its own role, assumable by Lambda only", () => {
      for (const handler of STEP_HANDLERS) {
        assert.equal(fn(handler).inputs.role, `arn:aws:iam::${ACCOUNT}:role/${NAME}-${handler}-role`);
        assert.deepEqual(trustOf(`${NAME}-${handler}`).Statement, [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }]);
        assert.equal(mocks.get(T.rolePolicy, `${NAME}-${handler}-policy`).inputs.role, `${NAME}-${handler}-role`);
      }
    });

    it("lets each function touch only its own prefixes, table and topic, and write its own logs", () => {
      const uploads = bucketArn(`${NAME}-uploads`);
      const renditions = bucketArn(`${NAME}-renditions`);
      // Erasure: check the upload, read the manifest, delete renditions and work objects and job records (never an upload).
      const erase = [`dynamodb:DeleteItem ${TABLE_ARN}`, `s3:DeleteObject ${renditions}/*`, `s3:GetObject ${renditions}/*`, `s3:GetObject ${uploads}/*`, `s3:ListBucket ${renditions}`, `s3:ListBucket ${uploads}`];
      const expected: Record<FunctionHandler, string[]> = {
        validate: [`dynamodb:GetItem ${TABLE_ARN}`, `dynamodb:PutItem ${TABLE_ARN}`, `s3:GetObject ${uploads}/*`, `s3:GetObjectVersion ${uploads}/*`, `s3:ListBucket ${uploads}`],
        resize: [`s3:GetObject ${uploads}/*`, `s3:GetObjectVersion ${uploads}/*`, `s3:ListBucket ${uploads}`, `s3:PutObject ${renditions}/*`],
        applyFilters: [`s3:GetObject ${uploads}/*`, `s3:GetObjectVersion ${uploads}/*`, `s3:ListBucket ${uploads}`, `s3:PutObject ${renditions}/*`],
        // Optimize also clears the keys of files it left out (#14.7), and HEADs the upload before the manifest (a newer upload supersedes the job).
        optimize: [`s3:DeleteObject ${renditions}/*`, `s3:GetObject ${uploads}/*`, `s3:ListBucket ${renditions}`, `s3:ListBucket ${uploads}`, `s3:PutObject ${renditions}/*`],
        notifySuccess: [...erase, `dynamodb:GetItem ${TABLE_ARN}`, `dynamodb:PutItem ${TABLE_ARN}`, `dynamodb:UpdateItem ${TABLE_ARN}`, `sns:Publish ${TOPIC_ARN}`],
        notifyError: [...erase, `dynamodb:GetItem ${TABLE_ARN}`, `dynamodb:PutItem ${TABLE_ARN}`, `dynamodb:UpdateItem ${TABLE_ARN}`, `sns:Publish ${TOPIC_ARN}`],
        sweepStuckJobs: [...erase, `dynamodb:GetItem ${TABLE_ARN}`, `dynamodb:Query ${TABLE_ARN}/index/open-jobs`, `dynamodb:UpdateItem ${TABLE_ARN}`, `sns:Publish ${TOPIC_ARN}`],
        eraseUpload: [...erase, `dynamodb:GetItem ${TABLE_ARN}`, `sns:Publish ${TOPIC_ARN}`],
      };
      for (const handler of [...STEP_HANDLERS, SWEEP_HANDLER, ERASE_HANDLER] as FunctionHandler[]) {
        const policy = rolePolicyOf(`${NAME}-${handler}`);
        const logGroupArn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${NAME}-${handler}`;
        const logs = [`logs:CreateLogStream ${logGroupArn}:*`, `logs:PutLogEvents ${logGroupArn}:*`];
        assert.deepEqual(grants(policy), [...expected[handler], ...logs].sort(), handler);
        assertLeastPrivilege(policy, handler);
      }
      for (const writer of ["resize", "applyFilters", "optimize"]) assert.deepEqual(grants(rolePolicyOf(`${NAME}-${writer}`), "Deny"), [`s3:PutObject ${renditions}/work/*`], writer);
    });
  });

  describe("state machine", () => {
    const machine = () => mocks.get(T.stateMachine, `${NAME}-workflow`);
    const asl = (): AslStateMachine => JSON.parse(machine().inputs.definition) as AslStateMachine;

    it("is an Express workflow logging errors (without execution data) to its own log group, traced", () => {
      const logGroup = mocks.get(T.logGroup, `${NAME}-workflow-logs`);
      const { inputs } = machine();

      assert.equal(inputs.type, "EXPRESS");
      assert.equal(logGroup.inputs.name, `/aws/vendedlogs/states/${NAME}-workflow`);
      assert.equal(logGroup.inputs.retentionInDays, 14);
      assert.deepEqual(inputs.loggingConfiguration, {
        logDestination: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/vendedlogs/states/${NAME}-workflow:*`,
        level: "ERROR",
        includeExecutionData: false,
      });
      assert.deepEqual(inputs.tracingConfiguration, { enabled: true });
    });

    it("runs a valid ASL definition", () => {
      const result = aslValidator(asl());

      assert.ok(result.isValid, result.errorsText("\n"));
    });

    it("calls exactly the deployed functions, each from the state of its handler", () => {
      const apiArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${NAME}-api`;
      const deployed = mocks.ofType(T.fn).map((f) => f.state.arn as string).filter((arn) => arn !== functionArn(SWEEP_HANDLER) && arn !== functionArn(ERASE_HANDLER) && arn !== apiArn);
      const tasks = aslTaskStates(asl());

      assert.deepEqual([...new Set(tasks.map((t) => t.state.Resource))].sort(), [...deployed].sort());
      assert.deepEqual(
        tasks.map((t) => [t.name, t.state.Resource]),
        taskSteps(workflow).map((step) => [step.name, functionArn(step.handler)]),
      );
    });

    it("retries every Task and catches into NotifyError (through a state naming the failed step), with task timeouts just over the functions' own", () => {
      for (const { name, state, inBranch } of aslTaskStates(asl())) {
        assert.ok(state.Retry[0]?.ErrorEquals.includes("TransientError"), `${name} retries transient errors`);
        assert.equal(state.TimeoutSeconds, 40, `${name} times out after the function's 30 s plus a margin`);
        if (!inBranch) assert.equal(state.Catch?.[0]?.ErrorEquals[0], "States.ALL", `${name} catches`);
      }
      const parallel = asl().States.Process;
      assert.ok(parallel?.Type === "Parallel");
      assert.deepEqual(parallel.Catch, [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ProcessFailed" }]);
    });

    it("has a role Step Functions assumes for this account, allowed to invoke only its six functions", () => {
      const policy = rolePolicyOf(`${NAME}-workflow`);

      assert.equal(machine().inputs.roleArn, `arn:aws:iam::${ACCOUNT}:role/${NAME}-workflow-role`);
      assert.deepEqual(trustOf(`${NAME}-workflow`).Statement[0]?.Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT } });
      assert.deepEqual(grants(policy), STEP_HANDLERS.map((h) => `lambda:InvokeFunction ${functionArn(h)}`).sort());
      assertLeastPrivilege(policy, "state machine");
    });
  });

  describe("job store and notifications", () => {
    it("keeps jobs in an on-demand table keyed by jobId, with point-in-time recovery, encryption and TTL on expiresAt", () => {
      const { inputs } = mocks.get(T.table, `${NAME}-jobs`);

      assert.equal(inputs.billingMode, "PAY_PER_REQUEST");
      assert.equal(inputs.hashKey, "jobId");
      assert.deepEqual(inputs.attributes, ["jobId", "openShard", "createdAt"].map((name) => ({ name, type: "S" })));
      // The sparse index the stuck-job sweep reads: only jobs not yet announced carry openShard; keys only, so a finish writes nothing to it.
      assert.deepEqual(inputs.globalSecondaryIndexes, [
        {
          name: "open-jobs",
          keySchemas: [
            { attributeName: "openShard", keyType: "HASH" },
            { attributeName: "createdAt", keyType: "RANGE" },
          ],
          projectionType: "KEYS_ONLY",
        },
      ]);
      assert.deepEqual(inputs.pointInTimeRecovery, { enabled: true });
      assert.equal(inputs.deletionProtectionEnabled, true);
      assert.deepEqual(inputs.serverSideEncryption, { enabled: true });
      assert.deepEqual(inputs.ttl, { attributeName: "expiresAt", enabled: true });
    });

    it("protects the uploads and renditions buckets and the jobs table from pulumi destroy by default (protectData)", () => {
      // Pulumi keeps the resource option on the resource object; the engine refuses to delete such resources.
      const protectedOnes = pipeline.dataResources.map((r) => [(r as unknown as { __name?: string }).__name, (r as unknown as { __protect?: boolean }).__protect]);

      assert.deepEqual(protectedOnes, [[`${NAME}-uploads`, true], [`${NAME}-renditions`, true], [`${NAME}-jobs`, true]]);
    });

    it("encrypts the topic with the AWS-managed SNS key and subscribes no one by default", () => {
      assert.equal(mocks.get(T.topic, `${NAME}-notifications`).inputs.kmsMasterKeyId, "alias/aws/sns");
      assert.equal(mocks.ofType(T.subscription).length, 0);
    });
  });

  describe("outputs", () => {
    it("exposes the seven cloud-neutral outputs index.ts exports", async () => {
      assert.equal(await outputValue(pipeline.uploadsStore), `${NAME}-uploads`);
      assert.equal(await outputValue(pipeline.renditionsStore), `${NAME}-renditions`);
      assert.equal(await outputValue(pipeline.workflowId), STATE_MACHINE_ARN);
      assert.equal(await outputValue(pipeline.jobsTable), `${NAME}-jobs`);
      assert.equal(await outputValue(pipeline.notificationsTopic), TOPIC_ARN);
      assert.equal(await outputValue(pipeline.uploadCommand), `aws s3 cp <image-file> s3://${NAME}-uploads/ --region ${REGION}`);
      assert.equal(await outputValue(pipeline.deadLetters), mocks.get(T.queue, `${NAME}-trigger-dead-letters`).state.url);
    });

    it("names the reprocess state machine as the reprocess starter", async () => {
      assert.equal(await outputValue(pipeline.reprocessStarter), `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${NAME}-reprocess`);
    });

    it("exposes the AWS names too", async () => {
      assert.equal(await outputValue(pipeline.uploadsBucket), `${NAME}-uploads`);
      assert.equal(await outputValue(pipeline.renditionsBucket), `${NAME}-renditions`);
      assert.equal(await outputValue(pipeline.stateMachineArn), STATE_MACHINE_ARN);
      assert.equal(await outputValue(pipeline.tableName), `${NAME}-jobs`);
      assert.equal(await outputValue(pipeline.topicArn), TOPIC_ARN);
      assert.equal(await outputValue(pipeline.functionArns.optimize), functionArn("optimize"));
      assert.equal(pipeline.vpcId, undefined);
    });
  });
});
