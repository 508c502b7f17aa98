import { createServer, request as forward, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DescribeTableCommand, DynamoDBClient, GetItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { LOCAL_AWS_CREDENTIALS } from "../../functions/aws/adapters";
import { indexWriteUnits, readUnits, tableWriteUnits, type TableShape, type WireItem } from "./dynamoUnits";
import type { Meter, Service } from "./meter";

/**
 * A counting HTTP proxy on 127.0.0.1 in front of one emulator (s3rver, dynalite,
 * azurite's Blob or Table service): it forwards every request unchanged (headers
 * included, so signatures still match) and records what the cloud would bill for
 * it: the operation (S3: method + query; Azure: method + `comp`/`restype`), the
 * bytes moved, and for DynamoDB the read/write units from the items' sizes.
 * Only the step handlers' clients point at it: the local runtime's own uploads,
 * reads of results and clean-up go straight to the emulator and are not counted.
 */

export type ProxiedService = "s3" | "dynamodb" | "blob" | "table";

export interface MeteringProxy {
  /** Same scheme, host and path as the target, on the proxy's port. */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface Classified {
  op: string;
  /** The object key (inside its bucket/container) or table key, for attribution. */
  resource?: string;
}

function query(url: URL): Set<string> {
  return new Set([...url.searchParams.keys()]);
}

/** Path-style S3 request → operation name (as S3 bills it) and object key. */
export function classifyS3(method: string, url: URL, headers: IncomingHttpHeaders): Classified {
  const [, bucket = "", ...rest] = url.pathname.split("/");
  const key = decodeURIComponent(rest.join("/"));
  const q = query(url);
  const onObject = key !== "";
  const resource = onObject ? key : undefined;
  switch (method) {
    case "PUT":
      if (!onObject) return { op: bucket ? "CreateBucket" : "Other" };
      if (headers["x-amz-copy-source"]) return { op: q.has("partNumber") ? "UploadPartCopy" : "CopyObject", resource };
      return { op: q.has("partNumber") ? "UploadPart" : "PutObject", resource };
    case "POST":
      if (q.has("delete")) return { op: "DeleteObjects" };
      if (q.has("uploads")) return { op: "CreateMultipartUpload", resource };
      if (q.has("uploadId")) return { op: "CompleteMultipartUpload", resource };
      return { op: "PostObject", resource };
    case "GET":
      if (onObject) return { op: "GetObject", resource };
      return { op: url.searchParams.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects", resource: url.searchParams.get("prefix") ?? undefined };
    case "HEAD":
      return { op: onObject ? "HeadObject" : "HeadBucket", resource };
    case "DELETE":
      return { op: onObject ? "DeleteObject" : "DeleteBucket", resource };
    default:
      return { op: `Other${method}`, resource };
  }
}

/** Azure Blob request (`/<account>/<container>/<blob>`) → operation name and blob name. */
export function classifyBlob(method: string, url: URL, headers: IncomingHttpHeaders): Classified {
  const [, , container = "", ...rest] = url.pathname.split("/");
  const blob = decodeURIComponent(rest.join("/"));
  const comp = url.searchParams.get("comp");
  const restype = url.searchParams.get("restype");
  const resource = blob || undefined;
  if (restype === "container") {
    if (comp === "list") return { op: "ListBlobs", resource: url.searchParams.get("prefix") ?? undefined };
    if (method === "PUT") return { op: "CreateContainer" };
    if (method === "DELETE") return { op: "DeleteContainer" };
    return { op: "GetContainerProperties" };
  }
  if (comp === "list") return { op: container ? "ListBlobs" : "ListContainers" };
  switch (method) {
    case "PUT":
      if (comp === "block") return { op: "PutBlock", resource };
      if (comp === "blocklist") return { op: "PutBlockList", resource };
      if (comp === "lease") return { op: "LeaseBlob", resource };
      if (comp === "metadata") return { op: "SetBlobMetadata", resource };
      if (comp === "properties") return { op: "SetBlobProperties", resource };
      if (comp === "tier") return { op: "SetBlobTier", resource };
      if (headers["x-ms-copy-source"]) return { op: "CopyBlob", resource };
      return { op: "PutBlob", resource };
    case "GET":
      if (comp === "blocklist") return { op: "GetBlockList", resource };
      if (comp === "metadata") return { op: "GetBlobMetadata", resource };
      return { op: "GetBlob", resource };
    case "HEAD":
      return { op: "GetBlobProperties", resource };
    case "DELETE":
      return { op: "DeleteBlob", resource };
    default:
      return { op: `Other${method}`, resource };
  }
}

/** Azure Table request (`/<account>/<table>(PartitionKey='..',RowKey='..')`) → operation name and entity key. */
export function classifyTable(method: string, url: URL, headers: IncomingHttpHeaders, body?: Buffer): Classified {
  const path = decodeURIComponent(url.pathname);
  const entity = /\(PartitionKey='([^']*)',\s*RowKey='([^']*)'\)/.exec(path);
  const resource = entity ? `${entity[1]}/${decodeURIComponent(entity[2])}` : undefined;
  if (path.endsWith("/$batch")) return { op: "EntityGroupTransaction" };
  if (/\/Tables(\(|$)/.test(path)) return { op: method === "POST" ? "CreateTable" : method === "DELETE" ? "DeleteTable" : "QueryTables" };
  const tunnelled = String(headers["x-http-method"] ?? "").toUpperCase();
  const verb = method === "POST" && tunnelled ? tunnelled : method;
  switch (verb) {
    case "GET":
      return { op: entity ? "GetEntity" : "QueryEntities", resource };
    case "POST": {
      let rowKey: string | undefined;
      try {
        rowKey = (JSON.parse(body?.toString("utf8") ?? "{}") as { RowKey?: string }).RowKey;
      } catch {
        rowKey = undefined;
      }
      return { op: "InsertEntity", resource: rowKey };
    }
    case "PUT":
      return { op: "UpdateEntity", resource };
    case "MERGE":
    case "PATCH":
      return { op: "MergeEntity", resource };
    case "DELETE":
      return { op: "DeleteEntity", resource };
    default:
      return { op: `Other${verb}`, resource };
  }
}

const SERVICE: Record<ProxiedService, Service> = { s3: "s3", dynamodb: "dynamodb", blob: "blob", table: "table" };

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends one request to the target and buffers the answer. */
function send(target: URL, request: IncomingMessage, body: Buffer): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const outgoing = forward({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers }, (response) => {
      readAll(response).then((buffer) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: buffer }), reject);
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

function reply(response: ServerResponse, exchange: Exchange): void {
  response.writeHead(exchange.status, exchange.headers);
  response.end(exchange.body);
}

/** DynamoDB: the key schema and indexes of each table, and an uncounted side channel to read items before and after a write. */
class DynamoSide {
  private readonly client: DynamoDBClient;
  private readonly shapes = new Map<string, Promise<TableShape>>();

  constructor(endpoint: string) {
    this.client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: LOCAL_AWS_CREDENTIALS, maxAttempts: 1 });
  }

  shape(tableName: string): Promise<TableShape> {
    let shape = this.shapes.get(tableName);
    if (!shape) {
      shape = this.client.send(new DescribeTableCommand({ TableName: tableName })).then(({ Table }) => ({
        keys: (Table?.KeySchema ?? []).map((key) => key.AttributeName as string),
        indexes: (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
          name: index.IndexName as string,
          keys: (index.KeySchema ?? []).map((key) => key.AttributeName as string),
          projection: (index.Projection?.ProjectionType ?? "ALL") as "ALL" | "KEYS_ONLY" | "INCLUDE",
          include: index.Projection?.NonKeyAttributes,
        })),
      }));
      this.shapes.set(tableName, shape);
    }
    return shape;
  }

  async item(tableName: string, key: WireItem): Promise<WireItem | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: tableName, Key: key as unknown as Record<string, AttributeValue>, ConsistentRead: true }));
    return Item as WireItem | undefined;
  }

  destroy(): void {
    this.client.destroy();
  }
}

