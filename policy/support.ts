import {
  UnknownValueError,
  type PolicyResource,
  type ReportViolation,
  type ResourceValidation,
  type ResourceValidationArgs,
  type StackValidationArgs,
} from "@pulumi/policy";

/**
 * Helpers shared by the AWS, Azure and cloud-neutral rules. No side effects:
 * importing this module constructs nothing (only policy/index.ts builds the pack).
 *
 * Written for the TypeScript that `pulumi preview --policy-pack` compiles the pack
 * with (ts-node, target ES2020): no ES2021+ library calls (`replaceAll`, `at`, `Object.hasOwn`).
 */

/** Stands for a value that is unknown during `pulumi preview` (an output of a resource not created yet). */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/**
 * Copies resource properties out of the policy SDK's unknown-checking proxy into
 * plain data, replacing every value unknown at preview by {@link UNKNOWN}.
 * Rules then decide per value instead of the whole rule aborting on the first
 * unknown (which the SDK turns into a "can't run during preview" advisory).
 */
export function plain(read: () => unknown): unknown {
  let value: unknown;
  try {
    value = read();
  } catch (error) {
    if (error instanceof UnknownValueError) return UNKNOWN;
    throw error;
  }
  if (value === null || typeof value !== "object") return value;
  const source = value as Record<string, unknown>;
  if (Array.isArray(value)) {
    const items = value as unknown[];
    const length = items.length;
    const copy: unknown[] = [];
    for (let i = 0; i < length; i++) copy.push(plain(() => items[i]));
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) copy[key] = plain(() => source[key]);
  return copy;
}

/** A plain record of properties; any value may be {@link UNKNOWN}. */
export type Props = Record<string, unknown>;

export function asRecord(value: unknown): Props | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Props) : undefined;
}

export function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** Reads `a.b.c` from plain data: undefined when absent, {@link UNKNOWN} when any step is unknown. */
export function at(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split(".")) {
    if (isUnknown(current)) return UNKNOWN;
    const record = asRecord(current);
    if (!record) return undefined;
    current = record[key];
  }
  return current;
}

/** Text for messages: a string value quoted, anything else as JSON. */
export function show(value: unknown): string {
  if (value === undefined) return "unset";
  if (isUnknown(value)) return "unknown";
  return JSON.stringify(value);
}

/** Parses a JSON text, or returns an object value as is (inputs may hold either). */
export function jsonValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** The resource's properties as plain data; see {@link plain}. */
export function propsOf(args: { props: Record<string, unknown> }): Props {
  return asRecord(plain(() => args.props)) ?? {};
}

/** The resource provider's properties as plain data, or undefined without a provider. */
export function providerPropsOf(args: Pick<ResourceValidationArgs, "provider">): Props | undefined {
  const provider = args.provider;
  if (!provider) return undefined;
  return asRecord(plain(() => provider.props));
}

/** A rule for the given type tokens: receives plain props; other types are not applicable. */
export function forTypes(types: readonly string[], check: (props: Props, args: ResourceValidationArgs, report: ReportViolation) => void): ResourceValidation {
  return (args, report) => {
    if (!types.includes(args.type)) return;
    check(propsOf(args), args, report);
  };
}

/** A resource of the stack with its properties as plain data. */
export interface StackResource {
  resource: PolicyResource;
  props: Props;
}

export function stackResources(args: StackValidationArgs, types: readonly string[]): StackResource[] {
  return args.resources.filter((r) => types.includes(r.type)).map((resource) => ({ resource, props: propsOf(resource) }));
}

/**
 * Whether `dependent` (a bucket policy, a versioning setting...) points at `target`
 * through its `key` property: by the property's recorded dependencies (works at
 * preview, when the target's id is still unknown) or by value. Returns
 * {@link UNKNOWN} when the link value is unknown and no dependency says yes.
 */
export function linksTo(dependent: StackResource, key: string, target: StackResource, targetValues: unknown[]): boolean | Unknown {
  const dependencies = dependent.resource.propertyDependencies?.[key] ?? [];
  if (dependencies.some((d) => d.urn === target.resource.urn)) return true;
  const value = dependent.props[key];
  if (isUnknown(value)) return UNKNOWN;
  if (value === undefined) return false;
  return targetValues.some((v) => v !== undefined && !isUnknown(v) && v === value);
}

/** The `candidates` linked to `target`; {@link UNKNOWN} when none is but some link is unknown at preview. */
export function findLinked(candidates: StackResource[], key: string, target: StackResource, targetValues: unknown[]): StackResource[] | Unknown {
  const linked: StackResource[] = [];
  let sawUnknown = false;
  for (const candidate of candidates) {
    const link = linksTo(candidate, key, target, targetValues);
    if (link === true) linked.push(candidate);
    else if (isUnknown(link)) sawUnknown = true;
  }
  if (linked.length === 0 && sawUnknown) return UNKNOWN;
  return linked;
}

/** Reads a policy's config, falling back to the schema defaults for keys left unset. */
export function configOf<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
  const given = args.getConfig<Partial<T>>() ?? {};
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given)) if (value !== undefined && value !== null) merged[key] = value;
  return merged as T;
}

/** Lowercase, no spaces: Azure accepts "West Europe" and "westeurope" for the same region. */
export function normalizeRegion(region: string): string {
  return region.toLowerCase().split(" ").join("");
}

/** Tags that say what a store is for; their values count when recognizing the uploads store. */
export const PURPOSE_TAGS = ["Name", "name", "purpose", "role", "store"];

/** The values of a resource's purpose tags (see {@link PURPOSE_TAGS}). */
export function purposeTagValues(tags: unknown): unknown[] {
  const record = asRecord(tags) ?? {};
  return PURPOSE_TAGS.map((key) => record[key]);
}
