import * as pulumi from "@pulumi/pulumi";
import type { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { runPolicies, type AnalyzedResource, type PolicyDiagnostic } from "../../local/preview/policyRunner";

/**
 * Runs one policy of the pack on hand-written resources, through the same
 * emulation of the analyzer host the offline preview uses (local/preview/policyRunner.ts):
 * props wrapped in @pulumi/policy's unknown-checking proxy, `getConfig` with the
 * rule's schema defaults, provider props, stack resources linked by parent and
 * property dependencies.
 */

/** A value unknown during preview (the engine's sentinel); reading it through the proxy throws. */
export const UNKNOWN = pulumi.runtime.unknownValue;

export interface TestResource {
  type: string;
  /** Logical name; defaults to the type's last segment and position. */
  name?: string;
  /** Inputs for resource rules, outputs for stack rules. */
  props?: Record<string, unknown>;
  provider?: { type: string; name?: string; props: Record<string, unknown> };
  /** Name of the parent resource. */
  parent?: string;
  /** Property → names of the resources that property's value came from. */
  propertyDependencies?: Record<string, string[]>;
}

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:test::image-pipeline::${type}::${name}`;
}

function analyzed(resources: TestResource[]): AnalyzedResource[] {
  const named = resources.map((r, i) => ({ ...r, name: r.name ?? `${r.type.split(":").pop()?.toLowerCase()}-${i}` }));
  const urnByName = new Map(named.map((r) => [r.name, urnOf(r.type, r.name)]));
  const urn = (name: string) => {
    const found = urnByName.get(name);
    if (!found) throw new Error(`Test resource "${name}" is referenced but not declared.`);
    return found;
  };
  return named.map((r) => ({
    urn: urn(r.name),
    type: r.type,
    name: r.name,
    custom: true,
    parent: r.parent ? urn(r.parent) : undefined,
    provider: r.provider
      ? { type: r.provider.type, name: r.provider.name ?? "default", urn: urnOf(r.provider.type, r.provider.name ?? "default"), props: r.provider.props }
      : undefined,
    inputs: r.props ?? {},
    outputs: r.props ?? {},
    dependencies: Object.values(r.propertyDependencies ?? {}).flat().map(urn),
    propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([key, names]) => [key, names.map(urn)])),
  }));
}

type AnyPolicy = (ResourceValidationPolicy | StackValidationPolicy) & { configSchema?: PolicyConfigSchema };

/** Every diagnostic of one policy (violations and "can't run during preview" advisories). */
export async function diagnosticsOf(policy: AnyPolicy, resources: TestResource | TestResource[], config?: Record<string, unknown>): Promise<PolicyDiagnostic[]> {
  const list = Array.isArray(resources) ? resources : [resources];
  return runPolicies([policy], analyzed(list), { config: config ? { [policy.name]: config } : undefined });
}

/** The violation messages one policy reports. */
export async function violationsOf(policy: AnyPolicy, resources: TestResource | TestResource[], config?: Record<string, unknown>): Promise<string[]> {
  return (await diagnosticsOf(policy, resources, config)).filter((d) => !d.unknownAtPreview).map((d) => d.message);
}
