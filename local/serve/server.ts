import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono } from "hono";
import type { Cloud } from "../../components/config";
import { createApiApp } from "../../functions/api/app";
import { memoryRateLimitStore } from "../../functions/api/rateLimit";
import type { Authenticator } from "../../functions/api/auth";
import { apiSettingsSchema, type ApiSettingsInput } from "../../functions/api/settings";
import type { ProcessingOptions } from "../../functions/core/options";
import type { PipelineEvent } from "../../functions/ports";
import { LocalRuntimeError } from "../errors";
import type { EmulatorPorts, LocalFlavour } from "../flavour";
import { startFlavour } from "../runtime";
import { renditionsRoute } from "./renditions";
import { LOCAL_STORAGE_ACCESS, LOCAL_STORAGE_PATH } from "./storage";
import { watchUploads, type UploadWatcher } from "./uploads";

/**
 * `npm start -- serve`: the HTTP API (functions/api/app.ts) on 127.0.0.1 over one local
 * flavour's emulators and pipeline, the renditions as the CDN serves them, and the page.
 * Paths: `/api/...` (as on Azure, whose function host prefixes `api`), `/renditions/<key>`
 * (the CDN), `/` (local/serve/page/). The browser uploads straight to the emulator with
 * the signed POST or SAS; each upload that lands there starts the flavour's workflow.
 */

export const API_BASE_PATH = "/api";
export const RENDITIONS_PATH = "/renditions";
const PAGE_DIR = path.join(__dirname, "page");
const PAGE_FILES: Record<string, string> = { "/": "index.html", "/index.html": "index.html", "/app.js": "app.js", "/style.css": "style.css" };
const PAGE_TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

export interface ServeOptions {
  cloud: Cloud;
  /** 0 (default in tests) picks a free port. */
  port: number;
  processing: ProcessingOptions;
  /** The stack's `api` block (auth, URL lifetimes); default: auth `none`. */
  api?: ApiSettingsInput;
  /** Replaces the configured authentication (tests: a local key set). */
  authenticate?: Authenticator;
  emulatorPorts?: EmulatorPorts;
  retryDelayMs?: number;
  /** How often the uploads store is looked at for new uploads (default 250 ms). */
  pollMs?: number;
  onEvent?: (event: PipelineEvent) => void;
  /** The API's clock (tests: signing URLs that are already expired). */
  now?: () => Date;
  /** Unexpected errors' details (the API's 500s, failed runs). */
  log?: (entry: Record<string, unknown>) => void;
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  apiUrl: string;
  flavour: LocalFlavour;
  stop(): Promise<void>;
}

/**
 * Listens first (a taken port fails before any emulator starts), then starts the flavour.
 *
 * @throws {LocalRuntimeError} SERVE_PORT_IN_USE; EMULATOR_PORT_IN_USE / EMULATOR_FAILED from the flavour.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  let handle: (request: Request, env: unknown) => Response | Promise<Response> = () => new Response("starting", { status: 503 });
  // The adapter's bindings (the Node request) travel on: the API reads the socket's address from them.
  const server = createAdaptorServer({ fetch: (request: Request, env: unknown) => handle(request, env), hostname: "127.0.0.1" }) as Server;
  const port = await listen(server, options.port);
  const url = `http://127.0.0.1:${port}`;
  const stops: Array<() => Promise<void>> = [() => close(server)];
  try {
    const flavour = await startFlavour(options.cloud, {
      processing: options.processing,
      notifier: { publish: async (event) => options.onEvent?.(event) },
      emulatorPorts: options.emulatorPorts,
      retryDelayMs: options.retryDelayMs,
    });
    stops.unshift(() => flavour.stop());
    const storage = LOCAL_STORAGE_ACCESS[options.cloud](flavour, url);
    stops.unshift(async () => storage.close());
    await storage.allowBrowserUploads(url);

    const watcher: UploadWatcher = watchUploads(flavour, { pollMs: options.pollMs ?? 250, log: options.log });
    stops.unshift(() => watcher.stop());

    const api = createApiApp({
      ports: flavour.ports,
      signer: storage.signer,
      options: options.processing,
      settings: apiSettingsSchema.parse(options.api ?? {}),
      authenticate: options.authenticate,
      deliveryBaseUrl: `${url}${RENDITIONS_PATH}`,
      streaming: true,
      now: options.now,
      log: options.log,
      // One process serves every request here: its memory is the store every request shares.
      rateLimitStore: memoryRateLimitStore,
      clientIp: (c) => getConnInfo(c).remote.address,
    });
    const root = new Hono();
    root.route(API_BASE_PATH, api);
    root.route(RENDITIONS_PATH, renditionsRoute(flavour.ports.objects));
    if (storage.routes) root.route(LOCAL_STORAGE_PATH, storage.routes);
    root.get("/*", async (c) => {
      const file = PAGE_FILES[c.req.path];
      if (!file) return c.json({ code: "NOT_FOUND", message: `No page ${c.req.path}.` }, 404);
      c.header("Content-Type", PAGE_TYPES[path.extname(file)]);
      c.header("Cache-Control", "no-cache");
      return c.body(await readFile(path.join(PAGE_DIR, file), "utf8"));
    });
    handle = (request, env) => root.fetch(request, env);
    let stopped: Promise<void> | undefined;
    return {
      url,
      apiUrl: `${url}${API_BASE_PATH}`,
      flavour,
      stop: () => (stopped ??= runAll(stops)),
    };
  } catch (error) {
    await runAll(stops);
    throw error;
  }
}

async function runAll(stops: ReadonlyArray<() => Promise<void>>): Promise<void> {
  for (const stop of stops) await stop().catch(() => undefined);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE" || error.code === "EACCES"
          ? new LocalRuntimeError("SERVE_PORT_IN_USE", `Port ${port} on 127.0.0.1 is ${error.code === "EACCES" ? "not open to this user" : "taken"}; give another with --port, or stop what listens there (ss -ltnp 'sport = :${port}').`, { port }, { cause: error })
          : new LocalRuntimeError("EMULATOR_FAILED", `The local server could not listen on 127.0.0.1:${port} (${error.code ?? error.message}).`, { port }, { cause: error }),
      );
    };
    server.once("error", onError);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Open EventSource streams and keep-alive sockets would hold close() open.
    server.closeAllConnections();
  });
}
