import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ACCESS_LOG_FORMAT, apiFunctionPolicy, PipelineApi, uploadsCorsRules } from "../../../components/aws/api";
import { AwsImagePipeline } from "../../../components/aws/imagePipeline";
import { loadConfig } from "../../../components/config";
import { outputValue, setupPulumiMocks, type PulumiMocks } from "../../helpers/pulumiMocks";

const T = {
  fn: "aws:lambda/function:Function",
  api: "aws:apigatewayv2/api:Api",
  integration: "aws:apigatewayv2/integration:Integration",
  route: "aws:apigatewayv2/route:Route",
  stage: "aws:apigatewayv2/stage:Stage",
  permission: "aws:lambda/permission:Permission",
  cors: "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  distribution: "aws:cloudfront/distribution:Distribution",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  table: "aws:dynamodb/table:Table",
} as const;
const TAGS = { project: "image-pipeline", stack: "dev", "data-classification": "internal" };
/** What API Gateway computes for an HTTP API (the mock engine computes nothing). */
const HTTP_API_OUTPUTS = {
  "aws:apigatewayv2/api:Api": (args: { name: string }) => ({ apiEndpoint: `https://${args.name}.execute-api.eu-west-1.amazonaws.com`, executionArn: `arn:aws:execute-api:eu-west-1:123456789012:${args.name}` }),
};
const code = () => new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler = async () => ({ statusCode: 200 });") });

