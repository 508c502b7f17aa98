import {
  unknownCheckingProxy,
  UnknownValueError,
  type EnforcementLevel,
  type Policies,
  type PolicyConfigSchema,
  type PolicyProviderResource,
  type PolicyResource,
  type PolicyResourceOptions,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type Severity,
  type StackValidationArgs,
  type StackValidationPolicy,
} from "@pulumi/policy";
import type { Resource } from "@pulumi/pulumi";

/**
 * Runs a policy pack's rules in-process the way the Pulumi CLI's analyzer host
 * (@pulumi/policy's gRPC server) does: resource rules per resource over its
 * inputs, stack rules once over every resource's outputs, properties wrapped in
 * the SDK's unknown-checking proxy, an unknown value read by a rule turned into
 * an advisory "can't run during preview", `notApplicable` honoured, enforcement
 * level from policy config, then the rule, then the pack.
 */

/** A resource as the engine hands it to a policy pack. */
export interface AnalyzedResource {
  urn: string;
  type: string;
  name: string;
  /** Resource rules run on custom resources only; components and providers are listed for stack rules. */
  custom: boolean;
  parent?: string;
  provider?: PolicyProviderResource;
  /** What resource rules see. */
  inputs: Record<string, unknown>;
  /** What stack rules see. */
  outputs: Record<string, unknown>;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  opts?: Partial<PolicyResourceOptions>;
}

/** `--policy-pack-config` file contents: a level, or a level and properties, per rule; `all` sets every rule's level. */
export type PolicyPackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

// The levels a policy config may set: https://pulumi.com/docs/using-pulumi/crossguard/configuration
const ENFORCEMENT_LEVELS: readonly string[] = ["advisory", "mandatory", "remediate", "disabled"];

/** A policy pack config that is not the shape the CLI reads. */
export class PolicyConfigError extends Error {
  readonly code = "POLICY_CONFIG_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "PolicyConfigError";
  }
}

/**
 * Checks a parsed `--policy-pack-config` document: an object whose entries are a
 * level or an object with an optional `enforcementLevel` and the rule's properties.
 *
 * @throws {PolicyConfigError} POLICY_CONFIG_INVALID naming the entry and what it holds
 */
export function checkPolicyConfig(value: unknown, source = "the policy config"): PolicyPackConfig {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new PolicyConfigError(`${source} must be a JSON object of policy names; got ${Array.isArray(value) ? "an array" : JSON.stringify(value)}.`);
  const levels = ENFORCEMENT_LEVELS.join(", ");
  for (const [name, entry] of Object.entries(value)) {
    const level = typeof entry === "string" ? entry : entry !== null && typeof entry === "object" && !Array.isArray(entry) ? (entry as { enforcementLevel?: unknown }).enforcementLevel : null;
    if (level === null) throw new PolicyConfigError(`${source}: "${name}" must be a level (${levels}) or an object; got ${JSON.stringify(entry)}.`);
    if (level !== undefined && !ENFORCEMENT_LEVELS.includes(level as string)) throw new PolicyConfigError(`${source}: "${name}" has enforcement level ${JSON.stringify(level)}; use one of ${levels}.`);
  }
  return value as PolicyPackConfig;
}

export interface PolicyDiagnostic {
  policyName: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  severity?: Severity;
  message: string;
  /** The resource in violation; undefined for a stack-wide violation. */
  urn?: string;
  resourceName?: string;
  resourceType?: string;
  /** A rule that read a value unknown at preview and could not finish; advisory, like the CLI. */
  unknownAtPreview?: boolean;
}

export interface RunOptions {
  config?: PolicyPackConfig;
  /** Level for rules that set none (the pack's default). */
  packEnforcementLevel?: EnforcementLevel;
  stackTags?: ReadonlyMap<string, string>;
}

class NotApplicableError extends Error {}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicableError(reason ?? "not applicable");
}

function isResourcePolicy(policy: ResourceValidationPolicy | StackValidationPolicy): policy is ResourceValidationPolicy {
  return (policy as ResourceValidationPolicy).validateResource !== undefined;
}

function isStackPolicy(policy: ResourceValidationPolicy | StackValidationPolicy): policy is StackValidationPolicy {
  return (policy as StackValidationPolicy).validateStack !== undefined;
}

function entryOf(config: PolicyPackConfig | undefined, name: string): { enforcementLevel?: EnforcementLevel; properties: Record<string, unknown> } {
  const entry = config?.[name];
  if (entry === undefined) return { properties: {} };
  if (typeof entry === "string") return { enforcementLevel: entry, properties: {} };
  const { enforcementLevel, ...properties } = entry;
  return { enforcementLevel, properties };
}

/** The level the CLI would use: policy config, then the `all` entry, then the rule, then the pack. */
export function enforcementLevelOf(policy: { name: string; enforcementLevel?: EnforcementLevel }, options: RunOptions): EnforcementLevel {
  const level = entryOf(options.config, policy.name).enforcementLevel ?? entryOf(options.config, "all").enforcementLevel ?? policy.enforcementLevel ?? options.packEnforcementLevel ?? "advisory";
  return level === "remediate" ? "mandatory" : level;
}

/** Config properties for a rule: schema defaults overlaid with the given config. */
export function configFor(policy: { name: string; configSchema?: PolicyConfigSchema }, options: RunOptions): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
    const value = (schema as { default?: unknown }).default;
    if (value !== undefined) defaults[key] = value;
  }
  return { ...defaults, ...entryOf(options.config, policy.name).properties };
}

