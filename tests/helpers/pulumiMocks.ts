import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/**
 * A reusable Pulumi mock harness for component tests (AWS, Azure, policy).
 *
 * - records every resource the program registers (custom resources, components,
 *   providers, remote components) with its type, name, inputs, URN and parent type;
 * - answers with sensible outputs: the inputs, plus an `id`, a `name`, and for AWS
 *   an `arn` shaped like the real one (buckets, functions, roles, tables, topics,
 *   log groups, state machines, rules...), so ARNs can be asserted in policies;
 * - `call` (provider functions, `aws.getXxx`) throws on any token it was not told
 *   about: a test never passes on a silently mocked lookup. A few harmless AWS
 *   lookups are answered by default ({@link DEFAULT_CALLS}); pass `calls` for more.
 *
 * Usage (mocha): set the mocks in `before`, never at module load — mocha loads
 * every test file first, and each file's mocks replace the previous ones.
 * Importing a component module statically is fine: only constructing resources
 * needs the mocks. (A dynamic `await import()` of an extensionless .ts path does
 * not resolve under tsx/cjs.)
 *
 * ```ts
 * import { MyComponent } from "../../components/my";
 * let mocks: PulumiMocks;
 * before(async () => {
 *   mocks = await setupPulumiMocks({ stack: "dev", calls: { "azure-native:authorization:getClientConfig": () => ({ ... }) } });
 *   new MyComponent("x", { ... });
 *   await mocks.settle();   // every registration reached the mocks; a failed one (a throwing apply) throws here
 * });
 * it("creates one bucket", () => assert.equal(mocks.ofType("aws:s3/bucket:Bucket").length, 1));
 * it("names it", () => assert.equal(mocks.get("aws:s3/bucket:Bucket", "x-uploads").inputs.forceDestroy, undefined));
 * ```
 *
 * Pitfalls seen here:
 * - a `pulumi.asset.StringAsset("")` (empty text) never serializes under the mock
 *   engine: the registration hangs and so does `settle()`. Give stub assets content.
 * - remote components (awsx) are recorded with `custom: false` and their inputs,
 *   but their children are not built: give their outputs through `outputs`
 *   ({@link DEFAULT_OUTPUTS} covers `awsx:ec2:Vpc`).
 * - several components in one session are fine: give them distinct names and
 *   filter by name prefix.
 */

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Outputs the mocks answered with (inputs plus id/name/arn...). */
  state: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  id: string;
  /** False for component resources (including remote ones such as awsx). */
  custom: boolean;
  /** Provider reference (`urn::id`) when the resource was given an explicit provider. */
  provider?: string;
  /** Filled by {@link PulumiMocks.settle}: the URN, whose type chain shows the parents. */
  urn?: string;
  /**
   * Filled by {@link PulumiMocks.settle}: the type of the resource's parent
   * (the mock engine's URNs name the immediate parent's type only).
   */
  parentType?: string;
}

export interface RecordedCall {
  token: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  provider?: string;
}

export type CallHandler = (inputs: Record<string, any>) => Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type OutputsHandler = (args: pulumi.runtime.MockResourceArgs, defaults: MockDefaults) => Record<string, unknown>;

export interface MockDefaults {
  region: string;
  accountId: string;
}

export interface PulumiMocksOptions {
  project?: string;
  stack?: string;
  /** Run as `pulumi preview` (unknown outputs stay unknown). Default false. */
  preview?: boolean;
  region?: string;
  accountId?: string;
  /** Stack config, keys as Pulumi stores them (`image-pipeline:cloud`), values as strings. */
  config?: Record<string, string>;
  /** Provider functions the program may call, by token, merged over {@link DEFAULT_CALLS}. */
  calls?: Record<string, CallHandler>;
  /**
   * Extra outputs per resource type, merged over the defaults. Needed for remote
   * components (awsx), whose children the mock engine does not build.
   */
  outputs?: Record<string, OutputsHandler>;
}

