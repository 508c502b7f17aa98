import { DefaultAzureCredential } from "@azure/identity";
import { TableClient } from "@azure/data-tables";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { Hono, type Context } from "hono";
import { createApiApp } from "../api/app";
import { ApiError } from "../api/errors";
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
 * App Service front end appends to X-Forwarded-For, read from its right (see clientAddressOf);
 * behind Front Door (app setting FRONT_DOOR_ID) it is the address Front Door's edge accepted the
 * connection from, X-Azure-SocketIP, and a request without this profile's X-Azure-FDID is refused
 * (see frontDoorGate).
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
  const { api, deliveryBaseUrl, rateLimitTable, frontDoorId } = readAzureApiSettings(env);
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
    ...(frontDoorId ? frontDoorGate(frontDoorId) : { clientIp: (c: Context) => (c.env as AzureApiBindings | undefined)?.clientIp }),
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

/** Front Door's headers to its origins: https://learn.microsoft.com/azure/frontdoor/front-door-http-headers-protocol#from-the-front-door-to-the-backend */
export const FRONT_DOOR_HEADERS = { profileId: "x-azure-fdid", socketIp: "x-azure-socketip" } as const;

/**
 * The app's admission and caller address when only Front Door may reach it. The platform's access
 * restrictions already admit only Front Door's addresses with this X-Azure-FDID (components/azure/functionApp.ts);
 * checking the header here too keeps the app closed if those rules are ever loosened
 * (https://learn.microsoft.com/azure/frontdoor/origin-security#front-door-identifier).
 * The caller is X-Azure-SocketIP, the address of the TCP connection Front Door accepted; not X-Azure-ClientIP,
 * which follows a client-sent X-Forwarded-For (https://github.com/MicrosoftDocs/azure-docs/issues/79394), so a caller
 * could pick a new one per request (same page as FRONT_DOOR_HEADERS: "the client IP can be arbitrarily overwritten by a user").
 *
 * @example frontDoorGate("0b9a3c1e-...").admit(c) // throws FRONT_DOOR_REQUIRED when X-Azure-FDID differs
 */
export function frontDoorGate(frontDoorId: string): { admit: (c: Context) => void; clientIp: (c: Context) => string | undefined } {
  const expected = frontDoorId.trim().toLowerCase();
  return {
    admit: (c) => {
      const given = c.req.header(FRONT_DOOR_HEADERS.profileId)?.trim().toLowerCase();
      if (given === expected) return;
      throw new ApiError("FRONT_DOOR_REQUIRED", "This API is served only through its Front Door endpoint; call the stack output apiUrl instead of the app's own host.");
    },
    // One address as Front Door writes it; forwardedClientAddress drops a port, and keeps the last entry of a list.
    clientIp: (c) => forwardedClientAddress(c.req.header(FRONT_DOOR_HEADERS.socketIp)),
  };
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
