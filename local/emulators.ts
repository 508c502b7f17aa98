/**
 * Local stand-ins for the cloud services, on 127.0.0.1 only, each with its data in
 * a fresh temp folder that stop() removes. Ports default to free ones picked by the OS.
 *
 * Usage (the local runtime and the adapter tests share this setup):
 *
 *   import { startS3, startDynamo, startAzurite, provisionAws, provisionAzure } from "./emulators";
 *   import { createAwsPorts } from "../functions/aws/adapters";
 *   import { createAzurePorts } from "../functions/azure/adapters";
 *   import { JsonLinesNotifier } from "./notifier";
 *
 *   // AWS flavour: s3rver + dynalite, each in a child process.
 *   const s3 = await startS3();                // { endpoint, port, dir, stop }
 *   const dynamo = await startDynamo();        // { endpoint, port, stop }
 *   const names = { uploadsBucket: "uploads", renditionsBucket: "renditions", tableName: "jobs" };
 *   await provisionAws({ s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, ...names });
 *   const ports = createAwsPorts({ ...names, endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint,
 *     notifier: new JsonLinesNotifier({ file: ".local-runs/events.jsonl", print: true }) });
 *
 *   // Azure flavour: azurite as a child process (blob + table + queue).
 *   const azurite = await startAzurite();      // { blobEndpoint, tableEndpoint, queueEndpoint, connectionString, accountName, stop }
 *   await provisionAzure({ connectionString: azurite.connectionString, tableName: "jobs" });
 *   const azurePorts = createAzurePorts({ connectionString: azurite.connectionString, tableName: "jobs",
 *     notifier: new JsonLinesNotifier({ file: ".local-runs/events.jsonl" }) });
 *
 *   await Promise.all([s3.stop(), dynamo.stop(), azurite.stop()]);
 *
 * Failures are LocalRuntimeErrors: EMULATOR_PORT_IN_USE (a requested port is taken),
 * EMULATOR_FAILED (the emulator did not come up; the message carries its last output lines).
 */

import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BlobServiceClient } from "@azure/storage-blob";
import { TableClient } from "@azure/data-tables";
import { LOCAL_AWS_CREDENTIALS } from "../functions/aws/adapters";
import { JOBS_TABLE_KEY, OPEN_JOBS_INDEX } from "../functions/aws/contract";
import { CONTAINERS, type AzureContainers } from "../functions/azure/contract";
import { LocalRuntimeError } from "./errors";

const HOST = "127.0.0.1";

/**
 * Azurite's well-known development account. The key is public (Microsoft documents
 * it) and only ever accepted by the local emulator: never use it anywhere else.
 */
export const AZURITE_ACCOUNT_NAME = "devstoreaccount1";
export const AZURITE_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface S3Emulator {
  /** e.g. http://127.0.0.1:41234 — use with forcePathStyle. */
  endpoint: string;
  port: number;
  /** Where the objects live. */
  dir: string;
  stop(): Promise<void>;
}

export interface DynamoEmulator {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface AzuriteEmulator {
  /** e.g. http://127.0.0.1:41234/devstoreaccount1 */
  blobEndpoint: string;
  tableEndpoint: string;
  queueEndpoint: string;
  /** Local-only connection string with the well-known dev account key. */
  connectionString: string;
  accountName: string;
  blobPort: number;
  tablePort: number;
  queuePort: number;
  /** Azurite's workspace (`--location`), or its working folder with `inMemory`. */
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Shared helpers

function portInUse(emulator: string, port: number, cause?: unknown): LocalRuntimeError {
  return new LocalRuntimeError(
    "EMULATOR_PORT_IN_USE",
    `Port ${port} on ${HOST} is already in use, so the ${emulator} emulator cannot listen on it; ` +
      `stop whatever listens there (see \`ss -ltnp 'sport = :${port}'\`) or leave the port unset to use a free one.`,
    { emulator, port },
    { cause },
  );
}

/**
 * Ends an emulator host (SERVER_HOST, AZURITE_HOST): closing its IPC channel makes it quit (azurite's
 * host removing its folder); SIGKILL if it has not within 5 s.
 */
async function endChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  liveChildren.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.disconnect();
  else child.kill("SIGKILL");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Runs `stop` once however often it is called; later calls share the first one's promise. */
function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}

/** Resolves when something accepts TCP connections on the port (or rejects at the deadline). */
async function waitForPort(port: number, deadline: number): Promise<void> {
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: HOST, port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing accepted connections on ${HOST}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Fails early with EMULATOR_PORT_IN_USE when a requested port is taken. */
async function assertPortFree(emulator: string, port: number): Promise<void> {
  const probe = createTcpServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (error: NodeJS.ErrnoException) => reject(error.code === "EADDRINUSE" ? portInUse(emulator, port, error) : error));
    probe.listen(port, HOST, () => probe.close(() => resolve()));
  });
}

