/**
 * What the AWS and Azure adapters share: turning a classified SDK failure into
 * a PipelineError with the pipeline's messages, the network error codes, the
 * ETag form and version pins, job-record expiry, and loopback detection. Each
 * cloud keeps its own error names and codes (functions/aws/adapters.ts,
 * functions/azure/adapters.ts) and classifies with them; the rest is here.
 */

import { invalidParameterError, isPipelineError, PipelineError } from "./core/errors";
import { VERSION_GONE_DETAIL, type ObjectVersion } from "./ports";

/** What a failed call was about, for messages that name the bucket/container/table and key. */
export interface Target {
  /** e.g. `S3`, `Blob Storage` */
  service: string;
  /** e.g. `bucket "uploads"` */
  resource: string;
  /** e.g. `object "a.jpg"` */
  item?: string;
  details: Record<string, unknown>;
}

export function describeTarget(target: Target): string {
  return target.item ? `${target.item} in ${target.resource}` : target.resource;
}

/** Socket-level failures as Node reports them in `code`: the service was not reached. Both SDKs pass them through. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);

/** What a cloud's adapter read from a failure: its HTTP status and whether its own error names mark it as one kind. */
export interface FailureSignals {
  status?: number;
  /** The service's error name or code, or the network code: shown in messages. */
  reason: string;
  /** Node's network code, if any (ECONNREFUSED...). */
  networkCode?: string;
  notFound?: boolean;
  throttled?: boolean;
  unavailable?: boolean;
  /** The raw message, for an error nothing else explains. */
  message?: string;
  /** Extra machine-readable context (e.g. the SDK's error name). */
  details?: Record<string, unknown>;
}

export interface Translation {
  /** What to grant when the service denied access, e.g. "grant the function's role access to it". */
  grantAdvice: string;
}

/**
 * Turns a failure into a PipelineError: missing → NOT_FOUND (permanent),
 * throttling (429, 503 or the service's names) → THROTTLED, other 5xx/network →
 * STORAGE_UNAVAILABLE (both retried), 401/403 → CONFIG_INVALID, anything else INTERNAL.
 */
export function storageError(thrown: unknown, target: Target, signals: FailureSignals, { grantAdvice }: Translation): PipelineError {
  if (isPipelineError(thrown)) return thrown;
  const { status, reason } = signals;
  const details = { ...target.details, service: target.service, status, reason, ...signals.details };
  const cause = { cause: thrown };
  const where = describeTarget(target);

  if (signals.notFound || status === 404) {
    return new PipelineError("NOT_FOUND", `${target.service} found no ${where}.`, details, cause);
  }
  if (signals.throttled || status === 429 || status === 503) {
    return new PipelineError("THROTTLED", `${target.service} throttled the request for ${where} (${reason}); the step will be retried.`, details, cause);
  }
  if (signals.unavailable || NETWORK_ERROR_CODES.has(signals.networkCode ?? "") || (status !== undefined && status >= 500)) {
    return new PipelineError("STORAGE_UNAVAILABLE", `${target.service} was unavailable for ${where} (${reason}); the step will be retried.`, details, cause);
  }
  if (status === 401 || status === 403) {
    return new PipelineError("CONFIG_INVALID", `${target.service} denied access to ${where} (${reason}); ${grantAdvice}.`, details, cause);
  }
  return new PipelineError("INTERNAL", `${target.service} failed for ${where} (${reason}: ${signals.message ?? "no message"}).`, details, cause);
}

/**
 * The version of an upload a job was started for is no longer there to read:
 * a permanent NOT_FOUND (details.versionGone), so the job ends recorded as
 * failed rather than rendering another upload's bytes.
 */
export function versionGoneError(target: Target, version: ObjectVersion, reason: string, thrown?: unknown): PipelineError {
  const named = version.versionId ? `version ${version.versionId}` : `ETag ${unquoteEtag(version.etag)}`;
  return new PipelineError(
    "NOT_FOUND",
    `${target.service} no longer has ${describeTarget(target)} as its upload event named it (${named}): it was replaced by a newer upload, which runs as its own job, or deleted. Nothing to do unless the newer upload's job failed too.`,
    { ...target.details, service: target.service, reason, [VERSION_GONE_DETAIL]: true, versionId: version.versionId, etag: unquoteEtag(version.etag) },
    thrown === undefined ? undefined : { cause: thrown },
  );
}

/** S3 and Azure quote ETags in headers; events and job ids use the bare value. */
export function unquoteEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^"(.*)"$/, "$1");
}

/** The quoted form conditional headers take (If-Match). */
export function quoteEtag(etag: string): string {
  return `"${unquoteEtag(etag)}"`;
}

/** True when a read returned an object whose ETag is not the one the pin names (a store that keeps no versions was overwritten). */
export function etagDiffers(version: ObjectVersion | undefined, etag: string | undefined): boolean {
  return version?.etag !== undefined && etag !== undefined && unquoteEtag(version.etag) !== unquoteEtag(etag);
}

/** `expiresAt` of a job record written now: epoch seconds `days` from now (JobRecord.expiresAt). */
export function expiresAtAfterDays(days: number | undefined, now = Date.now()): number | undefined {
  return days === undefined ? undefined : Math.floor(now / 1000) + Math.round(days * 86_400);
}

/** @throws {PipelineError} CONFIG_INVALID unless the retention is unset or a positive number of days. */
export function checkRetentionDays(days: number | undefined): number | undefined {
  if (days !== undefined && !(days > 0)) throw invalidParameterError("retentionDays", "a positive number of days", days);
  return days;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** True for a URL on this machine: the emulators. Credentials and connection strings meant for them are refused elsewhere. */
export function isLoopbackUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    return LOOPBACK_HOSTS.has(new URL(url).hostname);
  } catch {
    return false;
  }
}
