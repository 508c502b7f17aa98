import { createHash, randomUUID } from "node:crypto";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { streamSSE } from "hono/streaming";
import type { Context, MiddlewareHandler } from "hono";
import { isPipelineError } from "../core/errors";
import type { ProcessingOptions } from "../core/options";
import type { ObjectInfo, Ports } from "../ports";
import { eraseUpload } from "../steps/erase";
import { jobIdFor } from "../steps/jobId";
import { negotiableFormats, NEGOTIABLE_QUERY_PARAMETER, servedOutputs } from "../steps/served";
import type { Manifest } from "../steps/types";
import { createAuthenticator, type Authenticator } from "./auth";
import { ApiError, isApiError, type ApiErrorCode } from "./errors";
import { callerKey, memoryRateLimitStore, perCallerLimits, type RateLimitStoreFactory } from "./rateLimit";
import { errorSchema, jobResponseSchema, uploadIdParamsSchema, uploadRequestSchema, uploadResponseSchema, type ApiJobStatus, type JobResponse } from "./schemas";
import type { ApiSettings } from "./settings";
import type { StorageSigner } from "./signer";
import { acceptedContentTypes, ticketKey, uploadKey, uploadPrefix, type UploadTicket } from "./uploads";

/**
 * The HTTP API, written once: uploads signed for direct-to-storage transfer, job status
 * (JSON, Server-Sent Events), erasure, and its OpenAPI document. Everything cloud-specific
 * comes in as dependencies (ports, a signer, settings), so the same app runs on Lambda
 * (functions/aws/api.ts), on Azure Functions (functions/azure/api.ts) and on Node
 * (local/serve/). Errors leave as `{ code, message, requestId }` from one handler.
 */

export interface ApiDependencies {
  ports: Ports;
  signer: StorageSigner;
  /** The pipeline's processing options: the accepted formats and the size limit. */
  options: ProcessingOptions;
  settings: ApiSettings;
  /** Erases a deleted upload's renditions, work objects and job records; default: eraseUpload (functions/steps/erase.ts) on `ports`. */
  erase?: (upload: { sourceKey: string; sourceEtag?: string; sourceVersion?: string }) => Promise<void>;
  /** Renditions are served from here (a CDN, or the local server), else through signed URLs. */
  deliveryBaseUrl?: string;
  /**
   * True where the host passes a response on while it is written (Node). False where it
   * buffers the whole response (API Gateway HTTP API, Azure Functions without HTTP
   * streams): the events route then sends the current status and a `retry` hint, and the
   * browser's EventSource reconnects, which makes it polling through the same client code.
   */
  streaming: boolean;
  /** Replaces the configured authentication (tests: a local key set). */
  authenticate?: Authenticator;
  /** The job id of an upload as its trigger derives it (default: key, ETag and S3 version id). */
  jobIdOf?: (key: string, info: ObjectInfo) => string;
  now?: () => Date;
  /** Where details of unexpected errors go (never to the caller). */
  log?: (entry: Record<string, unknown>) => void;
  /** How often a streamed events route looks at the job (default 1000 ms). */
  eventsPollMs?: number;
  /** How long a streamed events response lasts before the client reconnects (default 300 s). */
  eventsMaxSeconds?: number;
  /** Largest accepted request body (default 16 KiB): the API only takes small JSON. */
  maxBodyBytes?: number;
  /**
   * Where per-caller request counts live, shared by every instance of a deployment (functions/aws/rateLimitStore.ts,
   * functions/azure/rateLimitStore.ts). Default: this process's memory, which only the local server may use.
   */
  rateLimitStore?: RateLimitStoreFactory;
  /** The client's IP address as the host reports it (never a header the client could set); the caller's key with auth `none`. */
  clientIp?: (c: Context) => string | undefined;
  /** Refuses a request that did not come the way the host requires (throws an ApiError), before anything else reads it; e.g. not through Front Door. */
  admit?: (c: Context) => void;
}

type Env = { Variables: { requestId: string; subject: string; caller: string } };

/** A polling client waits this long between looks at an unfinished job (the `Retry-After` and SSE `retry`). */
export const RETRY_AFTER_SECONDS = 2;