interface DynamoRequest {
  TableName?: string;
  Key?: WireItem;
  Item?: WireItem;
  ConsistentRead?: boolean;
  IndexName?: string;
}

const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem"]);
const jobKeyOf = (item: WireItem | undefined) => (item?.jobId?.S as string | undefined) ?? undefined;

/** Forwards one DynamoDB call and records its request and its units (table and each index). */
async function meterDynamo(target: URL, side: DynamoSide, meter: Meter, request: IncomingMessage, body: Buffer): Promise<Exchange> {
  const action = String(request.headers["x-amz-target"] ?? "").split(".").pop() ?? "Unknown";
  const input = JSON.parse(body.toString("utf8") || "{}") as DynamoRequest;
  const tableName = input.TableName ?? "";
  const shape = WRITES.has(action) ? await side.shape(tableName) : undefined;
  const key = input.Key ?? (input.Item && shape ? Object.fromEntries(shape.keys.map((name) => [name, (input.Item as WireItem)[name]])) : undefined);
  const before = shape && key ? await side.item(tableName, key) : undefined;
  const exchange = await send(target, request, body);
  const resource = jobKeyOf(key) ?? jobKeyOf(input.Item);
  meter.record({ service: "dynamodb", op: action, resource });
  const failedCondition = exchange.status === 400 && exchange.body.toString("utf8").includes("ConditionalCheckFailedException");
  if (shape && key) {
    // A failed conditional write still consumes write units for the item as it is.
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#write-operation-consumption
    const after = failedCondition ? before : exchange.status === 200 && action !== "DeleteItem" ? await side.item(tableName, key) : action === "DeleteItem" ? undefined : before;
    if (exchange.status === 200 || failedCondition) {
      meter.record({ service: "dynamodb", op: "WriteRequestUnits", units: tableWriteUnits(before, after), resource });
      if (!failedCondition) {
        for (const [index, units] of Object.entries(indexWriteUnits(before, after, shape))) {
          meter.record({ service: "dynamodb", op: `WriteRequestUnits:${index}`, units, resource });
        }
      }
    }
  } else if ((action === "GetItem" || action === "Query") && exchange.status === 200) {
    const output = JSON.parse(exchange.body.toString("utf8") || "{}") as { Item?: WireItem; Items?: WireItem[] };
    const items = action === "GetItem" ? (output.Item ? [output.Item] : []) : (output.Items ?? []);
    // Index queries are eventually consistent; GetItem as asked.
    meter.record({ service: "dynamodb", op: "ReadRequestUnits", units: readUnits(items, input.ConsistentRead === true && !input.IndexName), resource });
  }
  return exchange;
}

