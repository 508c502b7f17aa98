import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LAMBDA_ENV, RATE_LIMIT_TABLE_KEY, RATE_LIMIT_TABLE_TTL_ATTRIBUTE } from "../../functions/aws/contract";
import { assumeRolePolicy, UNSCOPED_ACTIONS, type PolicyDocument, type PolicyStatement } from "./iam";
import { LAMBDA_RUNTIME } from "./stepLambda";

/**
 * The HTTP API on AWS: one Lambda (the app's `handler`, functions/aws/api.ts) behind an
 * API Gateway HTTP API (payload v2) with stage throttling (every caller together: the backstop)
 * and JSON access logs, a DynamoDB table where the app counts each caller's requests (its
 * per-caller limits), a role that may only presign uploads and read renditions under the users'
 * prefix, erase them, read or remove job records and count requests, and the uploads bucket's
 * CORS rule for browser POST uploads.
 */

/** Where the API puts users' uploads (`users/<user>/...`); renditions follow the upload key (functions/steps/keys.ts). */
export const API_UPLOAD_PREFIX = "users/";
/** Where the API keeps its upload tickets inside the work prefix: functions/api/uploads.ts TICKET_PREFIX. */
export const API_TICKET_PREFIX = "api/uploads/";
/** The export the bundle's `index.js` exposes for Lambda. */
export const API_HANDLER = "handler";
/** API Gateway waits at most 30 s for an HTTP API integration: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html */
export const API_TIMEOUT_SECONDS = 29;
export const API_MEMORY_MB = 512;

export interface ApiPolicyRefs {
  uploadsBucketArn: string;
  renditionsBucketArn: string;
  /** Intermediates' prefix in the renditions bucket (`work/`): erasure removes a job's work objects too. */
  workPrefix: string;
  tableArn: string;
  /** The table of per-caller request counts (functions/aws/rateLimitStore.ts). */
  rateLimitTableArn: string;
  topicArn: string;
  logGroupArn: string;
  kmsKeyArn?: string;
  /** Users' prefix, e.g. `users/`. */
  userPrefix: string;
  /** Where the API keeps its upload tickets inside the work prefix, e.g. `api/uploads/` (functions/api/uploads.ts TICKET_PREFIX). */
  ticketPrefix: string;
}

/**
 * The API function's permissions:
 * - presign uploads: s3:PutObject under the users' prefix (a presigned request is authorized as the principal
 *   that signed it: https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html);
 * - signed rendition URLs when there is no CDN, and manifests: s3:GetObject under the users' prefix of renditions;
 * - job status and erasure: read the upload's metadata (HEAD of the current version needs s3:GetObject only,
 *   s3:GetObjectVersion only with a versionId, which the API never sends: https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html);
 * - upload tickets: write, read and remove them under the work prefix's ticket prefix;
 * - erasure (DELETE): list and delete every version under the users' prefix of both buckets, and the work prefix
 *   (listing versions needs s3:ListBucketVersions: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html);
 * - job status and erasure: read and delete job records; announce `image.deleted`;
 * - per-caller limits: dynamodb:UpdateItem on the rate-limit table only (each count, and the store's
 *   decrement and reset, is one UpdateItem: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html);
 * - its own logs and traces; the stack's KMS key when configured.
 */