const rateLimitHeaders = {
  "Retry-After": { description: "Seconds until the caller's window resets.", schema: { type: "integer" as const } },
  "RateLimit-Limit": { description: "The caller's limit in this window.", schema: { type: "integer" as const } },
  "RateLimit-Remaining": { description: "Requests left in this window.", schema: { type: "integer" as const } },
  "RateLimit-Reset": { description: "Seconds until the window resets.", schema: { type: "integer" as const } },
};

const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    [...statuses, 429].map((status) => [
      status,
      status === 429
        ? { content: { "application/json": { schema: errorSchema } }, headers: rateLimitHeaders, description: "RATE_LIMITED: this caller (JWT subject, or client IP with auth none) is over its limit; retry after `Retry-After` seconds." }
        : { content: { "application/json": { schema: errorSchema } }, description: `Error (${status})` },
    ]),
  );

const security = [{ bearer: [] as string[] }];

const createUploadRoute = createRoute({
  method: "post",
  path: "/uploads",
  summary: "Sign a direct upload of one image",
  security,
  request: { body: { content: { "application/json": { schema: uploadRequestSchema } }, required: true } },
  responses: { 201: { content: { "application/json": { schema: uploadResponseSchema } }, description: "Upload it to `url` before `expiresAt`." }, ...errorResponses(400, 401, 413, 500) },
});

const getJobRoute = createRoute({
  method: "get",
  path: "/jobs/{uploadId}",
  summary: "The upload's processing status and, once done, its renditions",
  description: `Poll it at most every ${RETRY_AFTER_SECONDS} s (\`Retry-After\`) with \`If-None-Match\` set to the last \`ETag\`: an unchanged status answers 304.`,
  security,
  request: { params: uploadIdParamsSchema },
  responses: { 200: { content: { "application/json": { schema: jobResponseSchema } }, description: "The job" }, 304: { description: "Unchanged since the ETag given" }, ...errorResponses(400, 401, 404, 500) },
});

const jobEventsRoute = createRoute({
  method: "get",
  path: "/jobs/{uploadId}/events",
  summary: "Server-Sent Events: one `status` event (a Job as JSON) per change, until the job ends",
  description: "Where the host buffers responses, one event with a `retry` hint is sent and the stream ends; EventSource reconnects by itself. Close the EventSource on `succeeded` or `failed`.",
  security,
  request: { params: uploadIdParamsSchema },
  responses: { 200: { content: { "text/event-stream": { schema: z.string() } }, description: "The event stream" }, ...errorResponses(400, 401, 404, 500) },
});

const deleteUploadRoute = createRoute({
  method: "delete",
  path: "/uploads/{uploadId}",
  summary: "Erase the upload: the original and its versions, renditions and job records",
  description: "Idempotent: 204 whether or not anything of the caller's was there, so it reveals nothing of other callers' uploads.",
  security,
  request: { params: uploadIdParamsSchema },
  responses: { 204: { description: "Erased" }, ...errorResponses(400, 401, 500) },
});

/** What GET /jobs reads: the upload's key and job, or the ticket of an upload still to come. */
interface JobState {
  uploadId: string;
  status: ApiJobStatus;
  key?: string;
  error?: { code: string; message: string };
  manifestKey?: string;
}

const TERMINAL: readonly ApiJobStatus[] = ["succeeded", "failed"];

/**
 * Builds the app.
 *
 * @example serve({ fetch: createApiApp(deps).fetch, hostname: "127.0.0.1", port: 8787 })
 */