/** Lookups answered unless a test overrides them: they have no side effects and fixed answers. */
export const DEFAULT_CALLS: Record<string, (inputs: Record<string, unknown>, defaults: MockDefaults) => Record<string, unknown>> = {
  // awsx.ec2.Vpc and aws.getAvailabilityZones ask for the zones of the region.
  "aws:index/getAvailabilityZones:getAvailabilityZones": (_inputs, { region }) => ({
    id: region,
    names: [`${region}a`, `${region}b`, `${region}c`],
    zoneIds: [`${region}-az1`, `${region}-az2`, `${region}-az3`],
    state: "available",
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": (_inputs, { accountId }) => ({
    id: accountId,
    accountId,
    arn: `arn:aws:iam::${accountId}:user/test`,
    userId: "AIDATEST",
  }),
  "aws:index/getRegion:getRegion": (inputs, defaults) => {
    const region = typeof inputs.region === "string" ? inputs.region : defaults.region;
    return { id: region, name: region, region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
  },
  "aws:index/getPartition:getPartition": () => ({ id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" }),
};

/** Outputs of remote components (built by their plugin, not by the mock engine). */
export const DEFAULT_OUTPUTS: Record<string, OutputsHandler> = {
  "awsx:ec2:Vpc": (args) => ({
    vpcId: `vpc-${args.name}`,
    privateSubnetIds: [`subnet-${args.name}-private-a`, `subnet-${args.name}-private-b`],
    publicSubnetIds: [`subnet-${args.name}-public-a`, `subnet-${args.name}-public-b`],
    isolatedSubnetIds: [`subnet-${args.name}-isolated-a`, `subnet-${args.name}-isolated-b`],
    // The real plugin returns resource references; plain `{ id }` objects stand in for them.
    routeTables: [{ id: `rtb-${args.name}-a` }, { id: `rtb-${args.name}-b` }],
  }),
};

export class PulumiMocks {
  readonly resources: RecordedResource[] = [];
  readonly calls: RecordedCall[] = [];
  /** Failures of the program while registering (a throwing `apply`, a rejected input): {@link settle} rethrows them. */
  readonly errors: unknown[] = [];

  constructor(private readonly options: Required<Pick<PulumiMocksOptions, "region" | "accountId">> & PulumiMocksOptions) {}

  /** The `pulumi.runtime.Mocks` implementation handed to `setMocks`. */
  readonly mocks: pulumi.runtime.Mocks = {
    newResource: (args) => {
      const defaults = { region: this.options.region, accountId: this.options.accountId };
      const physicalName = physicalNameOf(args);
      const id = args.id || defaultId(args.type, physicalName, defaults);
      const extra = { ...DEFAULT_OUTPUTS, ...this.options.outputs }[args.type]?.(args, defaults) ?? {};
      const state = { ...args.inputs, ...defaultOutputs(args.type, physicalName, id, defaults), ...extra };
      this.resources.push({ type: args.type, name: args.name, inputs: args.inputs, state, id, custom: args.custom ?? true, provider: args.provider || undefined });
      return { id, state };
    },
    call: (args) => {
      this.calls.push({ token: args.token, inputs: args.inputs, provider: args.provider || undefined });
      const defaults = { region: this.options.region, accountId: this.options.accountId };
      const custom = this.options.calls?.[args.token];
      if (custom) return custom(args.inputs);
      const builtIn = DEFAULT_CALLS[args.token];
      if (builtIn) return builtIn(args.inputs, defaults);
      throw new Error(`Unexpected call to ${args.token} (inputs ${JSON.stringify(args.inputs)}): mock it explicitly with \`calls\` if the program should make it.`);
    },
  };

  /** Resources of one type, in registration order. */
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The one resource with this type and name; throws if there is none or several. */
  get(type: string, name: string): RecordedResource {
    const found = this.resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
      const names = this.ofType(type).map((r) => r.name);
      throw new Error(`Expected one ${type} named ${name}, found ${found.length} (${type} names: ${names.join(", ") || "none"}).`);
    }
    return found[0]!;
  }

  /** Custom (cloud) resources only: no components, no providers. */
  customResources(): RecordedResource[] {
    return this.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
  }

  /** `{ type: count }` of custom resources, for inventory assertions. */
  typeCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.customResources()) counts[r.type] = (counts[r.type] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Forgets what was recorded (the mocks stay installed). */
  reset(): void {
    this.resources.length = 0;
    this.calls.length = 0;
    this.errors.length = 0;
  }

  /**
   * Waits until every pending registration reached the mocks (inputs resolved,
   * including promises such as a bundle build), then fills `urn` and `parentType`.
   */
  async settle(): Promise<void> {
    let count = -1;
    while (count !== this.resources.length) {
      count = this.resources.length;
      await waitForRpcs();
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.errors.length > 0) {
      const messages = [...new Set(this.errors.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e))))];
      throw new Error(`The program failed while registering resources:\n${messages.join("\n")}`);
    }
    const monitor = getMockMonitor();
    for (const urn of monitor?.resources.keys() ?? []) {
      const { type, name, parentTypes } = parseUrn(urn);
      for (const r of this.resources) {
        if (r.type === type && r.name === name && !r.urn) Object.assign(r, { urn, parentType: parentTypes[parentTypes.length - 1] });
      }
    }
  }
}

