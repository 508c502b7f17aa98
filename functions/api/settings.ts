import { z } from "zod";
import { parseJsonSetting } from "../settings";

/**
 * The HTTP API's own settings: who may call it and how long signed URLs live. The stack
 * config embeds this schema as its `api` block (components/config.ts); the deployed
 * function receives the parsed value as one JSON setting (functions/<cloud>/contract.ts),
 * so both sides agree by construction.
 */

export const jwtAuthSchema = z.strictObject({
  /** The `iss` every token must carry, e.g. `https://login.example.com/`. */
  issuer: z.url({ protocol: /^https?$/ }),
  /** The `aud` every token must carry. */
  audience: z.string().trim().min(1),
  /** Where the issuer publishes its signing keys (JSON Web Key Set). */
  jwksUrl: z.url({ protocol: /^https?$/ }),
});

/**
 * Per-caller limits the app enforces itself (functions/api/rateLimit.ts): fixed windows counted in a store
 * every instance of a deployment shares. The hosts' own throttling (API Gateway's stage) stays as the global backstop.
 */
export const rateLimitSchema = z.strictObject({
  /** Requests one caller may make to the API's routes per minute (every route but /openapi.json). */
  requestsPerMinute: z.number().int().min(1).max(100_000).default(300),
  /** Uploads (POST /uploads) one caller may sign per hour; unset: only requestsPerMinute applies. */
  uploadsPerHour: z.number().int().min(1).max(1_000_000).optional(),
});

export const apiSettingsSchema = z.strictObject({
  /** `none`: every caller is one anonymous user (development only); or bearer JWTs checked against an issuer's JWKS. */
  auth: z.union([z.literal("none"), z.strictObject({ jwt: jwtAuthSchema })]).default("none"),
  /** Lifetime of a signed upload (presigned POST / SAS), in seconds: minutes, not hours. */
  uploadUrlSeconds: z.number().int().min(30).max(3600).default(300),
  /** Lifetime of the signed GET URLs of renditions when no CDN serves them. */
  downloadUrlSeconds: z.number().int().min(30).max(12 * 3600).default(900),
  /** Per-caller rate limits (the JWT subject with auth `jwt`, else the client's IP). */
  rateLimit: rateLimitSchema.prefault({}),
});

export type ApiSettings = z.infer<typeof apiSettingsSchema>;
export type ApiSettingsInput = z.input<typeof apiSettingsSchema>;
export type JwtAuth = z.infer<typeof jwtAuthSchema>;
export type RateLimitSettings = z.infer<typeof rateLimitSchema>;

/**
 * The API settings a stack deployed into a function setting, validated by the stack config's schema.
 * `source` names the setting in messages, e.g. "Environment variable API_SETTINGS".
 *
 * @throws {PipelineError} CONFIG_INVALID when the value is not valid JSON or not valid settings.
 */
export function parseApiSettings(raw: string | undefined, source: string): ApiSettings {
  return parseJsonSetting(raw, source, apiSettingsSchema, "API settings");
}