function isTypeOf(type: string, resourceClass: { new (...rest: never[]): Resource }): boolean {
  const candidate = resourceClass as unknown as { __pulumiType?: string; isInstance?: unknown };
  return typeof candidate.__pulumiType === "string" && candidate.__pulumiType === type;
}

function proxied(value: Record<string, unknown>): Record<string, unknown> {
  return unknownCheckingProxy(structuredClone(value)) as Record<string, unknown>;
}

function options(resource: AnalyzedResource): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(resource.parent ? { parent: resource.parent } : {}),
    ...resource.opts,
  };
}

/** The `ResourceValidationArgs` the analyzer host builds for one resource and one rule. */
export function resourceArgs(resource: AnalyzedResource, policy: { name: string; configSchema?: PolicyConfigSchema }, runOptions: RunOptions = {}): ResourceValidationArgs {
  const props = proxied(resource.inputs);
  const args: ResourceValidationArgs = {
    type: resource.type,
    props,
    urn: resource.urn,
    name: resource.name,
    opts: options(resource),
    stackTags: runOptions.stackTags ?? new Map(),
    isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
    asType: ((resourceClass: { new (...rest: never[]): Resource }) => (isTypeOf(resource.type, resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => configFor(policy, runOptions) as T,
    notApplicable: throwNotApplicable,
  };
  if (resource.provider) args.provider = { ...resource.provider, props: proxied(resource.provider.props) };
  return args;
}

/** The `StackValidationArgs` the analyzer host builds for the whole stack and one rule. */
export function stackArgs(resources: AnalyzedResource[], policy: { name: string; configSchema?: PolicyConfigSchema }, runOptions: RunOptions = {}): StackValidationArgs {
  const byUrn = new Map<string, PolicyResource>();
  const policyResources = resources.map((resource) => {
    const props = proxied(resource.outputs);
    const policyResource: PolicyResource = {
      type: resource.type,
      props,
      urn: resource.urn,
      name: resource.name,
      opts: options(resource),
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
      asType: ((resourceClass: { new (...rest: never[]): Resource }) => (isTypeOf(resource.type, resourceClass) ? props : undefined)) as PolicyResource["asType"],
    };
    if (resource.provider) policyResource.provider = { ...resource.provider, props: proxied(resource.provider.props) };
    byUrn.set(resource.urn, policyResource);
    return policyResource;
  });
  const lookup = (urns: string[] = []) => urns.map((u) => byUrn.get(u)).filter((r): r is PolicyResource => r !== undefined);
  resources.forEach((resource, i) => {
    const policyResource = policyResources[i];
    if (resource.parent && byUrn.has(resource.parent)) policyResource.parent = byUrn.get(resource.parent);
    policyResource.dependencies = lookup(resource.dependencies);
    for (const [key, urns] of Object.entries(resource.propertyDependencies ?? {})) policyResource.propertyDependencies[key] = lookup(urns);
  });
  return {
    resources: policyResources,
    stackTags: runOptions.stackTags ?? new Map(),
    getConfig: <T extends object>() => configFor(policy, runOptions) as T,
    notApplicable: throwNotApplicable,
  };
}

function diagnostic(policy: ResourceValidationPolicy | StackValidationPolicy, level: EnforcementLevel, message: string, resource?: AnalyzedResource): PolicyDiagnostic {
  return {
    policyName: policy.name,
    description: policy.description,
    enforcementLevel: level,
    severity: policy.severity,
    message,
    urn: resource?.urn,
    resourceName: resource?.name,
    resourceType: resource?.type,
  };
}

/**
 * Runs every resource rule on every custom resource, then every stack rule on
 * the stack. A rule that throws anything but an unknown-value or
 * not-applicable signal fails the run, as it fails `pulumi preview`.
 */
export async function runPolicies(policies: Policies, resources: AnalyzedResource[], runOptions: RunOptions = {}): Promise<PolicyDiagnostic[]> {
  const diagnostics: PolicyDiagnostic[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const unknownAtPreview = (policy: ResourceValidationPolicy | StackValidationPolicy, error: UnknownValueError, resource?: AnalyzedResource) =>
    diagnostics.push({ ...diagnostic(policy, "advisory", `can't run policy '${policy.name}' during preview: ${error.message}`, resource), unknownAtPreview: true });

  for (const policy of policies) {
    const level = enforcementLevelOf(policy, runOptions);
    if (level === "disabled" || !isResourcePolicy(policy) || !policy.validateResource) continue;
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    for (const resource of resources.filter((r) => r.custom)) {
      for (const validate of validations) {
        try {
          await validate(resourceArgs(resource, policy, runOptions), (message) => diagnostics.push(diagnostic(policy, level, message, resource)));
        } catch (error) {
          if (error instanceof UnknownValueError) unknownAtPreview(policy, error, resource);
          else if (!(error instanceof NotApplicableError)) throw new Error(`Policy '${policy.name}' failed on ${resource.type} "${resource.name}": ${(error as Error).message}`, { cause: error });
        }
      }
    }
  }

  for (const policy of policies) {
    const level = enforcementLevelOf(policy, runOptions);
    if (level === "disabled" || !isStackPolicy(policy)) continue;
    try {
      await policy.validateStack(stackArgs(resources, policy, runOptions), (message, urn) => diagnostics.push(diagnostic(policy, level, message, urn ? byUrn.get(urn) ?? { urn, type: "", name: urn, custom: false, inputs: {}, outputs: {} } : undefined)));
    } catch (error) {
      if (error instanceof UnknownValueError) unknownAtPreview(policy, error);
      else if (!(error instanceof NotApplicableError)) throw new Error(`Policy '${policy.name}' failed on the stack: ${(error as Error).message}`, { cause: error });
    }
  }
  return diagnostics;
}