// ---------------------------------------------------------------------------
// Cleanup when the process ends without calling stop()

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHooksInstalled = false;

function cleanUpNow(): void {
  for (const child of liveChildren) child.kill("SIGKILL");
  liveChildren.clear();
  // A child killed a moment ago may still be writing its folder: retry, and never throw from an exit hook.
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch {
      // Left in the temp folder; the OS cleans it.
    }
  }
  liveDirs.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once("exit", cleanUpNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      // Someone else handles the signal (e.g. the CLI's graceful Ctrl-C): leave it to them; the exit hook still cleans up.
      if (process.listenerCount(signal) > 1) return;
      process.off(signal, onSignal);
      cleanUpNow();
      // Our listener disabled Node's default "exit on signal"; with it gone, re-raising ends the process as usual.
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

async function freshDir(prefix: string): Promise<string> {
  installExitHooks();
  const dir = await mkdtemp(join(tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

async function removeDir(dir: string): Promise<void> {
  liveDirs.delete(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
}

// ---------------------------------------------------------------------------
// S3 (s3rver) and DynamoDB (dynalite), each in a child process

/**
 * The host s3rver and dynalite run in, a child process as azurite is, so the local runtime's
 * process holds only what the cloud's functions would run: the cost meter times each handler
 * with this process's CPU (local/cost), and an emulator's work would otherwise count as the
 * function's. It reports `{ port }` (or `{ error }`) over IPC once listening, and quits as
 * soon as its IPC channel to us closes: when we stop it, and when this process ends in any way.
 * argv: [node, kind ("s3" | "dynamo"), port, the package's entry, s3rver's folder, its buckets as JSON].
 */
const SERVER_HOST = [
  "const [kind, port, entry, dir, buckets] = process.argv.slice(1);",
  "process.on('disconnect', () => process.exit(0));",
  "const failed = (error) => { process.send({ error: (error && (error.code || error.message)) || String(error) }, () => process.exit(1)); };",
  "(async () => {",
  "  let server;",
  "  if (kind === 's3') {",
  "    const S3rver = require(entry);",
  "    const s3rver = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory: dir, configureBuckets: JSON.parse(buckets).map((name) => ({ name })) });",
  "    await s3rver.configureBuckets();",
  // Our own server, not s3rver.run(): its listen() leaves EADDRINUSE as an uncaught 'error' event.
  "    server = require('node:http').createServer(s3rver.callback());",
  "    s3rver.httpServer = server;",
  "  } else {",
  "    server = require(entry)({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });",
  "  }",
  "  server.once('error', failed);",
  "  server.listen(Number(port), '127.0.0.1', () => process.send({ port: server.address().port }));",
  "})().catch(failed);",
].join("\n");

/**
 * Runs one server emulator in the SERVER_HOST child and waits until it listens.
 * @throws {LocalRuntimeError} EMULATOR_PORT_IN_USE, EMULATOR_FAILED (with the child's last output)
 */
async function startServerChild(emulator: string, args: { kind: "s3" | "dynamo"; port: number; entry: string; dir?: string; buckets?: string[] }): Promise<{ port: number; stop: () => Promise<void> }> {
  installExitHooks();
  const argv = ["-e", SERVER_HOST, args.kind, String(args.port), args.entry, args.dir ?? "", JSON.stringify(args.buckets ?? [])];
  // Own process group, as azurite's: a terminal's Ctrl-C reaches only us, so a graceful shutdown can still use the emulator.
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe", "ipc"], detached: true });
  child.channel?.unref();
  liveChildren.add(child);
  const output: string[] = [];
  const keep = (chunk: Buffer) => output.push(...chunk.toString("utf8").split(/\r?\n/).filter((line) => line.trim()));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const stop = once(() => endChild(child, exited));
  const failed = (reason: string, cause?: unknown) =>
    new LocalRuntimeError("EMULATOR_FAILED", `The ${emulator} emulator did not start: ${reason}. Its last output was:\n${output.slice(-10).join("\n") || "(nothing)"}`, { emulator, output: output.slice(-10) }, { cause });

  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      new Promise<{ port?: number; error?: string }>((resolve) => child.once("message", (message) => resolve(message as { port?: number; error?: string }))),
      exited.then(() => Promise.reject(failed(`it exited with code ${child.exitCode}`))),
      new Promise<never>((_, reject) => child.once("error", (error) => reject(failed(`it could not be spawned (${error.message})`, error)))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(failed("no answer within 30000 ms")), 30_000))),
    ]);
    if (answer.error === "EADDRINUSE") throw portInUse(emulator, args.port);
    if (answer.port === undefined) throw failed(`it could not listen on ${HOST}:${args.port} (${answer.error})`);
    return { port: answer.port, stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts an S3 API (s3rver) on 127.0.0.1 backed by a folder, in a child process.
 *
 * @param opts.port a fixed port (default: a free one)
 * @param opts.dir keep objects in this folder, which stop() leaves in place (default: a fresh temp folder, removed by stop())
 * @param opts.buckets buckets to create before the first request
 * @throws {LocalRuntimeError} EMULATOR_PORT_IN_USE, EMULATOR_FAILED
 */
export async function startS3(opts: { port?: number; dir?: string; buckets?: string[] } = {}): Promise<S3Emulator> {
  const dir = opts.dir ?? (await freshDir("image-pipeline-s3-"));
  try {
    const server = await startServerChild("S3 (s3rver)", { kind: "s3", port: opts.port ?? 0, entry: require.resolve("s3rver"), dir, buckets: opts.buckets });
    return {
      endpoint: `http://${HOST}:${server.port}`,
      port: server.port,
      dir,
      stop: once(async () => {
        await server.stop();
        if (!opts.dir) await removeDir(dir);
      }),
    };
  } catch (error) {
    if (!opts.dir) await removeDir(dir);
    throw error;
  }
}

/**
 * Starts a DynamoDB API (dynalite) on 127.0.0.1, in memory, in a child process.
 *
 * @throws {LocalRuntimeError} EMULATOR_PORT_IN_USE, EMULATOR_FAILED
 */
export async function startDynamo(opts: { port?: number } = {}): Promise<DynamoEmulator> {
  const server = await startServerChild("DynamoDB (dynalite)", { kind: "dynamo", port: opts.port ?? 0, entry: require.resolve("dynalite") });
  return { endpoint: `http://${HOST}:${server.port}`, port: server.port, stop: server.stop };
}

// ---------------------------------------------------------------------------
// Azure Storage (azurite, child process)

export interface AzuriteOptions {
  blobPort?: number;
  tablePort?: number;
  queuePort?: number;
  /** Keep data in memory instead of the temp folder (azurite forbids both at once). */
  inMemory?: boolean;
  /** Milliseconds to wait for all three services to accept connections (default 30 s). */
  startTimeoutMs?: number;
  /** Node/V8 flags for azurite's process, e.g. the local runtime's heap growth (local/heap.ts). */
  nodeFlags?: string[];
}

/**
 * Runs azurite inside a small host (`node -e`): it quits, removing azurite's temp
 * folder, as soon as its IPC channel to us closes: when we stop it, and when this
 * process ends in any way, SIGKILL included (the kernel closes the channel). Azurite
 * answers SIGTERM by closing its servers gracefully, which waits for open keep-alive
 * connections, so a signal alone could leave it running.
 * argv: [node, azurite entry, folder to remove, ...azurite's own arguments].
 */
const AZURITE_HOST = [
  "const [entry, dir, ...args] = process.argv.slice(1);",
  "const removeDir = () => { try { require('node:fs').rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }); } catch {} };",
  "process.on('exit', removeDir);",
  "process.on('disconnect', () => process.exit(0));",
  "process.argv = [process.argv[0], entry, ...args];",
  "require(entry);",
].join("\n");

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/;

function azuriteEntry(): string {
  return join(dirname(require.resolve("azurite/package.json")), "dist", "src", "azurite.js");
}

/**
 * Starts azurite (Blob, Table and Queue APIs) as a child process on 127.0.0.1, in a
 * fresh temp folder. The child is killed when this process exits.
 *
 * @throws {LocalRuntimeError} EMULATOR_PORT_IN_USE when a requested port is taken; EMULATOR_FAILED (with azurite's last output) when it does not come up.
 */
export async function startAzurite(opts: AzuriteOptions = {}): Promise<AzuriteEmulator> {
  const requested = { blob: opts.blobPort ?? 0, table: opts.tablePort ?? 0, queue: opts.queuePort ?? 0 };
  for (const port of Object.values(requested)) if (port !== 0) await assertPortFree("Azure Storage (azurite)", port);

  const dir = await freshDir("image-pipeline-azurite-");
  const args = [
    ...(opts.nodeFlags ?? []),
    "-e",
    AZURITE_HOST,
    azuriteEntry(),
    dir,
    "--disableTelemetry",
    "--silent",
    "--skipApiVersionCheck",
    "--loose",
    ...["--blobHost", HOST, "--blobPort", String(requested.blob)],
    ...["--tableHost", HOST, "--tablePort", String(requested.table)],
    ...["--queueHost", HOST, "--queuePort", String(requested.queue)],
    ...(opts.inMemory ? ["--inMemoryPersistence"] : ["--location", dir]),
  ];
  // Custom accounts in the environment would replace the dev account the connection string names.
  const env = { ...process.env };
  delete env.AZURITE_ACCOUNTS;
  // Own process group: a terminal's Ctrl-C reaches only us, so a graceful shutdown can still use azurite; it ends with us (AZURITE_HOST).
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe", "ipc"], env, detached: true });
  // The channel is azurite's lifeline, not a reason to keep this process running.
  child.channel?.unref();
  liveChildren.add(child);

  const output: string[] = [];
  const ports: Partial<Record<"Blob" | "Queue" | "Table", number>> = {};
  let announced: () => void = () => undefined;
  const allAnnounced = new Promise<void>((resolve) => (announced = resolve));
  const partial = { stdout: "", stderr: "" };
  const collect = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
    // A chunk may end mid-line: keep the rest for the next one.
    const lines = (partial[stream] + chunk.toString("utf8")).split(/\r?\n/);
    partial[stream] = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 20) output.shift();
      const match = LISTENING.exec(line);
      if (match) ports[match[1] as "Blob" | "Queue" | "Table"] = Number(match[2]);
      if (ports.Blob && ports.Queue && ports.Table) announced();
    }
  };
  child.stdout?.on("data", collect("stdout"));
  child.stderr?.on("data", collect("stderr"));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const spawnFailed = new Promise<Error>((resolve) => child.once("error", resolve));

  const stop = once(async () => {
    await endChild(child, exited);
    await removeDir(dir);
  });

  const failed = (reason: string, cause?: unknown): LocalRuntimeError => {
    for (const rest of [partial.stdout, partial.stderr]) if (rest.trim()) output.push(rest);
    const inUse = output.find((line) => line.includes("EADDRINUSE"));
    if (inUse) return portInUse("Azure Storage (azurite)", Number(/:(\d+)\s*$/.exec(inUse)?.[1] ?? 0), cause);
    return new LocalRuntimeError(
      "EMULATOR_FAILED",
      `Azurite did not start: ${reason}. Its last output was:\n${output.slice(-10).join("\n") || "(nothing)"}`,
      { emulator: "azurite", output: output.slice(-10) },
      { cause },
    );
  };

  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      allAnnounced.then(() => Promise.all([ports.Blob, ports.Table, ports.Queue].map((port) => waitForPort(port as number, deadline)))),
      exited.then((code) => Promise.reject(failed(`it exited with code ${code}`))),
      spawnFailed.then((error) => Promise.reject(failed(`it could not be spawned (${error.message})`, error))),
      new Promise((_, reject) => (timer = setTimeout(() => reject(failed(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (error) {
    await stop();
    throw error instanceof LocalRuntimeError ? error : failed(String((error as Error)?.message ?? error), error);
  } finally {
    clearTimeout(timer);
  }

  const blobPort = ports.Blob as number;
  const tablePort = ports.Table as number;
  const queuePort = ports.Queue as number;
  const blobEndpoint = `http://${HOST}:${blobPort}/${AZURITE_ACCOUNT_NAME}`;
  const tableEndpoint = `http://${HOST}:${tablePort}/${AZURITE_ACCOUNT_NAME}`;
  const queueEndpoint = `http://${HOST}:${queuePort}/${AZURITE_ACCOUNT_NAME}`;
  return {
    blobEndpoint,
    tableEndpoint,
    queueEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
      `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`,
    accountName: AZURITE_ACCOUNT_NAME,
    blobPort,
    tablePort,
    queuePort,
    dir,
    pid: child.pid as number,
    stop,
  };
}

// ---------------------------------------------------------------------------
// Provisioning: what the Pulumi program creates in the cloud, created here

export interface AwsProvisioning {
  s3Endpoint: string;
  dynamoEndpoint: string;
  uploadsBucket: string;
  renditionsBucket: string;
  tableName: string;
}

function hasName(error: unknown, ...names: string[]): boolean {
  return names.includes((error as { name?: string } | undefined)?.name ?? "");
}

/** Creates the buckets and the jobs table (keyed `jobId`); existing ones are kept. */
export async function provisionAws(settings: AwsProvisioning): Promise<void> {
  const common = { region: "us-east-1", credentials: LOCAL_AWS_CREDENTIALS, maxAttempts: 2 };
  const s3 = new S3Client({ ...common, endpoint: settings.s3Endpoint, forcePathStyle: true });
  const dynamo = new DynamoDBClient({ ...common, endpoint: settings.dynamoEndpoint });
  try {
    for (const Bucket of new Set([settings.uploadsBucket, settings.renditionsBucket])) {
      await s3.send(new CreateBucketCommand({ Bucket })).catch((error: unknown) => {
        if (!hasName(error, "BucketAlreadyOwnedByYou", "BucketAlreadyExists")) throw error;
      });
    }
    await dynamo
      .send(
        new CreateTableCommand({
          TableName: settings.tableName,
          AttributeDefinitions: [JOBS_TABLE_KEY, OPEN_JOBS_INDEX.partitionKey, OPEN_JOBS_INDEX.sortKey].map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
          KeySchema: [{ AttributeName: JOBS_TABLE_KEY, KeyType: "HASH" }],
          GlobalSecondaryIndexes: [
            {
              IndexName: OPEN_JOBS_INDEX.name,
              KeySchema: [
                { AttributeName: OPEN_JOBS_INDEX.partitionKey, KeyType: "HASH" },
                { AttributeName: OPEN_JOBS_INDEX.sortKey, KeyType: "RANGE" },
              ],
              Projection: { ProjectionType: OPEN_JOBS_INDEX.projection },
            },
          ],
          BillingMode: "PAY_PER_REQUEST",
        }),
      )
      .catch((error: unknown) => {
        if (!hasName(error, "ResourceInUseException")) throw error;
      });
  } finally {
    s3.destroy();
    dynamo.destroy();
  }
}

export interface AzureProvisioning {
  connectionString: string;
  containers?: AzureContainers;
  tableName: string;
}

/** Creates the containers and the jobs table; existing ones are kept. */
export async function provisionAzure(settings: AzureProvisioning): Promise<void> {
  const blobs = BlobServiceClient.fromConnectionString(settings.connectionString);
  const containers = { ...CONTAINERS, ...settings.containers };
  for (const name of new Set(Object.values(containers))) await blobs.getContainerClient(name).createIfNotExists();
  // createTable treats "already exists" as success.
  await TableClient.fromConnectionString(settings.connectionString, settings.tableName, { allowInsecureConnection: true }).createTable();
}
