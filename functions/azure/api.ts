import { DefaultAzureCredential } from "@azure/identity";
import { TableClient } from "@azure/data-tables";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { Hono, type Context } from "hono";
import { createApiApp } from "../api/app";
import { forwardedClientAddress } from "../api/rateLimit";
import { requiredSetting } from "../settings";
import { azurePortsFromEnv } from "./adapters";
import { BlobSasSigner } from "./apiSigner";
import { APP_SETTINGS, readAzureApiSettings, readAzureAppEnvironment, readAzureProcessingOptions } from "./contract";
import { TableRateLimitStore } from "./rateLimitStore";

/**
 * The API as an HTTP function of the Function App (registered in app.ts), under the host's
 * default `api` route prefix. Hono ships no Azure Functions adapter (its proposal was
 * closed: https://github.com/honojs/hono/pull/1797), so the v4 model's fetch-like request
 * is handed to the app's `fetch` here and the response read back, whole: the events route
 * runs in its buffered mode (HTTP streams are an opt-in of the v4 model this app does not take).
 * Per-caller request counts live in the storage account's rate-limit table (RATE_LIMIT_TABLE),
 * shared by every instance. The v4 request carries no peer address: the client's is the one the
 * App Service front end appends to X-Forwarded-For, read from its right (see clientAddressOf).
 */

/** The host's default route prefix: https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-http-webhook-trigger#customize-the-http-endpoint */
export const API_ROUTE_PREFIX = "/api";

/** What the bridge tells the app besides the request. */
export interface AzureApiBindings {
  /** The client's address as the platform's front end saw it (X-Forwarded-For's rightmost entry). */
  clientIp?: string;
}

type Fetch = (request: Request, bindings?: AzureApiBindings) => Response | Promise<Response>;

let cached: Fetch | undefined;

/** The app over the Function App's settings; user-delegation SAS from the app's managed identity. */
export function buildApiFetch(env: NodeJS.ProcessEnv = process.env): Fetch {
  const { storageAccountName, containers, connectionString } = readAzureAppEnvironment(env);
  const ports = azurePortsFromEnv(env);
  const options = readAzureProcessingOptions(env);
  const { api, deliveryBaseUrl, rateLimitTable } = readAzureApiSettings(env);
  const counters = requiredSetting(rateLimitTable, APP_SETTINGS.rateLimitTable, "the rate-limit table name");
  const credential = new DefaultAzureCredential();
  const blobs = new BlobServiceClient(`https://${storageAccountName}.blob.core.windows.net`, credential);
  // One retry, not the SDK's three: a throttled counter table lets the request through rather than slowing it.
  const table = connectionString
    ? TableClient.fromConnectionString(connectionString, counters, { allowInsecureConnection: true, retryOptions: { maxRetries: 1 } })
    : new TableClient(`https://${storageAccountName}.table.core.windows.net`, counters, credential, { retryOptions: { maxRetries: 1 } });
  const app = createApiApp({
    ports,
    signer: new BlobSasSigner(blobs, containers, { kind: "user-delegation", blobs, accountName: storageAccountName as string }),
    options,
    settings: api,
    deliveryBaseUrl,
    streaming: false,
    rateLimitStore: () => new TableRateLimitStore(table),
    clientIp: (c: Context) => (c.env as AzureApiBindings | undefined)?.clientIp,
  });
  const root = new Hono().route(API_ROUTE_PREFIX, app);
  return (request, bindings) => root.fetch(request, bindings);
}

/**
 * The client's address of a request to the Function App: Functions hands the function no socket
 * address, and the App Service front end appends the address it accepted the connection from to
 * X-Forwarded-For (https://github.com/MicrosoftDocs/azure-docs/issues/56499), so its rightmost
 * entry is the one the caller cannot choose. Through Front Door that is a Front Door edge's address
 * (Front Door appends the client's before it: https://learn.microsoft.com/azure/frontdoor/front-door-http-headers-protocol),
 * which is why the API keys callers by JWT subject whenever auth is on.
 */
export function clientAddressOf(request: Pick<HttpRequest, "headers">): string | undefined {
  return forwardedClientAddress(request.headers.get("x-forwarded-for"));
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
    return toResponseInit(await app(await toFetchRequest(request), { clientIp: clientAddressOf(request) }));
  };
}

/** The registered handler: the app is built on the first request. */
export const apiHandler = httpHandler(() => (cached ??= buildApiFetch()));
