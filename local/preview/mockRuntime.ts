import * as pulumi from "@pulumi/pulumi";
import { LOCAL_CLOUDS } from "../clouds";
import { fakeUuid, hex, isUnknownValue, UNKNOWN_VALUE, type FakeContext } from "./fakes";

export { isUnknownValue, UNKNOWN_VALUE };

/**
 * The offline preview's stand-in for the Pulumi engine: Pulumi's own mock
 * monitor (`pulumi.runtime.setMocks`, preview mode) with
 * - every registration recorded the way the engine would see it (type, name,
 *   parent, provider, inputs after transforms, dependencies, property dependencies);
 * - plausible fake outputs (ids, ARNs, names, endpoints) so the program's
 *   `apply`s run and policies see complete documents;
 * - answers for the data sources this program calls; any other token fails
 *   loudly instead of returning an empty object.
 * Resource and stack transforms are applied here, as the engine would.
 */

export type PlainValue = unknown;

const CLOUD_FAKES = Object.values(LOCAL_CLOUDS).map((cloud) => cloud.previewFakes);

/** Fake id and outputs for a resource the program registers, from the fakes of the cloud whose package it belongs to. */
export function fakeResource(ctx: FakeContext): { id: string | undefined; state: Record<string, unknown> } {
  if (ctx.type.startsWith("pulumi:providers:")) return { id: fakeUuid(ctx.urn), state: { ...ctx.inputs } };
  const fakes = CLOUD_FAKES.find((candidate) => candidate.typePrefixes.some((prefix) => ctx.type.startsWith(prefix)));
  return fakes ? fakes.resource(ctx) : { id: `${ctx.name}-${hex(ctx.urn, 7)}`, state: { ...ctx.inputs } };
}

/**
 * Answers a data-source call with plausible fake values.
 * @throws {Error} for a token the offline preview does not know.
 */
export function fakeCall(token: string, inputs: Record<string, unknown>, providerInputs: Record<string, unknown> | undefined, config: Record<string, string>): Record<string, unknown> {
  for (const fakes of CLOUD_FAKES) {
    const answer = fakes.call(token, inputs, providerInputs, config);
    if (answer) return answer;
  }
  throw new Error(`The offline preview has no fake answer for the data source "${token}"; add one to local/<cloud>/previewFakes.ts.`);
}

export interface ProviderRef {
  urn: string;
  id: string;
}

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  /** Explicit provider reference; undefined means the default provider of the package. */
  provider?: ProviderRef;
  /** Inputs as the engine sees them (after transforms): plain data, unknowns as {@link UNKNOWN_VALUE}. */
  inputs: Record<string, PlainValue>;
  /** Outputs the mock returned (inputs plus faked computed values). */
  outputs: Record<string, PlainValue>;
  id?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  protect: boolean;
  ignoreChanges: string[];
  additionalSecretOutputs: string[];
  /** Registration order. */
  index: number;
}

export interface MockRuntimeOptions {
  project: string;
  stack: string;
  /** `namespace:key` → string, as the language host passes config. */
  config: Record<string, string>;
  secretKeys?: string[];
}

// ------------------------------------------------------------------ plain values

/**
 * Converts a deserialized-to-JS protobuf struct (with Pulumi's special
 * signatures) to plain data: secrets unwrapped, resource references replaced by
 * their id (custom) or URN (component), assets and archives summarized.
 */
export function toPlain(value: unknown): PlainValue {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const sig = record[pulumi.runtime.specialSigKey];
  if (sig === pulumi.runtime.specialSecretSig) return toPlain(record.value);
  if (sig === pulumi.runtime.specialResourceSig) return typeof record.id === "string" && record.id !== "" ? record.id : record.urn;
  if (sig === pulumi.runtime.specialOutputValueSig) return "value" in record ? toPlain(record.value) : UNKNOWN_VALUE;
  if (sig === pulumi.runtime.specialAssetSig) return { asset: record.path ?? record.uri ?? "(inline text)" };
  if (sig === pulumi.runtime.specialArchiveSig) return { archive: record.path ?? record.uri ?? `(${Object.keys((record.assets as object) ?? {}).length} assets)` };
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) copy[k] = toPlain(v);
  return copy;
}


// ------------------------------------------------------------------ the runtime

interface MonitorRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): { toJavaScript(): unknown } | undefined;
  getProvider(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (value: { getUrnsList(): string[] }, key: string) => void): void };
  getProtect(): boolean;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
}

interface MockMonitorLike {
  registerResource(req: MonitorRequest, callback: (err: unknown, resp: unknown) => void): Promise<void>;
  invoke(req: unknown, callback: (err: unknown, resp: unknown) => void): Promise<void>;
  readResource(req: unknown, callback: (err: unknown, resp: unknown) => void): Promise<void>;
}

function parseProviderRef(ref: string): ProviderRef | undefined {
  if (!ref) return undefined;
  const at = ref.lastIndexOf("::");
  return at < 0 ? undefined : { urn: ref.slice(0, at), id: ref.slice(at + 2) };
}

