import { createHash } from "node:crypto";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { ApiError } from "./errors";
import type { ApiSettings } from "./settings";

/**
 * Who is calling: the `sub` of a bearer JWT verified against the issuer's JWKS
 * (signature, `iss`, `aud`, `exp`/`nbf`), or one anonymous user when auth is `none`.
 * The caller's uploads live under a prefix derived from that subject (keys.ts), so
 * nothing another caller did can be named, read or erased.
 */

/** Resolves the caller of a request from its Authorization header. */
export type Authenticator = (authorization: string | undefined) => Promise<string>;

/** The subject every caller is when auth is `none` (development only; the policy pack refuses it on production stacks). */
export const ANONYMOUS_SUBJECT = "anonymous";

/**
 * The authenticator for the configured auth. `keys` replaces the issuer's remote key set
 * (tests use jose's createLocalJWKSet); by default the set is fetched from `jwksUrl` and
 * cached by jose, refetched when a token names an unknown key id.
 */
export function createAuthenticator(auth: ApiSettings["auth"], keys?: JWTVerifyGetKey): Authenticator {
  if (auth === "none") return async () => ANONYMOUS_SUBJECT;
  const { issuer, audience, jwksUrl } = auth.jwt;
  const keySet = keys ?? createRemoteJWKSet(new URL(jwksUrl));
  return async (authorization) => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
    if (!token) throw new ApiError("UNAUTHORIZED", "Send `Authorization: Bearer <token>` with a token from the configured issuer.");
    try {
      const { payload } = await jwtVerify(token, keySet, { issuer, audience, clockTolerance: 30 });
      if (typeof payload.sub !== "string" || payload.sub === "") throw new ApiError("UNAUTHORIZED", "The token has no subject (`sub`); ask the issuer for a user token.");
      return payload.sub;
    } catch (thrown) {
      if (thrown instanceof ApiError) throw thrown;
      // The issuer's key set could not be fetched or read: the service's problem (a 500), not the caller's.
      if (!(thrown instanceof joseErrors.JOSEError) || thrown instanceof joseErrors.JWKSTimeout || thrown.code === "ERR_JWKS_INVALID") throw thrown;
      const reason = thrown instanceof joseErrors.JWTExpired ? "has expired; get a new one" : thrown instanceof joseErrors.JWTClaimValidationFailed ? `fails its \`${thrown.claim}\` check` : "is not valid for this API";
      throw new ApiError("UNAUTHORIZED", `The bearer token ${reason}.`);
    }
  };
}

/**
 * The storage prefix segment of a subject: a hash, so a subject's characters never reach
 * a key (no `/`, no `..`) and keys carry no personal data.
 *
 * @example ownerSegment("anonymous") // 32 hex characters
 */
export function ownerSegment(subject: string): string {
  return createHash("sha256").update(`image-pipeline:owner:${subject}`).digest("hex").slice(0, 32);
}
