import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import { z } from "zod";
import { APP_SETTINGS, REPROCESS_ORCHESTRATOR_NAME, REPROCESS_ROUTE } from "./contract";
import { reprocessInputFrom } from "./reprocess";

/**
 * The HTTP side of the deployed Azure reprocess: `POST /api/reprocess` starts a run, `GET
 * /api/reprocess/{id}` reports it. The start answers with its own status URL rather than
 * Durable's management URLs (`createCheckStatusResponse`): those live under
 * `/runtime/webhooks/durabletask` on the app's own host, which Front Door's `/api/*` route does not
 * reach and which, behind Front Door, admits nothing else (components/azure/functionApp.ts).
 */

/** What a start may carry: anything else is refused, so a misspelt `prefix` cannot reprocess every upload. */
const startRequestSchema = z.strictObject({
  /** Only uploads whose key starts with it; absent or "" for every upload (as the AWS starter's `{}`). */
  prefix: z.string().max(1024).optional(),
  /** Part of every job id of this run; default: the run's instance id. */
  generation: z.string().min(1).max(128).regex(/^[\w.-]+$/, "letters, digits, '.', '_' and '-' only").optional(),
});

type ReprocessClient = Pick<DurableClient, "startNew" | "getStatus">;

const json = (status: number, body: unknown): HttpResponseInit => ({ status, jsonBody: body, headers: { "content-type": "application/json" } });
const refusal = (status: number, code: string, message: string) => json(status, { code, message });

/**
 * Where the caller reached the app: behind Front Door (FRONT_DOOR_ID set) the host it asked for,
 * which Front Door passes as X-Forwarded-Host, overriding any value the client sent
 * (https://learn.microsoft.com/azure/frontdoor/front-door-http-headers-protocol#from-the-front-door-to-the-backend); else the request's own origin.
 */
export function publicOrigin(request: Pick<HttpRequest, "url" | "headers">, env: NodeJS.ProcessEnv = process.env): string {
  const forwardedHost = request.headers.get("x-forwarded-host")?.split(",")[0].trim();
  return env[APP_SETTINGS.frontDoorId] && forwardedHost ? `https://${forwardedHost}` : new URL(request.url).origin;
}

/** `POST /api/reprocess`: validates the body, starts the ReprocessUploads orchestration, answers 202 with its status URL. */
export function createReprocessStart(env: NodeJS.ProcessEnv = process.env) {
  return async (request: HttpRequest, client: ReprocessClient): Promise<HttpResponseInit> => {
    const text = await request.text();
    let body: unknown = {};
    try {
      if (text.trim() !== "") body = JSON.parse(text);
    } catch {
      return refusal(400, "REPROCESS_REQUEST_INVALID", 'The body is not JSON: send {"prefix": "photos/"}, or {} for every upload.');
    }
    const parsed = startRequestSchema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
      return refusal(400, "REPROCESS_REQUEST_INVALID", `${problems}. Send {"prefix": "photos/"} (optionally "generation"), or {} for every upload.`);
    }
    const instanceId = await client.startNew(REPROCESS_ORCHESTRATOR_NAME, { input: reprocessInputFrom(parsed.data, env) });
    const statusUrl = `${publicOrigin(request, env)}/api/${REPROCESS_ROUTE}/${encodeURIComponent(instanceId)}`;
    return { ...json(202, { id: instanceId, statusUrl }), headers: { "content-type": "application/json", location: statusUrl } };
  };
}

/** `GET /api/reprocess/{id}`: the run's state and, once it has ended, its totals; 404 for an id that is no reprocess run. */
export function createReprocessStatus() {
  return async (request: Pick<HttpRequest, "params">, client: ReprocessClient): Promise<HttpResponseInit> => {
    const id = request.params.id ?? "";
    // durable-functions 3 throws for an unknown instance (its extension answers 404).
    const status = await client.getStatus(id).catch((error: unknown) => {
      if (error instanceof Error && /\b404\b/.test(error.message)) return undefined;
      throw error;
    });
    if (!status || status.name !== REPROCESS_ORCHESTRATOR_NAME) return refusal(404, "REPROCESS_NOT_FOUND", `No reprocess run has the id "${id}": use the id a POST to /api/reprocess answered with.`);
    return json(200, { id, runtimeStatus: status.runtimeStatus, createdTime: status.createdTime, lastUpdatedTime: status.lastUpdatedTime, output: status.output ?? null });
  };
}
