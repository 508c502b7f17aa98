/**
 * The API's Lambda entry (`index.handler` once bundled), behind an API Gateway HTTP API
 * (payload format 2.0, which hono's aws-lambda adapter reads). Ports, signer and settings
 * are built once per cold start, from the environment the component writes
 * (functions/aws/contract.ts). API Gateway's Lambda proxy integration returns a response
 * only once it is complete (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html:
 * streaming is for REST APIs), so the events route runs in its buffered mode.
 */

import { randomUUID } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { handle } from "hono/aws-lambda";
import { createApiApp } from "../api/app";
import { eraseUpload } from "../steps/erase";
import { awsPortsFromEnv } from "./adapters";
import { S3Signer } from "./apiSigner";
import { readLambdaApiSettings, readLambdaEnvironment, readLambdaProcessingOptions } from "./contract";

type LambdaHandler = ReturnType<typeof handle>;

let cached: LambdaHandler | undefined;

/** Built on the first request, not at import, so a bad setting answers a coded 500 instead of crashing the init. */
export function buildApiHandler(env: NodeJS.ProcessEnv = process.env): LambdaHandler {
  const { uploadsBucket, renditionsBucket } = readLambdaEnvironment(env);
  const ports = awsPortsFromEnv(env);
  const options = readLambdaProcessingOptions(env);
  const { api, deliveryBaseUrl } = readLambdaApiSettings(env);
  const app = createApiApp({
    ports,
    signer: new S3Signer({ s3: new S3Client({ region: env.AWS_REGION || undefined }), uploadsBucket, renditionsBucket }),
    options,
    settings: api,
    deliveryBaseUrl,
    streaming: false,
    erase: async (upload) => {
      await eraseUpload(upload, ports, options);
    },
  });
  return handle(app);
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