function newUrn(project: string, stack: string, parent: string, type: string, name: string): string {
  let qualified = type;
  if (parent) qualified = `${parent.split("::")[2].split("$").pop()}$${type}`;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

export interface MockRuntime {
  /** Every resource registered so far, in registration order. */
  readonly resources: RecordedResource[];
  /** Waits until the program has registered everything and all outputs have settled. */
  settle(timeoutMs?: number): Promise<void>;
  /** Inputs of the explicit provider a resource uses, if any. */
  providerInputs(ref: ProviderRef | undefined): Record<string, unknown> | undefined;
}

/**
 * Installs the mock runtime for one preview: config, mocks (preview mode) and
 * the recorder. Call before importing the program.
 */
export async function startMockRuntime(options: MockRuntimeOptions): Promise<MockRuntime> {
  const { project, stack, config } = options;
  const resources: RecordedResource[] = [];
  const byUrn = new Map<string, RecordedResource>();
  const ownTransforms = new Map<string, pulumi.ResourceTransform[]>();
  const stackTransforms: pulumi.ResourceTransform[] = [];
  /** Requests waiting for their newResource call, by type and name. */
  const waiting = new Map<string, MonitorRequest[]>();
  let pending = 0;
  let operations = 0;

  const providerInputs = (ref: ProviderRef | undefined) => (ref ? byUrn.get(ref.urn)?.inputs : undefined);

  const mocks: pulumi.runtime.Mocks = {
    async newResource(args) {
      const queue = waiting.get(`${args.type}::${args.name}`);
      const req = queue?.shift();
      if (!req) throw new Error(`The offline preview lost track of the registration of ${args.type} "${args.name}".`);
      const parent = req.getParent() || undefined;
      const urn = newUrn(project, stack, req.getParent(), args.type, args.name);
      const provider = parseProviderRef(req.getProvider());
      let inputs = (toPlain(req.getObject()?.toJavaScript() ?? {}) ?? {}) as Record<string, unknown>;

      // The engine applies the resource's own transforms, then its ancestors', then the stack's.
      const chain: pulumi.ResourceTransform[] = [...(args.transforms ?? [])];
      for (let p = parent; p; p = byUrn.get(p)?.parent) chain.push(...(ownTransforms.get(p) ?? []));
      chain.push(...stackTransforms);
      for (const transform of chain) {
        const result = await transform({ custom: args.custom ?? false, type: args.type, name: args.name, props: inputs, opts: {} });
        if (result?.props) {
          const serialized = await pulumi.runtime.serializeProperties(`transform of ${args.name}`, result.props);
          inputs = toPlain(serialized) as Record<string, unknown>;
        }
      }
      if (args.transforms?.length) ownTransforms.set(urn, args.transforms);

      const propertyDependencies: Record<string, string[]> = {};
      req.getPropertydependenciesMap().forEach((value, key) => (propertyDependencies[key] = value.getUrnsList()));
      const custom = args.custom ?? false;
      const fake = custom ? fakeResource({ urn, type: args.type, name: args.name, inputs, providerInputs: providerInputs(provider), config }) : { id: undefined, state: {} };
      const record: RecordedResource = {
        urn,
        type: args.type,
        name: args.name,
        custom,
        parent,
        provider,
        inputs,
        outputs: fake.state,
        id: fake.id,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        protect: req.getProtect(),
        ignoreChanges: req.getIgnorechangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        index: resources.length,
      };
      resources.push(record);
      byUrn.set(urn, record);
      return fake;
    },
    call(args) {
      try {
        return fakeCall(args.token, (toPlain(args.inputs) ?? {}) as Record<string, unknown>, providerInputs(parseProviderRef(args.provider ?? "")), config);
      } catch (error) {
        // The SDK reports a failed invoke by the gRPC error's `details`.
        throw Object.assign(error as Error, { details: (error as Error).message });
      }
    },
    registerTransform(transform) {
      stackTransforms.push(transform);
    },
  };

  await pulumi.runtime.setMocks(mocks, project, stack, true);
  pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);

  // Count outstanding monitor calls so settle() knows when the program is done.
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorLike;
  const track = <R>(call: (req: R, cb: (err: unknown, resp: unknown) => void) => Promise<void>) =>
    (req: R, callback: (err: unknown, resp: unknown) => void) => {
      pending++;
      operations++;
      return call(req, (err, resp) => {
        pending--;
        callback(err, resp);
      });
    };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = track<MonitorRequest>((req, cb) => {
    const key = `${req.getType()}::${req.getName()}`;
    waiting.set(key, [...(waiting.get(key) ?? []), req]);
    return register(req, cb);
  });
  monitor.invoke = track(monitor.invoke.bind(monitor));
  monitor.readResource = track(monitor.readResource.bind(monitor));

  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  return {
    resources,
    providerInputs,
    async settle(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      let stableRounds = 0;
      let seen = -1;
      while (stableRounds < 3) {
        if (Date.now() > deadline) throw new Error(`The program was still registering resources after ${timeoutMs / 1000} s.`);
        if (runtime.waitForRPCs) await runtime.waitForRPCs();
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (pending === 0 && operations === seen) stableRounds++;
        else stableRounds = 0;
        seen = operations;
      }
    },
  };
}
