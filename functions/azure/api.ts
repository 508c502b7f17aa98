import { DefaultAzureCredential } from "@azure/identity";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { Hono } from "hono";
import { createApiApp } from "../api/app";
import { eraseUpload } from "../steps/erase";
import { azurePortsFromEnv } from "./adapters";
import { BlobSasSigner } from "./apiSigner";
import { readAzureApiSettings, readAzureAppEnvironment, readAzureProcessingOptions } from "./contract";

/**
 * The API as an HTTP function of the Function App (registered in app.ts), under the host's
 * default `api` route prefix. Hono ships no Azure Functions adapter (its proposal was
 * closed: https://github.com/honojs/hono/pull/1797), so the v4 model's fetch-like request
 * is handed to the app's `fetch` here and the response read back, whole: the events route
 * runs in its buffered mode (HTTP streams are an opt-in of the v4 model this app does not take).
 */

/** The host's default route prefix: https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-http-webhook-trigger#customize-the-http-endpoint */
export const API_ROUTE_PREFIX = "/api";

type Fetch = (request: Request) => Response | Promise<Response>;

let cached: Fetch | undefined;

/** The app over the Function App's settings; user-delegation SAS from the app's managed identity. */
export function buildApiFetch(env: NodeJS.ProcessEnv = process.env): Fetch {
  const { storageAccountName, containers } = readAzureAppEnvironment(env);
  const ports = azurePortsFromEnv(env);
  const options = readAzureProcessingOptions(env);
  const { api, deliveryBaseUrl } = readAzureApiSettings(env);
  const blobs = new BlobServiceClient(`https://${storageAccountName}.blob.core.windows.net`, new DefaultAzureCredential());
  const app = createApiApp({
    ports,
    signer: new BlobSasSigner(blobs, containers, { kind: "user-delegation", blobs, accountName: storageAccountName as string }),
    options,
    settings: api,
    deliveryBaseUrl,
    streaming: false,
    erase: async (upload) => {
      await eraseUpload(upload, ports, options);
    },
  });
  const root = new Hono().route(API_ROUTE_PREFIX, app);
  return (request) => root.fetch(request);
}

/** The v4 request as a fetch Request: same URL, method, headers and body. */
export async function toFetchRequest(request: Pick<HttpRequest, "url" | "method" | "headers" | "arrayBuffer">): Promise<Request> {
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  return new Request(request.url, { method: request.method, headers: request.headers, body });
}

/** A fetch Response as the v4 model's response. */
export async function toResponseInit(response: Response): Promise<HttpResponseInit> {
  return { status: response.status, headers: Object.fromEntries(response.headers), body: new Uint8Array(await response.arrayBuffer()) };
}

/** Runs `fetch` for one invocation; a setup failure answers a coded 500 (details in the log). */
export function httpHandler(fetch: () => Fetch) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    let app: Fetch;
    try {
      app = fetch();
    } catch (thrown) {
      context.error(JSON.stringify({ level: "error", requestId: context.invocationId, message: "the API could not start", error: (thrown as Error)?.message ?? String(thrown) }));
      return { status: 500, jsonBody: { code: "INTERNAL", message: "The service is misconfigured; quote the requestId to its operators.", requestId: context.invocationId } };
    }
    return toResponseInit(await app(await toFetchRequest(request)));
  };
}

/** The registered handler: the app is built on the first request. */
export const apiHandler = httpHandler(() => (cached ??= buildApiFetch()));
