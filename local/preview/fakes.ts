import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * What every cloud's offline-preview fakes share: the context a fake resource is
 * made from, the contract a cloud implements (local/<cloud>/previewFakes.ts), and
 * small helpers for plausible, deterministic fake values.
 */

export interface FakeContext {
  urn: string;
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Inputs of the explicit provider, if any. */
  providerInputs?: Record<string, unknown>;
  /** `namespace:key` → string, as the language host passes config. */
  config: Record<string, string>;
}

/** One cloud's fake answers, for the resource types and data sources of its provider package. */
export interface PreviewFakes {
  /** Type tokens this cloud answers for start with one of these (e.g. `aws:`). */
  typePrefixes: string[];
  /** Fake id and outputs for a resource the program registers. */
  resource(ctx: FakeContext): { id: string; state: Record<string, unknown> };
  /** Fake answer for a data source, or undefined for a token this cloud does not know. */
  call(token: string, inputs: Record<string, unknown>, providerInputs: Record<string, unknown> | undefined, config: Record<string, string>): Record<string, unknown> | undefined;
}

/** Marks a value the engine would only know after deployment. */
export const UNKNOWN_VALUE = pulumi.runtime.unknownValue;

export function isUnknownValue(value: unknown): boolean {
  return value === UNKNOWN_VALUE;
}

export function hex(seed: string, length: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

export function fakeUuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" && !isUnknownValue(value) ? value : undefined;
}

export function parseJsonRecord(value: unknown): Record<string, unknown> | undefined {
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  if (typeof value !== "string") return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