export function apiFunctionPolicy(refs: ApiPolicyRefs): PolicyDocument {
  const { uploadsBucketArn, renditionsBucketArn, workPrefix, tableArn, rateLimitTableArn, topicArn, logGroupArn, kmsKeyArn, userPrefix, ticketPrefix } = refs;
  const statements: PolicyStatement[] = [];
  const allow = (Sid: string, Action: string[], Resource: string[], Condition?: PolicyStatement["Condition"]) =>
    statements.push({ Sid, Effect: "Allow", Action, Resource, ...(Condition ? { Condition } : {}) });
  const userUploads = `${uploadsBucketArn}/${userPrefix}*`;
  const userRenditions = `${renditionsBucketArn}/${userPrefix}*`;
  const work = `${renditionsBucketArn}/${workPrefix}*`;

  allow("PresignUploads", ["s3:PutObject"], [userUploads]);
  allow("ReadRenditions", ["s3:GetObject"], [userRenditions]);
  allow("ReadUploads", ["s3:GetObject"], [userUploads]);
  allow("KeepTickets", ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], [`${renditionsBucketArn}/${workPrefix}${ticketPrefix}*`]);
  allow("ListForErasure", ["s3:ListBucket", "s3:ListBucketVersions"], [uploadsBucketArn, renditionsBucketArn], { StringLike: { "s3:prefix": [`${userPrefix}*`, `${workPrefix}*`] } });
  allow("EraseObjects", ["s3:DeleteObject", "s3:DeleteObjectVersion"], [userUploads, userRenditions, work]);
  allow("ReadAndEraseJobs", ["dynamodb:GetItem", "dynamodb:DeleteItem"], [tableArn]);
  allow("CountRequests", ["dynamodb:UpdateItem"], [rateLimitTableArn]);
  allow("AnnounceErasure", ["sns:Publish"], [topicArn]);
  allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${logGroupArn}:*`]);
  allow("WriteTraces", [...UNSCOPED_ACTIONS.xray.slice(0, 2)], ["*"]);
  if (kmsKeyArn) allow("UseDataKey", ["kms:Decrypt", "kms:GenerateDataKey"], [kmsKeyArn]);
  return { Version: "2012-10-17", Statement: statements };
}

/** The uploads bucket's CORS rules: browsers on these origins may POST (presigned POST) or PUT straight to S3. */
export function uploadsCorsRules(origins: readonly string[]): aws.types.input.s3.BucketCorsConfigurationCorsRule[] {
  return [{ id: "browser-uploads", allowedMethods: ["POST", "PUT"], allowedOrigins: [...origins], allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 3600 }];
}

export interface PipelineApiArgs {
  /** The bundle holding `index.handler` (the API entry, functions/aws/api.ts). */
  code: pulumi.Input<pulumi.asset.Archive>;
  /** Physical function name, known up front so the log group can be `/aws/lambda/<name>`. */
  functionName: string;
  architecture: "arm64" | "x86_64";
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  uploadsBucketArn: pulumi.Input<string>;
  uploadsBucketName: pulumi.Input<string>;
  renditionsBucketArn: pulumi.Input<string>;
  workPrefix: string;
  tableArn: pulumi.Input<string>;
  topicArn: pulumi.Input<string>;
  kmsKeyArn?: pulumi.Input<string>;
  /** Browser origins for the API's and the uploads bucket's CORS; none = no browser access. */
  corsOrigins: readonly string[];
  /** Stage throttling: steady requests per second and burst. */
  rateLimit: number;
  burstLimit: number;
  logRetentionDays: number;
  /** "none" or "jwt": tagged as `api-auth` so the policy pack can refuse "none" in production. */
  auth: "none" | "jwt";
  tags: Record<string, pulumi.Input<string>>;
  region?: pulumi.Input<string>;
}

export class PipelineApi extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly api: aws.apigatewayv2.Api;
  /** Per-caller request counts, one item per caller and window, expired by TTL. */
  readonly rateLimitTable: aws.dynamodb.Table;
  /** The API's base URL (the `$default` stage). */
  readonly url: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;

  constructor(name: string, args: PipelineApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:Api", name, {}, opts);
    const { code, functionName, architecture, environment, uploadsBucketArn, uploadsBucketName, renditionsBucketArn, workPrefix, tableArn, topicArn, kmsKeyArn } = args;
    const { corsOrigins, rateLimit, burstLimit, logRetentionDays, auth, region } = args;
    const regional = region ? { region } : {};
    const { tags } = args;
    const parent = { parent: this };
    const encrypted = kmsKeyArn ? { kmsKeyId: kmsKeyArn } : {};

    // On-demand: a few bytes per caller and minute, paid per request. TTL deletes windows gone by
    // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html); point-in-time recovery as the pack asks of every table.
    this.rateLimitTable = new aws.dynamodb.Table(
      `${name}-rate-limits`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: RATE_LIMIT_TABLE_KEY,
        attributes: [{ name: RATE_LIMIT_TABLE_KEY, type: "S" }],
        ttl: { attributeName: RATE_LIMIT_TABLE_TTL_ATTRIBUTE, enabled: true },
        serverSideEncryption: { enabled: true, ...(kmsKeyArn ? { kmsKeyArn } : {}) },
        pointInTimeRecovery: { enabled: true },
        ...regional,
        tags,
      },
      parent,
    );
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: `/aws/lambda/${functionName}`, retentionInDays: logRetentionDays, ...encrypted, ...regional, tags }, parent);
    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")), tags }, parent);
    const document = pulumi
      .all([uploadsBucketArn, renditionsBucketArn, tableArn, this.rateLimitTable.arn, topicArn, logGroup.arn, kmsKeyArn])
      .apply(([uploads, renditions, table, counters, topic, logGroupArn, key]) =>
        JSON.stringify(
          apiFunctionPolicy({ uploadsBucketArn: uploads, renditionsBucketArn: renditions, workPrefix, tableArn: table, rateLimitTableArn: counters, topicArn: topic, logGroupArn, kmsKeyArn: key, userPrefix: API_UPLOAD_PREFIX, ticketPrefix: API_TICKET_PREFIX }),
        ),
      );
    const policy = new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: document }, parent);

    this.function = new aws.lambda.Function(
      name,
      {
        name: functionName,
        description: "image-pipeline HTTP API",
        role: role.arn,
        runtime: LAMBDA_RUNTIME,
        handler: `index.${API_HANDLER}`,
        code,
        architectures: [architecture],
        memorySize: API_MEMORY_MB,
        timeout: API_TIMEOUT_SECONDS,
        environment: { variables: pulumi.all([pulumi.output(environment), this.rateLimitTable.name]).apply(([variables, counters]) => ({ ...variables, [LAMBDA_ENV.rateLimitTable]: counters })) },
        loggingConfig: { logFormat: "JSON", logGroup: logGroup.name, applicationLogLevel: "INFO", systemLogLevel: "WARN" },
        tracingConfig: { mode: "Active" },
        ...(kmsKeyArn ? { kmsKeyArn } : {}),
        ...regional,
        tags,
      },
      { parent: this, dependsOn: [policy, logGroup] },
    );

    this.api = new aws.apigatewayv2.Api(
      `${name}-http`,
      {
        protocolType: "HTTP",
        description: "image-pipeline API: uploads, job status, erasure",
        // Browsers preflight the JSON and Authorization requests; API Gateway answers OPTIONS itself.
        ...(corsOrigins.length > 0
          ? { corsConfiguration: { allowOrigins: [...corsOrigins], allowMethods: ["GET", "POST", "DELETE"], allowHeaders: ["authorization", "content-type"], maxAge: 3600 } }
          : {}),
        ...regional,
        // Only the API itself carries the auth mode: one violation per stack when the pack refuses it.
        tags: { ...tags, "api-auth": auth },
      },
      parent,
    );
    const integration = new aws.apigatewayv2.Integration(
      `${name}-integration`,
      { apiId: this.api.id, integrationType: "AWS_PROXY", integrationUri: this.function.invokeArn, integrationMethod: "POST", payloadFormatVersion: "2.0", timeoutMilliseconds: API_TIMEOUT_SECONDS * 1000, ...regional },
      parent,
    );
    const route = new aws.apigatewayv2.Route(`${name}-route`, { apiId: this.api.id, routeKey: "$default", target: pulumi.interpolate`integrations/${integration.id}`, ...regional }, parent);

    const accessLogs = new aws.cloudwatch.LogGroup(`${name}-access-logs`, { name: `/aws/apigateway/${functionName}`, retentionInDays: logRetentionDays, ...encrypted, ...regional, tags }, parent);
    new aws.apigatewayv2.Stage(
      `${name}-stage`,
      {
        apiId: this.api.id,
        name: "$default",
        autoDeploy: true,
        // Stage throttling applies to every route and caller together: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html
        defaultRouteSettings: { throttlingRateLimit: rateLimit, throttlingBurstLimit: burstLimit, detailedMetricsEnabled: true },
        // Access-log variables: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
        accessLogSettings: { destinationArn: accessLogs.arn, format: JSON.stringify(ACCESS_LOG_FORMAT) },
        ...regional,
        tags,
      },
      { parent: this, dependsOn: [route] },
    );

    new aws.lambda.Permission(
      `${name}-invoke`,
      { action: "lambda:InvokeFunction", function: this.function.name, principal: "apigateway.amazonaws.com", sourceArn: pulumi.interpolate`${this.api.executionArn}/*/*`, ...regional },
      parent,
    );

    if (corsOrigins.length > 0) {
      // S3 CORS for presigned POST uploads from the page: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
      new aws.s3.BucketCorsConfiguration(`${name}-uploads-cors`, { bucket: uploadsBucketName, corsRules: uploadsCorsRules(corsOrigins), ...regional }, parent);
    }

    this.url = this.api.apiEndpoint;
    this.functionName = this.function.name;
    this.registerOutputs({ url: this.url, functionName: this.functionName, rateLimitTableName: this.rateLimitTable.name });
  }
}

/** One JSON line per request: who, what, how it ended, how long it took. */
export const ACCESS_LOG_FORMAT = {
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  method: "$context.httpMethod",
  path: "$context.path",
  status: "$context.status",
  responseLength: "$context.responseLength",
  latencyMs: "$context.responseLatency",
  integrationError: "$context.integrationErrorMessage",
};