/**
 * Installs the mocks (replacing any earlier ones) and returns the recorder.
 * Call it in `before`, then construct the component under test.
 */
export async function setupPulumiMocks(options: PulumiMocksOptions = {}): Promise<PulumiMocks> {
  const harness = new PulumiMocks({ region: "eu-west-1", accountId: "123456789012", ...options });
  // A failed registration surfaces only as an unhandled rejection: collect it for settle().
  process.removeListener("unhandledRejection", activeRejectionListener);
  activeRejectionListener = (reason: unknown) => harness.errors.push(reason);
  process.on("unhandledRejection", activeRejectionListener);
  pulumi.runtime.setAllConfig(options.config ?? {});
  await pulumi.runtime.setMocks(harness.mocks, options.project ?? "image-pipeline", options.stack ?? "test", options.preview ?? false);
  return harness;
}

let activeRejectionListener: (reason: unknown) => void = () => undefined;

/** The value of an Output (or plain input), for assertions. Never resolves for unknowns in preview. */
export function outputValue<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(value).apply((v) => resolve(v as T)));
}

/**
 * Whether a resource type accepts `tags`, read from the provider SDK's own type
 * declarations, so the list of taggable types never goes stale.
 */
export function isTaggable(type: string): boolean {
  return acceptsInput(type, "tags");
}

/**
 * Whether a resource type has an input named `input` (e.g. `tags`, `region`),
 * read from `@pulumi/<pkg>/<module>/<resource>.d.ts` (its `<Type>Args`).
 * Unknown packages and types answer false.
 */
export function acceptsInput(type: string, input: string): boolean {
  const key = `${type}#${input}`;
  let answer = inputCache.get(key);
  if (answer === undefined) {
    const args = argsDeclaration(type);
    answer = args !== undefined && new RegExp(`\\n\\s+${input}\\?:`).test(args);
    inputCache.set(key, answer);
  }
  return answer;
}

const inputCache = new Map<string, boolean>();

function argsDeclaration(type: string): string | undefined {
  const match = /^([^:]+):([^:/]+)(?:\/([^:]+))?:([^:]+)$/.exec(type);
  if (!match) return undefined;
  const [, pkg, module, file, className] = match as unknown as [string, string, string, string | undefined, string];
  const root = path.join(__dirname, "..", "..", "node_modules", "@pulumi", pkg);
  const base = file ?? className.charAt(0).toLowerCase() + className.slice(1);
  const declaration = path.join(root, module === "index" ? "" : module, `${base}.d.ts`);
  if (!existsSync(declaration)) return undefined;
  const text = readFileSync(declaration, "utf8");
  const start = text.indexOf(`export interface ${className}Args {`);
  if (start < 0) return undefined;
  return text.slice(start, text.indexOf("\n}", start));
}

