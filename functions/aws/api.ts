/**
 * The API's Lambda entry (`index.handler` once bundled), behind an API Gateway HTTP API
 * (payload format 2.0, which hono's aws-lambda adapter reads). Ports, signer and settings
 * are built once per cold start, from the environment the component writes
 * (functions/aws/contract.ts). API Gateway's Lambda proxy integration returns a response
 * only once it is complete (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html:
 * streaming is for REST APIs), so the events route runs in its buffered mode.
 * Per-caller request counts live in the stack's DynamoDB rate-limit table (RATE_LIMIT_TABLE), shared
 * by every instance; the client's address is the one API Gateway saw, never a header.
 */

import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "hono";
import { handle, type ApiGatewayRequestContextV2 } from "hono/aws-lambda";
import { createApiApp } from "../api/app";
import { requiredSetting } from "../settings";
import { isLoopbackUrl } from "../adapters";
import { awsPortsFromEnv, LOCAL_AWS_CREDENTIALS } from "./adapters";
import { S3Signer } from "./apiSigner";
import { LAMBDA_ENV, readLambdaApiSettings, readLambdaEnvironment, readLambdaProcessingOptions } from "./contract";
import { DynamoRateLimitStore } from "./rateLimitStore";

type LambdaHandler = ReturnType<typeof handle>;

let cached: LambdaHandler | undefined;

/** Built on the first request, not at import, so a bad setting answers a coded 500 instead of crashing the init. */
export function buildApiHandler(env: NodeJS.ProcessEnv = process.env): LambdaHandler {
  const { uploadsBucket, renditionsBucket } = readLambdaEnvironment(env);
  const ports = awsPortsFromEnv(env);
  const options = readLambdaProcessingOptions(env);
  const { api, deliveryBaseUrl, rateLimitTable } = readLambdaApiSettings(env);
  const counters = requiredSetting(rateLimitTable, LAMBDA_ENV.rateLimitTable, "the rate-limit table name");
  const dynamoEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined;
  const local = isLoopbackUrl(dynamoEndpoint);
  // Two tries, not the SDK's three: a throttled counter table lets the request through rather than slowing it.
  const dynamo = new DynamoDBClient({ region: env.AWS_REGION || (local ? "us-east-1" : undefined), endpoint: dynamoEndpoint, maxAttempts: 2, ...(local ? { credentials: LOCAL_AWS_CREDENTIALS } : {}) });
  const app = createApiApp({
    ports,
    signer: new S3Signer({ s3: new S3Client({ region: env.AWS_REGION || undefined }), uploadsBucket, renditionsBucket }),
    options,
    settings: api,
    deliveryBaseUrl,
    streaming: false,
    rateLimitStore: () => new DynamoRateLimitStore(dynamo, counters),
    clientIp: sourceIpOf,
  });
  return handle(app);
}

/** The caller's address as API Gateway saw the connection: payload v2's requestContext.http.sourceIp (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html). */
export function sourceIpOf(c: Context): string | undefined {
  return (c.env as { requestContext?: Partial<ApiGatewayRequestContextV2> } | undefined)?.requestContext?.http?.sourceIp || undefined;
}

export const handler = async (...args: Parameters<LambdaHandler>): Promise<Awaited<ReturnType<LambdaHandler>> | { statusCode: number; headers: Record<string, string>; body: string }> => {
  try {
    cached ??= buildApiHandler();
  } catch (thrown) {
    const requestId = randomUUID();
    console.error(JSON.stringify({ level: "error", requestId, message: "the API could not start", error: (thrown as Error)?.message ?? String(thrown) }));
    return { statusCode: 500, headers: { "content-type": "application/json" }, body: JSON.stringify({ code: "INTERNAL", message: "The service is misconfigured; quote the requestId to its operators.", requestId }) };
  }
  return cached(...args);
};