/**
 * Starts a counting proxy for `target` (an emulator's endpoint) on 127.0.0.1.
 *
 * @example
 * const proxy = await startMeteringProxy({ service: "s3", target: s3.endpoint, meter });
 * createAwsPorts({ ..., endpoint: proxy.endpoint });
 */
export async function startMeteringProxy(options: { service: ProxiedService; target: string; meter: Meter }): Promise<MeteringProxy> {
  const { service, meter } = options;
  const target = new URL(options.target);
  const side = service === "dynamodb" ? new DynamoSide(`${target.protocol}//${target.host}`) : undefined;
  const server: Server = createServer((request, response) => {
    const handle = async () => {
      const body = await readAll(request);
      const url = new URL(request.url ?? "/", "http://proxy");
      if (service === "dynamodb") return reply(response, await meterDynamo(target, side as DynamoSide, meter, request, body));
      const method = request.method ?? "GET";
      const classified =
        service === "s3" ? classifyS3(method, url, request.headers) : service === "blob" ? classifyBlob(method, url, request.headers) : classifyTable(method, url, request.headers, body);
      const exchange = await send(target, request, body);
      meter.record({ service: SERVICE[service], op: classified.op, resource: classified.resource, bytes: body.length + (method === "HEAD" ? 0 : exchange.body.length) });
      reply(response, exchange);
    };
    handle().catch((error: Error) => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`metering proxy: ${error.message}`);
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
  const path = target.pathname === "/" ? "" : target.pathname;
  return {
    endpoint: `${target.protocol}//127.0.0.1:${port}${path}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        side?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
