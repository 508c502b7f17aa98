import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";

/** A JWT issuer for tests: its JWKS served on 127.0.0.1 (stop it with `close`), and bearer tokens it signs. */
export interface TestIssuer {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** `Bearer <token>` for `sub`, valid 10 minutes. */
  bearer(sub: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(issuer = "https://issuer.test/", audience = "image-pipeline"): Promise<TestIssuer> {
  const pair = await generateKeyPair("ES256");
  const keys = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "test", alg: "ES256", use: "sig" }] };
  const server = createServer((_, response) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(keys)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    issuer,
    audience,
    jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    bearer: async (sub) =>
      `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "test" }).setSubject(sub).setIssuer(issuer).setAudience(audience).setExpirationTime("10m").sign(pair.privateKey)}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A JWT issuer inside the test process: its key set for `createAuthenticator`, and tokens it signs (RS256, valid 5 minutes by default). */
export interface LocalTestIssuer {
  keySet: ReturnType<typeof createLocalJWKSet>;
  privateKey: CryptoKey;
  token(sub: string, overrides?: { audience?: string; expiresIn?: string }): Promise<string>;
}

export async function localTestIssuer(issuer: string, audience: string): Promise<LocalTestIssuer> {
  const pair = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256" };
  return {
    keySet: createLocalJWKSet({ keys: [jwk] }),
    privateKey: pair.privateKey,
    token: (sub, overrides = {}) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setSubject(sub)
        .setIssuer(issuer)
        .setAudience(overrides.audience ?? audience)
        .setIssuedAt()
        .setExpirationTime(overrides.expiresIn ?? "5m")
        .sign(pair.privateKey),
  };
}