export function createApiApp(deps: ApiDependencies): OpenAPIHono<Env> {
  const { ports, signer, options, settings } = deps;
  const erase: NonNullable<ApiDependencies["erase"]> = deps.erase ?? (async (upload) => void (await eraseUpload(upload, ports, options)));
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? ((entry) => console.error(JSON.stringify(entry)));
  const authenticate = deps.authenticate ?? createAuthenticator(settings.auth);
  const jobIdOf = deps.jobIdOf ?? ((key: string, info: ObjectInfo) => jobIdFor(key, info.etag, info.versionId));
  const pollMs = deps.eventsPollMs ?? 1000;
  const maxStreamMs = (deps.eventsMaxSeconds ?? 300) * 1000;
  const accepted = acceptedContentTypes(options.limits.formats);

  const app = new OpenAPIHono<Env>({
    defaultHook: (result) => {
      if (!result.success) {
        const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
        throw new ApiError("REQUEST_INVALID", `The request is invalid: ${problems}.`);
      }
    },
  });

  app.use(requestId());
  if (deps.admit) {
    const admit = deps.admit;
    app.use(async (c, next) => {
      admit(c as unknown as Context);
      await next();
    });
  }
  app.use(
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? 16 * 1024,
      onError: (c) => {
        // The rest of the body is never read: the connection cannot carry another request.
        c.header("Connection", "close");
        throw new ApiError("REQUEST_TOO_LARGE", `The request body is over ${deps.maxBodyBytes ?? 16 * 1024} bytes; send only { filename, contentType, bytes } and the file itself to the signed URL.`);
      },
    }),
  );
  const requireCaller: MiddlewareHandler<Env> = async (c, next) => {
    const subject = await authenticate(c.req.header("authorization"));
    c.set("subject", subject);
    // With auth none every caller is the same subject: the address the host saw tells them apart.
    c.set("caller", settings.auth === "none" ? callerKey("ip", deps.clientIp?.(c as unknown as Context)) : callerKey("subject", subject));
    await next();
  };
  const limits = perCallerLimits<Env>(settings.rateLimit, { stores: deps.rateLimitStore ?? memoryRateLimitStore, keyOf: (c) => c.get("caller"), log });
  const perCaller = [requireCaller, limits.requests, ...(limits.uploads ? [limits.uploads] : [])];
  // `/uploads/*` also matches `/uploads` itself: one registration, so each request is counted once.
  app.use("/uploads/*", ...perCaller);
  app.use("/jobs/*", ...perCaller);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", bearerFormat: "JWT" });

  app.openapi(createUploadRoute, async (c) => {
    const { filename, contentType, bytes } = c.req.valid("json");
    const type = contentType.split(";")[0].trim().toLowerCase();
    if (!accepted.includes(type)) {
      throw new ApiError("UNSUPPORTED_FORMAT", `"${contentType}" is not accepted; upload one of ${accepted.join(", ")}.`, { contentType });
    }
    const maxBytes = options.limits.maxBytes;
    if (bytes > maxBytes) throw new ApiError("TOO_LARGE", `The file is ${bytes} bytes; at most ${maxBytes} are accepted. Make it smaller first.`, { bytes, maxBytes });
    if (bytes === 0) throw new ApiError("EMPTY_INPUT", "The file is empty (0 bytes); pick the image again.");
    const subject = c.get("subject");
    const uploadId = randomUUID();
    const key = uploadKey(subject, uploadId, filename);
    const expiresAt = new Date(now().getTime() + settings.uploadUrlSeconds * 1000);
    const grant = await signer.signUpload({ key, contentType: type, bytes, expiresAt });
    const ticket: UploadTicket = { uploadId, key, contentType: type, bytes, expiresAt: expiresAt.toISOString() };
    await ports.objects.put("work", ticketKey(subject, uploadId), Buffer.from(JSON.stringify(ticket)), "application/json");
    return c.json({ uploadId, ...grant, expiresAt: expiresAt.toISOString() }, 201);
  });

  /** The caller's upload under `uploadId`: its key in the uploads area, else its ticket, else nothing. */
  const findUpload = async (subject: string, uploadId: string): Promise<{ keys: string[]; ticket?: UploadTicket }> => {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ports.objects.list("uploads", uploadPrefix(subject, uploadId), { cursor, limit: 100 });
      keys.push(...page.items.map((item) => item.key));
      cursor = page.cursor;
    } while (cursor);
    const ticket = await ports.objects
      .get("work", ticketKey(subject, uploadId))
      .then((body) => JSON.parse(body.toString("utf8")) as UploadTicket)
      .catch((thrown: unknown) => {
        if (isPipelineError(thrown) && thrown.code === "NOT_FOUND") return undefined;
        throw thrown;
      });
    return { keys, ticket };
  };

  const readState = async (subject: string, uploadId: string): Promise<JobState> => {
    const { keys, ticket } = await findUpload(subject, uploadId);
    const key = keys[0];
    if (key === undefined) {
      if (ticket && Date.parse(ticket.expiresAt) > now().getTime()) return { uploadId, status: "pending" };
      throw notFound(uploadId);
    }
    const info = await ports.objects.head("uploads", key).catch((thrown: unknown) => {
      if (isPipelineError(thrown) && thrown.code === "NOT_FOUND") throw notFound(uploadId);
      throw thrown;
    });
    const record = await ports.jobs.get(jobIdOf(key, info));
    if (!record) return { uploadId, key, status: "pending" };
    if (record.status === "running") return { uploadId, key, status: "processing" };
    // Replaced between the HEAD above and now (functions/steps/current.ts): the newer upload's job is queued; poll again.
    if (record.status === "superseded") return { uploadId, key, status: "pending" };
    if (record.status === "failed") return { uploadId, key, status: "failed", error: { code: record.error?.code ?? "INTERNAL", message: record.error?.message ?? "The job failed." } };
    return { uploadId, key, status: "succeeded", manifestKey: record.manifestKey };
  };

  const renditionUrl = (key: string, manifest: Manifest): Promise<string> => {
    if (deps.deliveryBaseUrl) {
      // A reprocess rewrites the same keys: the job id in the URL is what changes the CDN's cache key.
      // A JPEG's URL lists the formats stored beside it, the only ones the edge may serve in its place.
      const formats = negotiableFormats(manifest, key);
      const negotiable = formats ? `&${NEGOTIABLE_QUERY_PARAMETER}=${formats}` : "";
      return Promise.resolve(`${deps.deliveryBaseUrl.replace(/\/+$/, "")}/${encodeKey(key)}?v=${encodeURIComponent(manifest.jobId)}${negotiable}`);
    }
    return signer.signDownload(key, new Date(now().getTime() + settings.downloadUrlSeconds * 1000));
  };

  const present = async (state: JobState): Promise<JobResponse> => {
    const response: JobResponse = { uploadId: state.uploadId, status: state.status, ...(state.error ? { error: state.error } : {}) };
    if (state.status !== "succeeded" || !state.manifestKey) return response;
    const manifest = JSON.parse((await ports.objects.get("renditions", state.manifestKey)).toString("utf8")) as Manifest;
    const prefix = state.manifestKey.slice(0, state.manifestKey.lastIndexOf("/") + 1);
    response.manifest = {
      createdAt: manifest.createdAt,
      source: { width: manifest.source.width, height: manifest.source.height, format: manifest.source.format },
      ...(deps.deliveryBaseUrl ? { baseUrl: `${deps.deliveryBaseUrl.replace(/\/+$/, "")}/${encodeKey(prefix)}` } : {}),
      outputs: await Promise.all(
        // A rendition Optimize serves from another's file (`skipped[].servedBy`) is listed with that file's URL.
        servedOutputs(manifest).map(async (output) => ({
          name: output.name,
          kind: output.kind,
          format: output.format,
          width: output.width,
          height: output.height,
          bytes: output.bytes,
          contentType: output.contentType,
          url: await renditionUrl(output.key, manifest),
        })),
      ),
      ...(manifest.placeholder ? { placeholder: manifest.placeholder.dataUri } : {}),
      ...(manifest.responsive ? { responsive: manifest.responsive.map(({ name, sizes, srcset, picture }) => ({ name, sizes, srcset, picture })) } : {}),
    };
    return response;
  };

  app.openapi(getJobRoute, async (c) => {
    const { uploadId } = c.req.valid("param");
    const state = await readState(c.get("subject"), uploadId);
    const etag = etagOf(state);
    c.header("ETag", etag);
    c.header("Cache-Control", "private, no-cache");
    if (!TERMINAL.includes(state.status)) c.header("Retry-After", String(RETRY_AFTER_SECONDS));
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    return c.json(await present(state), 200);
  });

  app.openapi(jobEventsRoute, async (c) => {
    const { uploadId } = c.req.valid("param");
    const subject = c.get("subject");
    // Unknown uploads get a JSON 404, not an empty stream.
    const first = await readState(subject, uploadId);
    return streamSSE(
      c,
      async (stream) => {
        let aborted = false;
        stream.onAbort(() => {
          aborted = true;
        });
        const deadline = Date.now() + maxStreamMs;
        let state: JobState | undefined = first;
        let last = "";
        for (;;) {
          const etag = etagOf(state);
          if (etag !== last) {
            await stream.writeSSE({ event: "status", id: etag, retry: RETRY_AFTER_SECONDS * 1000, data: JSON.stringify(await present(state)) });
            last = etag;
          }
          if (TERMINAL.includes(state.status) || !deps.streaming || aborted || Date.now() >= deadline) return;
          await stream.sleep(pollMs);
          state = await readState(subject, uploadId).catch((thrown: unknown) => {
            if (isApiError(thrown) && thrown.code === "NOT_FOUND") return undefined;
            throw thrown;
          });
          if (!state) {
            await stream.writeSSE({ event: "gone", data: JSON.stringify({ code: "NOT_FOUND", message: `Upload ${uploadId} was erased.` }) });
            return;
          }
        }
      },
      async (thrown, stream) => {
        log({ level: "error", requestId: c.get("requestId"), message: "events stream failed", error: describe(thrown) });
        await stream.writeSSE({ event: "error", data: JSON.stringify({ code: "INTERNAL", message: "The status stream failed; reconnect.", requestId: c.get("requestId") }) });
      },
    ) as never;
  });

  app.openapi(deleteUploadRoute, async (c) => {
    const { uploadId } = c.req.valid("param");
    const subject = c.get("subject");
    const { keys, ticket } = await findUpload(subject, uploadId);
    const sourceKeys = new Set(keys);
    if (ticket) sourceKeys.add(ticket.key);
    for (const key of sourceKeys) {
      // Its ETag and version name its job, also one that failed and left no manifest.
      const info = await ports.objects.head("uploads", key).catch(() => undefined);
      // The original first: erasure leaves alone an upload that still exists.
      await ports.objects.delete("uploads", key, { allVersions: true });
      await erase({ sourceKey: key, sourceEtag: info?.etag, sourceVersion: info?.versionId });
    }
    await ports.objects.delete("work", ticketKey(subject, uploadId));
    return c.body(null, 204);
  });

  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: { title: "image-pipeline API", version: "1.0.0", description: "Direct uploads, job status and erasure of the image pipeline." },
  });

  app.notFound((c) => c.json({ code: "NOT_FOUND", message: `No route ${c.req.method} ${c.req.path}; see /openapi.json.`, requestId: c.get("requestId") ?? "" }, 404));

  app.onError((thrown, c) => {
    const error = asApiError(thrown);
    const id = c.get("requestId") ?? "";
    if (error.status >= 500) log({ level: "error", requestId: id, method: c.req.method, path: c.req.path, error: describe(thrown) });
    return c.json({ code: error.code, message: error.message, requestId: id }, error.status);
  });

  return app;
}