describe("the API function's permissions", () => {
  it("presign, read, erase under the users' prefix, keep tickets under the work prefix, read and delete job records, count requests, nothing else", () => {
    assert.deepEqual(
      apiFunctionPolicy({
        uploadsBucketArn: "arn:aws:s3:::ip-uploads",
        renditionsBucketArn: "arn:aws:s3:::ip-renditions",
        workPrefix: "work/",
        tableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/ip-jobs",
        rateLimitTableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/ip-api-rate-limits",
        topicArn: "arn:aws:sns:eu-west-1:123456789012:ip-notifications",
        logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/ip-api",
        userPrefix: "users/",
        ticketPrefix: "api/uploads/",
      }),
      {
        Version: "2012-10-17",
        Statement: [
          { Sid: "PresignUploads", Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::ip-uploads/users/*"] },
          { Sid: "ReadRenditions", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::ip-renditions/users/*"] },
          { Sid: "ReadUploads", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::ip-uploads/users/*"] },
          { Sid: "KeepTickets", Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], Resource: ["arn:aws:s3:::ip-renditions/work/api/uploads/*"] },
          {
            Sid: "ListForErasure",
            Effect: "Allow",
            Action: ["s3:ListBucket", "s3:ListBucketVersions"],
            Resource: ["arn:aws:s3:::ip-uploads", "arn:aws:s3:::ip-renditions"],
            Condition: { StringLike: { "s3:prefix": ["users/*", "work/*"] } },
          },
          {
            Sid: "EraseObjects",
            Effect: "Allow",
            Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            Resource: ["arn:aws:s3:::ip-uploads/users/*", "arn:aws:s3:::ip-renditions/users/*", "arn:aws:s3:::ip-renditions/work/*"],
          },
          { Sid: "ReadAndEraseJobs", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:DeleteItem"], Resource: ["arn:aws:dynamodb:eu-west-1:123456789012:table/ip-jobs"] },
          { Sid: "CountRequests", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: ["arn:aws:dynamodb:eu-west-1:123456789012:table/ip-api-rate-limits"] },
          { Sid: "AnnounceErasure", Effect: "Allow", Action: ["sns:Publish"], Resource: ["arn:aws:sns:eu-west-1:123456789012:ip-notifications"] },
          { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/ip-api:*"] },
          { Sid: "WriteTraces", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: ["*"] },
        ],
      },
    );
  });

  it("may use the stack's KMS key when there is one", () => {
    const key = "arn:aws:kms:eu-west-1:123456789012:key/abcd";
    const policy = apiFunctionPolicy({ uploadsBucketArn: "u", renditionsBucketArn: "r", workPrefix: "work/", tableArn: "t", rateLimitTableArn: "c", topicArn: "s", logGroupArn: "l", userPrefix: "users/", ticketPrefix: "api/uploads/", kmsKeyArn: key });
    assert.deepEqual(policy.Statement.at(-1), { Sid: "UseDataKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [key] });
  });
});

describe("the uploads bucket's CORS rule", () => {
  it("lets the listed origins POST and PUT and read the ETag", () => {
    assert.deepEqual(uploadsCorsRules(["https://gallery.example.com"]), [
      { id: "browser-uploads", allowedMethods: ["POST", "PUT"], allowedOrigins: ["https://gallery.example.com"], allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 3600 },
    ]);
  });
});

describe("PipelineApi", () => {
  let mocks: PulumiMocks;
  let api: PipelineApi;

  before(async () => {
    mocks = await setupPulumiMocks({ stack: "dev", outputs: HTTP_API_OUTPUTS });
    const common = {
      code: code(),
      architecture: "arm64" as const,
      environment: { UPLOADS_BUCKET: "ip-uploads" },
      uploadsBucketArn: "arn:aws:s3:::ip-uploads",
      uploadsBucketName: "ip-uploads",
      renditionsBucketArn: "arn:aws:s3:::ip-renditions",
      workPrefix: "work/",
      tableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/ip-jobs",
      topicArn: "arn:aws:sns:eu-west-1:123456789012:ip-notifications",
      rateLimit: 20,
      burstLimit: 40,
      logRetentionDays: 14,
      tags: TAGS,
    };
    api = new PipelineApi("ip-api", { ...common, functionName: "ip-api", corsOrigins: ["https://gallery.example.com"], auth: "jwt" });
    new PipelineApi("nb-api", { ...common, functionName: "nb-api", corsOrigins: [], auth: "none" });
    await mocks.settle();
  });

  it("runs the app's handler on arm64 and the steps' runtime, traced, logging JSON to its own group", () => {
    const fn = mocks.get(T.fn, "ip-api").inputs;
    assert.deepEqual([fn.handler, fn.runtime, fn.architectures, fn.memorySize, fn.timeout], ["index.handler", "nodejs24.x", ["arm64"], 512, 29]);
    assert.deepEqual(fn.tracingConfig, { mode: "Active" });
    assert.equal(fn.loggingConfig.logGroup, "/aws/lambda/ip-api");
    assert.equal(mocks.get(T.logGroup, "ip-api-logs").inputs.retentionInDays, 14);
  });

  it("fronts it with an HTTP API whose CORS admits the configured origins", () => {
    const http = mocks.get(T.api, "ip-api-http").inputs;
    assert.equal(http.protocolType, "HTTP");
    assert.deepEqual(http.corsConfiguration, { allowOrigins: ["https://gallery.example.com"], allowMethods: ["GET", "POST", "DELETE"], allowHeaders: ["authorization", "content-type"], maxAge: 3600 });
    assert.equal(mocks.get(T.api, "nb-api-http").inputs.corsConfiguration, undefined);
  });

  it("proxies every route to the function with payload format 2.0", () => {
    const integration = mocks.get(T.integration, "ip-api-integration").inputs;
    assert.deepEqual([integration.integrationType, integration.payloadFormatVersion, integration.integrationMethod, integration.timeoutMilliseconds], ["AWS_PROXY", "2.0", "POST", 29000]);
    assert.equal(integration.integrationUri, mocks.get(T.fn, "ip-api").state.invokeArn);
    const route = mocks.get(T.route, "ip-api-route").inputs;
    assert.deepEqual([route.routeKey, route.target], ["$default", `integrations/${mocks.get(T.integration, "ip-api-integration").id}`]);
  });

  it("throttles the stage at the configured rate and burst and logs every request as JSON", () => {
    const stage = mocks.get(T.stage, "ip-api-stage").inputs;
    assert.deepEqual([stage.name, stage.autoDeploy], ["$default", true]);
    assert.deepEqual(stage.defaultRouteSettings, { throttlingRateLimit: 20, throttlingBurstLimit: 40, detailedMetricsEnabled: true });
    assert.equal(stage.accessLogSettings.destinationArn, mocks.get(T.logGroup, "ip-api-access-logs").state.arn);
    assert.deepEqual(JSON.parse(stage.accessLogSettings.format), ACCESS_LOG_FORMAT);
    assert.deepEqual([mocks.get(T.logGroup, "ip-api-access-logs").inputs.name, mocks.get(T.logGroup, "ip-api-access-logs").inputs.retentionInDays], ["/aws/apigateway/ip-api", 14]);
  });

  it("lets only this API invoke the function", () => {
    const permission = mocks.get(T.permission, "ip-api-invoke").inputs;
    assert.deepEqual([permission.action, permission.principal, permission.function], ["lambda:InvokeFunction", "apigateway.amazonaws.com", "ip-api"]);
    assert.equal(permission.sourceArn, "arn:aws:execute-api:eu-west-1:123456789012:ip-api-http/*/*");
  });

  it("puts the CORS rule on the uploads bucket only when origins are configured", () => {
    assert.deepEqual(mocks.get(T.cors, "ip-api-uploads-cors").inputs.corsRules, uploadsCorsRules(["https://gallery.example.com"]));
    assert.equal(mocks.ofType(T.cors).filter((r) => r.name.startsWith("nb-api")).length, 0);
  });

  it("tags the HTTP API, and only it, with the auth mode, for the policy pack", () => {
    assert.deepEqual(mocks.get(T.api, "ip-api-http").inputs.tags, { ...TAGS, "api-auth": "jwt" });
    assert.deepEqual(mocks.get(T.api, "nb-api-http").inputs.tags, { ...TAGS, "api-auth": "none" });
    assert.deepEqual(mocks.get(T.fn, "nb-api").inputs.tags, TAGS);
    assert.deepEqual(mocks.get(T.stage, "nb-api-stage").inputs.tags, TAGS);
  });

  it("scopes its role policy to the users' prefix, and its tickets to the app's ticket prefix (functions/api/uploads.ts)", () => {
    const policy = JSON.parse(mocks.get(T.rolePolicy, "ip-api-policy").inputs.policy);
    assert.deepEqual(policy.Statement[0], { Sid: "PresignUploads", Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::ip-uploads/users/*"] });
    const bySid = (sid: string) => policy.Statement.find((s: { Sid: string }) => s.Sid === sid);
    assert.deepEqual(bySid("ReadUploads").Resource, ["arn:aws:s3:::ip-uploads/users/*"]);
    assert.deepEqual(bySid("KeepTickets").Resource, ["arn:aws:s3:::ip-renditions/work/api/uploads/*"]);
  });

  it("counts requests in an on-demand table with a TTL, encryption and point-in-time recovery, named in the function's environment", async () => {
    const table = mocks.get(T.table, "ip-api-rate-limits");
    assert.equal(table.inputs.billingMode, "PAY_PER_REQUEST");
    assert.equal(table.inputs.hashKey, "counterId");
    assert.deepEqual(table.inputs.attributes, [{ name: "counterId", type: "S" }]);
    assert.deepEqual(table.inputs.ttl, { attributeName: "expiresAt", enabled: true });
    assert.deepEqual(table.inputs.serverSideEncryption, { enabled: true });
    assert.deepEqual(table.inputs.pointInTimeRecovery, { enabled: true });
    assert.deepEqual(table.inputs.tags, TAGS);
    const variables = (await outputValue(mocks.get(T.fn, "ip-api").inputs.environment)) as { variables: Record<string, string> };
    assert.equal(variables.variables.RATE_LIMIT_TABLE, table.state.name);
    assert.equal(variables.variables.UPLOADS_BUCKET, "ip-uploads");
  });

  it("lets the API role only UpdateItem the rate-limit table, and nothing else of it", () => {
    const policy = JSON.parse(mocks.get(T.rolePolicy, "ip-api-policy").inputs.policy) as { Statement: Array<{ Sid: string; Action: string[]; Resource: string[] }> };
    const onCounters = policy.Statement.filter((s) => s.Resource.includes(mocks.get(T.table, "ip-api-rate-limits").state.arn));
    assert.deepEqual(onCounters.map((s) => [s.Sid, s.Action]), [["CountRequests", ["dynamodb:UpdateItem"]]]);
  });

  it("outputs the API's URL", async () => {
    assert.equal(await outputValue(api.url), "https://ip-api-http.execute-api.eu-west-1.amazonaws.com");
  });
});

describe("AwsImagePipeline with its API and without a CDN", function () {
  this.timeout(120_000);
  let mocks: PulumiMocks;
  let pipeline: AwsImagePipeline;

  before(async () => {
    mocks = await setupPulumiMocks({ stack: "dev", outputs: HTTP_API_OUTPUTS });
    const config = loadConfig({ delivery: { cdn: false, corsOrigins: ["https://gallery.example.com"] } });
    pipeline = new AwsImagePipeline("pl", { config, code: code(), apiCode: code() });
    new AwsImagePipeline("np", { config, code: code(), apiEntry: "tests/fixtures/no-such-api-entry.ts" });
    // x86_64: the bundle takes this machine's own sharp binaries, nothing is fetched.
    new AwsImagePipeline("fx", { config: loadConfig({ architecture: "x86_64", delivery: { cdn: false } }), code: code(), apiEntry: "tests/fixtures/api/placeholderApi.ts" });
    await mocks.settle();
  });

  it("deploys the API with the pipeline's buckets, table and the settings the app reads", () => {
    const fn = mocks.get(T.fn, "pl-api").inputs;
    assert.equal(fn.environment.variables.UPLOADS_BUCKET, "pl-uploads");
    assert.equal(fn.environment.variables.RENDITIONS_BUCKET, "pl-renditions");
    assert.equal(fn.environment.variables.DELIVERY_BASE_URL, "", "no CDN: the reader takes empty as unset, and the API signs S3 URLs");
    assert.equal(JSON.parse(fn.environment.variables.API_SETTINGS).auth, "none");
    // The upload prefix is fixed in the app's contract (functions/api/uploads.ts), the CDN base is DELIVERY_BASE_URL.
    assert.equal(fn.environment.variables.UPLOAD_PREFIX, undefined);
    assert.equal(fn.environment.variables.RENDITIONS_URL, undefined);
    assert.equal(mocks.get(T.api, "pl-api-http").inputs.tags["api-auth"], "none");
  });

  it("declares no distribution and keeps the renditions bucket policy TLS-only", () => {
    assert.equal(mocks.ofType(T.distribution).length, 0);
    const policy = JSON.parse(mocks.get(T.bucketPolicy, "pl-renditions-policy").inputs.policy);
    assert.deepEqual(policy.Statement.map((s: { Sid: string }) => s.Sid), ["DenyInsecureTransport"]);
  });

  it("outputs the API URL, and no renditions URL", async () => {
    assert.equal(await outputValue(pipeline.apiUrl), "https://pl-api-http.execute-api.eu-west-1.amazonaws.com");
    assert.equal(await outputValue(pipeline.renditionsUrl), "");
  });

  it("bundles the API from its entry when no code is given (a placeholder entry here)", async function () {
    this.timeout(120_000);
    const code = (await outputValue(mocks.get(T.fn, "fx-api").inputs.code)) as { path?: unknown };
    assert.match(String(await code.path), /placeholderApi-x64\.zip$/);
    assert.equal(mocks.get(T.fn, "fx-api").inputs.handler, "index.handler");
  });

  it("deploys no API while its entry file does not exist", () => {
    assert.equal(mocks.ofType(T.api).filter((r) => r.name.startsWith("np-")).length, 0);
    assert.equal(mocks.ofType(T.fn).filter((r) => r.name === "np-api").length, 0);
  });
});