/** Parses `urn:pulumi:stack::project::parent$child::name`. */
export function parseUrn(urn: string): { type: string; name: string; parentTypes: string[] } {
  const parts = urn.split("::");
  const types = (parts[2] ?? "").split("$");
  return { type: types[types.length - 1] ?? "", name: parts.slice(3).join("::"), parentTypes: types.slice(0, -1) };
}

// ---------------------------------------------------------------------------

function physicalNameOf(args: pulumi.runtime.MockResourceArgs): string {
  const inputs = args.inputs as Record<string, unknown>;
  const explicit = [inputs.name, inputs.bucket].find((v) => typeof v === "string" && v.length > 0);
  return (explicit as string | undefined) ?? args.name;
}

function defaultId(type: string, physicalName: string, defaults: MockDefaults): string {
  const arn = awsArn(type, physicalName, defaults);
  // Topics and state machines are identified by their ARN in AWS.
  if (type === "aws:sns/topic:Topic" || type === "aws:sfn/stateMachine:StateMachine") return arn ?? physicalName;
  return type.startsWith("aws:") ? physicalName : `${physicalName}-id`;
}

function defaultOutputs(type: string, physicalName: string, id: string, defaults: MockDefaults): Record<string, unknown> {
  const outputs: Record<string, unknown> = { id, name: physicalName };
  const arn = awsArn(type, physicalName, defaults);
  if (arn) outputs.arn = arn;
  if (type === "aws:s3/bucket:Bucket") Object.assign(outputs, { bucket: physicalName, bucketDomainName: `${physicalName}.s3.amazonaws.com`, region: defaults.region });
  if (type === "aws:lambda/function:Function") outputs.invokeArn = `arn:aws:apigateway:${defaults.region}:lambda:path/2015-03-31/functions/${arn}/invocations`;
  return outputs;
}

function awsArn(type: string, name: string, { region, accountId }: MockDefaults): string | undefined {
  const match = /^aws:([^/:]+)\/[^:]+:(.+)$/.exec(type);
  if (!match) return undefined;
  const [, service, kind] = match as unknown as [string, string, string];
  switch (type) {
    case "aws:s3/bucket:Bucket":
      return `arn:aws:s3:::${name}`;
    case "aws:lambda/function:Function":
      return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
    case "aws:iam/role:Role":
      return `arn:aws:iam::${accountId}:role/${name}`;
    case "aws:iam/policy:Policy":
      return `arn:aws:iam::${accountId}:policy/${name}`;
    case "aws:cloudwatch/logGroup:LogGroup":
      return `arn:aws:logs:${region}:${accountId}:log-group:${name}`;
    case "aws:cloudwatch/eventRule:EventRule":
      return `arn:aws:events:${region}:${accountId}:rule/${name}`;
    case "aws:sfn/stateMachine:StateMachine":
      return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
    case "aws:dynamodb/table:Table":
      return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
    case "aws:sns/topic:Topic":
      return `arn:aws:sns:${region}:${accountId}:${name}`;
    case "aws:kms/key:Key":
      return `arn:aws:kms:${region}:${accountId}:key/${name}`;
    default:
      return `arn:aws:${service === "cloudwatch" ? "logs" : service}:${region}:${accountId}:${kind.charAt(0).toLowerCase()}${kind.slice(1)}/${name}`;
  }
}

interface MockMonitorLike {
  resources: Map<string, unknown>;
}

function getMockMonitor(): MockMonitorLike | undefined {
  const runtime = pulumi.runtime as unknown as { getMonitor?: () => unknown };
  const monitor = runtime.getMonitor?.();
  return monitor && typeof monitor === "object" && "resources" in monitor ? (monitor as MockMonitorLike) : undefined;
}

/** Pulumi's own "wait for outstanding RPCs" (what `disconnect` awaits); internal, hence the cast. */
async function waitForRpcs(): Promise<void> {
  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  await runtime.waitForRPCs?.();
}