function notFound(uploadId: string): ApiError {
  return new ApiError("NOT_FOUND", `No upload ${uploadId} of yours exists (never signed, expired before the file came, or erased).`);
}

/** A weak validator of what a client sees change: status, error code and manifest. */
function etagOf(state: JobState): string {
  const digest = createHash("sha256").update(JSON.stringify([state.status, state.error?.code, state.manifestKey])).digest("hex").slice(0, 16);
  return `W/"${digest}"`;
}

/** Keys hold `/` between segments; each segment is URL-encoded on its own. */
function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** Callers see known failures as they are and every other one as a generic 500 (details go to the log). */
function asApiError(thrown: unknown): ApiError {
  if (isApiError(thrown)) return thrown;
  if (thrown instanceof HTTPException && thrown.status < 500) {
    return new ApiError("REQUEST_INVALID", `The request could not be read (${thrown.message || `HTTP ${thrown.status}`}); send JSON with Content-Type: application/json.`);
  }
  if (isPipelineError(thrown) && (thrown.code === "STORAGE_UNAVAILABLE" || thrown.code === "THROTTLED")) {
    return new ApiError(thrown.code as ApiErrorCode, "Storage is busy or unavailable right now; retry in a few seconds.");
  }
  return new ApiError("INTERNAL", "An unexpected error occurred; retry later, and quote the requestId if it persists.");
}

function describe(thrown: unknown): string {
  return thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
}
