import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { localTestIssuer, type LocalTestIssuer } from "../../helpers/testIssuer";
import { createApiApp, type ApiDependencies } from "../../../functions/api/app";
import { createAuthenticator } from "../../../functions/api/auth";
import { apiSettingsSchema } from "../../../functions/api/settings";
import type { StorageSigner, UploadRequestToSign } from "../../../functions/api/signer";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { jobIdFor } from "../../../functions/steps/jobId";
import { memoryPorts } from "../../../local/memoryPorts";

const ISSUER = "https://issuer.test/";
const AUDIENCE = "image-pipeline-api";

/** A signer that records what it was asked to sign. */
function recordingSigner(): StorageSigner & { uploads: UploadRequestToSign[]; downloads: string[] } {
  const uploads: UploadRequestToSign[] = [];
  const downloads: string[] = [];
  return {
    uploads,
    downloads,
    async signUpload(request) {
      uploads.push(request);
      return { method: "POST", url: "https://uploads.test/", fields: { key: request.key } };
    },
    async signDownload(key) {
      downloads.push(key);
      return `https://signed.test/${key}?sig=1`;
    },
  };
}

describe("functions/api/app", () => {
  let issuer: LocalTestIssuer;
  let authenticate: ReturnType<typeof createAuthenticator>;

  before(async () => {
    issuer = await localTestIssuer(ISSUER, AUDIENCE);
    authenticate = createAuthenticator({ jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: "https://issuer.test/jwks" } }, issuer.keySet);
  });

  const token = (sub: string, overrides: { audience?: string; expiresIn?: string } = {}) => issuer.token(sub, overrides);

  function setup(overrides: Partial<ApiDependencies> = {}) {
    const ports = memoryPorts();
    const signer = recordingSigner();
    const logs: Record<string, unknown>[] = [];
    const erased: string[] = [];
    const app = createApiApp({
      ports,
      signer,
      options: defaultProcessingOptions(),
      settings: apiSettingsSchema.parse({}),
      authenticate,
      erase: async ({ sourceKey }) => {
        erased.push(sourceKey);
      },
      streaming: false,
      log: (entry) => logs.push(entry),
      ...overrides,
    });
    const call = async (method: string, path: string, options: { sub?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) => {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.sub) headers.authorization = `Bearer ${await token(options.sub)}`;
      let body: string | undefined;
      if (options.raw !== undefined || options.body !== undefined) {
        headers["content-type"] ??= "application/json";
        body = options.raw ?? JSON.stringify(options.body);
      }
      return app.request(path, { method, headers, body });
    };
    return { app, ports, signer, logs, erased, call };
  }

  const image = { filename: "cat.jpg", contentType: "image/jpeg", bytes: 1000 };

  describe("POST /uploads", () => {
    it("signs one upload under the caller's own prefix and notes it as pending", async () => {
      const { call, signer } = setup();

      const response = await call("POST", "/uploads", { sub: "alice", body: image });
      const grant = (await response.json()) as { uploadId: string; url: string; method: string; expiresAt: string };

      assert.equal(response.status, 201);
      assert.match(grant.uploadId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(grant.method, "POST");
      assert.equal(signer.uploads.length, 1);
      assert.match(signer.uploads[0].key, new RegExp(`^users/[0-9a-f]{32}/${grant.uploadId}/cat\\.jpg$`));
      assert.equal(signer.uploads[0].contentType, "image/jpeg");
      assert.equal(signer.uploads[0].bytes, 1000);
      const status = await call("GET", `/jobs/${grant.uploadId}`, { sub: "alice" });
      assert.equal(status.status, 200);
      assert.equal(((await status.json()) as { status: string }).status, "pending");
    });

    it("keeps only the last segment's safe characters of a path-traversing file name", async () => {
      const { call, signer } = setup();

      const response = await call("POST", "/uploads", { sub: "alice", body: { ...image, filename: "../../other-user/..\\secret photo.jpg" } });

      assert.equal(response.status, 201);
      const key = signer.uploads[0].key;
      assert.match(key, /^users\/[0-9a-f]{32}\/[0-9a-f-]{36}\/secret_photo\.jpg$/);
      assert.ok(!key.includes(".."));
    });

    for (const [name, body, status, code] of [
      ["a type that is not an accepted image", { ...image, contentType: "application/pdf" }, 400, "UNSUPPORTED_FORMAT"],
      ["an image format not in limits.formats", { ...image, contentType: "image/svg+xml" }, 400, "UNSUPPORTED_FORMAT"],
      ["more bytes than limits.maxBytes", { ...image, bytes: 52428801 }, 413, "TOO_LARGE"],
      ["an empty file", { ...image, bytes: 0 }, 400, "EMPTY_INPUT"],
      ["a missing field", { filename: "a.jpg", contentType: "image/jpeg" }, 400, "REQUEST_INVALID"],
      ["an unknown field", { ...image, key: "users/someone-else/x.jpg" }, 400, "REQUEST_INVALID"],
    ] as const) {
      it(`refuses ${name} with ${code}, signing and storing nothing`, async () => {
        const { call, signer, ports } = setup();

        const response = await call("POST", "/uploads", { sub: "alice", body });
        const error = (await response.json()) as { code: string; message: string; requestId: string };

        assert.equal(response.status, status);
        assert.equal(error.code, code);
        assert.ok(error.message.length > 10);
        assert.ok(error.requestId.length > 0);
        assert.equal(signer.uploads.length, 0);
        assert.deepEqual(ports.objects.puts, []);
      });
    }

    it("accepts exactly limits.maxBytes", async () => {
      const { call } = setup();

      const response = await call("POST", "/uploads", { sub: "alice", body: { ...image, bytes: 52428800 } });

      assert.equal(response.status, 201);
    });

    it("refuses a huge JSON body with REQUEST_TOO_LARGE before reading it", async () => {
      const { call, signer, ports } = setup();

      const response = await call("POST", "/uploads", { sub: "alice", raw: JSON.stringify({ ...image, filename: "x".repeat(100_000) }) });

      assert.equal(response.status, 413);
      assert.equal(((await response.json()) as { code: string }).code, "REQUEST_TOO_LARGE");
      assert.equal(signer.uploads.length, 0);
      assert.deepEqual(ports.objects.puts, []);
    });

    it("answers malformed JSON with REQUEST_INVALID", async () => {
      const { call } = setup();

      const response = await call("POST", "/uploads", { sub: "alice", raw: "{not json" });

      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as { code: string }).code, "REQUEST_INVALID");
    });
  });

  describe("authentication", () => {
    it("refuses a request without a bearer token with UNAUTHORIZED", async () => {
      const { call, signer } = setup();

      const response = await call("POST", "/uploads", { body: image });

      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as { code: string }).code, "UNAUTHORIZED");
      assert.equal(signer.uploads.length, 0);
    });

    it("refuses a token for another audience and an expired token", async () => {
      const { app } = setup();
      const wrongAudience = await token("alice", { audience: "someone-else" });
      const expired = await new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject("alice").setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(issuer.privateKey);

      for (const bad of [wrongAudience, expired, "not.a.jwt"]) {
        const response = await app.request("/jobs/0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11", { headers: { authorization: `Bearer ${bad}` } });
        assert.equal(response.status, 401);
        assert.equal(((await response.json()) as { code: string }).code, "UNAUTHORIZED");
      }
    });

    it("lets every caller be one anonymous user when auth is none", async () => {
      const { call } = setup({ authenticate: undefined, settings: apiSettingsSchema.parse({ auth: "none" }) });

      const response = await call("POST", "/uploads", { body: image });

      assert.equal(response.status, 201);
    });
  });

  describe("GET /jobs/{uploadId} and DELETE /uploads/{uploadId}", () => {
    /** Signs an upload for `sub`, then stores its file as the browser would. */
    async function uploaded(context: ReturnType<typeof setup>, sub: string) {
      const grant = (await (await context.call("POST", "/uploads", { sub, body: image })).json()) as { uploadId: string };
      const key = context.signer.uploads[context.signer.uploads.length - 1].key;
      await context.ports.objects.put("uploads", key, Buffer.from("jpeg bytes"), "image/jpeg");
      const info = await context.ports.objects.head("uploads", key);
      return { uploadId: grant.uploadId, key, jobId: jobIdFor(key, info.etag, info.versionId) };
    }

    it("reports pending, processing, failed with the job's error code, and succeeded with rendition URLs", async () => {
      const context = setup({ deliveryBaseUrl: "https://cdn.test" });
      const { uploadId, key, jobId } = await uploaded(context, "alice");
      const now = new Date().toISOString();
      const get = async () => (await (await context.call("GET", `/jobs/${uploadId}`, { sub: "alice" })).json()) as Record<string, unknown>;

      assert.equal((await get()).status, "pending");
      await context.ports.jobs.create({ jobId, sourceKey: key, status: "running", createdAt: now, updatedAt: now });
      assert.equal((await get()).status, "processing");
      context.ports.jobs.records.set(jobId, { jobId, sourceKey: key, status: "failed", createdAt: now, updatedAt: now, error: { code: "CORRUPT_IMAGE", message: "Not an image.", permanent: true } });
      assert.deepEqual(await get(), { uploadId, status: "failed", error: { code: "CORRUPT_IMAGE", message: "Not an image." } });

      const manifest = { jobId, sourceKey: key, source: { width: 40, height: 30, format: "jpeg" }, createdAt: now, outputs: [{ key: `${key}/thumb.webp`, name: "thumb", kind: "rendition", format: "webp", width: 32, height: 24, bytes: 99, savedBytes: 1, contentType: "image/webp" }] };
      await context.ports.objects.put("renditions", `${key}/manifest.json`, Buffer.from(JSON.stringify(manifest)), "application/json");
      context.ports.jobs.records.set(jobId, { jobId, sourceKey: key, status: "succeeded", createdAt: now, updatedAt: now, manifestKey: `${key}/manifest.json` });
      const done = (await get()) as { status: string; manifest: { baseUrl: string; outputs: Array<{ url: string; width: number }> } };
      assert.equal(done.status, "succeeded");
      assert.equal(done.manifest.outputs[0].url, `https://cdn.test/${key}/thumb.webp?v=${jobId}`);
      assert.equal(done.manifest.outputs[0].width, 32);
      assert.equal(done.manifest.baseUrl, `https://cdn.test/${key}/`);
    });

    it("reports pending, not succeeded, for a job a newer upload superseded: the newer upload is what the id names now", async () => {
      const context = setup();
      const { uploadId, key, jobId } = await uploaded(context, "alice");
      const now = new Date().toISOString();
      context.ports.jobs.records.set(jobId, { jobId, sourceKey: key, status: "superseded", supersededByEtag: "abc", createdAt: now, updatedAt: now });

      const response = await context.call("GET", `/jobs/${uploadId}`, { sub: "alice" });

      assert.deepEqual(await response.json(), { uploadId, status: "pending" });
      assert.ok(response.headers.get("retry-after"), "the client is told to poll again");
    });

    it("gives signed rendition URLs when no CDN serves them", async () => {
      const context = setup();
      const { uploadId, key, jobId } = await uploaded(context, "alice");
      const now = new Date().toISOString();
      const manifest = { jobId, sourceKey: key, source: { width: 40, height: 30, format: "jpeg" }, createdAt: now, outputs: [{ key: `${key}/thumb.jpg`, name: "thumb", kind: "rendition", format: "jpeg", width: 32, height: 24, bytes: 99, savedBytes: 1, contentType: "image/jpeg" }] };
      await context.ports.objects.put("renditions", `${key}/manifest.json`, Buffer.from(JSON.stringify(manifest)), "application/json");
      context.ports.jobs.records.set(jobId, { jobId, sourceKey: key, status: "succeeded", createdAt: now, updatedAt: now, manifestKey: `${key}/manifest.json` });

      const body = (await (await context.call("GET", `/jobs/${uploadId}`, { sub: "alice" })).json()) as { manifest: { outputs: Array<{ url: string }> } };

      assert.equal(body.manifest.outputs[0].url, `https://signed.test/${key}/thumb.jpg?sig=1`);
      assert.deepEqual(context.signer.downloads, [`${key}/thumb.jpg`]);
    });

    it("gives a rendition Optimize serves from a smaller rendition's file that file's URL (#14.7)", async () => {
      const context = setup({ deliveryBaseUrl: "https://cdn.test" });
      const { uploadId, key, jobId } = await uploaded(context, "alice");
      const now = new Date().toISOString();
      const thumb = { key: `${key}/thumb.jpg`, name: "thumb", kind: "rendition", format: "jpeg", slot: "jpeg", chosen: "fallback", width: 30, height: 20, bytes: 99, savedBytes: 1, contentType: "image/jpeg" };
      const skipped = [{ name: "medium", kind: "rendition", format: "jpeg", slot: "jpeg", bytes: 99, reason: "same-as-smaller-rendition", servedBy: `${key}/thumb.jpg` }];
      const manifest = { jobId, sourceKey: key, source: { width: 30, height: 20, format: "jpeg" }, createdAt: now, outputs: [thumb], skipped };
      await context.ports.objects.put("renditions", `${key}/manifest.json`, Buffer.from(JSON.stringify(manifest)), "application/json");
      context.ports.jobs.records.set(jobId, { jobId, sourceKey: key, status: "succeeded", createdAt: now, updatedAt: now, manifestKey: `${key}/manifest.json` });

      const body = (await (await context.call("GET", `/jobs/${uploadId}`, { sub: "alice" })).json()) as { manifest: { outputs: Array<{ name: string; url: string; width: number }> } };

      assert.deepEqual(
        body.manifest.outputs.map(({ name, url, width }) => [name, url, width]),
        [
          ["thumb", `https://cdn.test/${key}/thumb.jpg?v=${jobId}`, 30],
          ["medium", `https://cdn.test/${key}/thumb.jpg?v=${jobId}`, 30],
        ],
      );
    });

    it("lists on each JPEG's CDN URL the formats stored beside it, and only those, for the edge's negotiation", async () => {
      const context = setup({ deliveryBaseUrl: "https://cdn.test" });
      const { uploadId, key, jobId } = await uploaded(context, "alice");
      const now = new Date().toISOString();
      const file = (name: string, format: string, extension: string) => ({ key: `${key}/${name}.${extension}`, name, kind: "rendition", format, slot: format, chosen: "smallest", width: 30, height: 20, bytes: 99, savedBytes: 1, contentType: `image/${format}` });
      // large's WebP came out larger than its JPEG and was left out.
      const outputs = [file("thumb", "avif", "avif"), file("thumb", "webp", "webp"), file("thumb", "jpeg", "jpg"), file("large", "avif", "avif"), file("large", "jpeg", "jpg")];
      const skipped = [{ name: "large", kind: "rendition", format: "webp", slot: "webp", bytes: 120, reason: "larger-than-jpeg", servedBy: `${key}/large.jpg` }];
      const manifest = { jobId, sourceKey: key, source: { width: 30, height: 20, format: "jpeg" }, createdAt: now, outputs, skipped };
      await context.ports.objects.put("renditions", `${key}/manifest.json`, Buffer.from(JSON.stringify(manifest)), "application/json");
      context.ports.jobs.records.set(jobId, { jobId, sourceKey: key, status: "succeeded", createdAt: now, updatedAt: now, manifestKey: `${key}/manifest.json` });

      const body = (await (await context.call("GET", `/jobs/${uploadId}`, { sub: "alice" })).json()) as { manifest: { outputs: Array<{ name: string; format: string; url: string }> } };
      const urlOf = (name: string, format: string) => body.manifest.outputs.find((o) => o.name === name && o.format === format)?.url;

      assert.equal(urlOf("thumb", "jpeg"), `https://cdn.test/${key}/thumb.jpg?v=${jobId}&f=avif-webp`);
      assert.equal(urlOf("large", "jpeg"), `https://cdn.test/${key}/large.jpg?v=${jobId}&f=avif`);
      assert.equal(urlOf("thumb", "webp"), `https://cdn.test/${key}/thumb.webp?v=${jobId}`);
    });

    it("answers an unchanged status with 304 for its ETag, and tells pollers when to come back", async () => {
      const context = setup();
      const { uploadId } = await uploaded(context, "alice");

      const first = await context.call("GET", `/jobs/${uploadId}`, { sub: "alice" });
      const etag = first.headers.get("etag") as string;
      const second = await context.call("GET", `/jobs/${uploadId}`, { sub: "alice", headers: { "if-none-match": etag } });

      assert.match(etag, /^W\/"[0-9a-f]{16}"$/);
      assert.equal(first.headers.get("retry-after"), "2");
      assert.equal(second.status, 304);
    });

    it("never shows or erases another caller's upload", async () => {
      const context = setup();
      const { uploadId, key } = await uploaded(context, "alice");

      const seen = await context.call("GET", `/jobs/${uploadId}`, { sub: "mallory" });
      const deleted = await context.call("DELETE", `/uploads/${uploadId}`, { sub: "mallory" });

      assert.equal(seen.status, 404);
      assert.equal(((await seen.json()) as { code: string }).code, "NOT_FOUND");
      assert.equal(deleted.status, 204);
      assert.deepEqual(context.erased, []);
      assert.deepEqual(context.ports.objects.keys("uploads"), [key]);
      assert.equal((await context.call("GET", `/jobs/${uploadId}`, { sub: "alice" })).status, 200);
    });

    it("erases the original and what was made of it, then answers 404; a second DELETE is 204 too", async () => {
      const context = setup();
      const { uploadId, key } = await uploaded(context, "alice");

      const first = await context.call("DELETE", `/uploads/${uploadId}`, { sub: "alice" });
      const after = await context.call("GET", `/jobs/${uploadId}`, { sub: "alice" });
      const again = await context.call("DELETE", `/uploads/${uploadId}`, { sub: "alice" });

      assert.equal(first.status, 204);
      assert.deepEqual(context.erased, [key]);
      assert.deepEqual(context.ports.objects.keys("uploads"), []);
      assert.deepEqual(context.ports.objects.keys("work"), []);
      assert.equal(after.status, 404);
      assert.equal(again.status, 204);
    });

    it("refuses an upload id that is not a UUID with REQUEST_INVALID", async () => {
      const context = setup();

      const response = await context.call("GET", "/jobs/..%2F..%2Fx", { sub: "alice" });

      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as { code: string }).code, "REQUEST_INVALID");
    });
  });

  describe("GET /jobs/{uploadId}/events", () => {
    it("sends the status as one SSE event with a retry hint where the host buffers responses", async () => {
      const context = setup();
      const grant = (await (await context.call("POST", "/uploads", { sub: "alice", body: image })).json()) as { uploadId: string };

      const response = await context.call("GET", `/jobs/${grant.uploadId}/events`, { sub: "alice" });
      const text = await response.text();

      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
      assert.match(text, /^event: status$/m);
      assert.match(text, /^retry: 2000$/m);
      assert.match(text, /^data: \{"uploadId":"[0-9a-f-]{36}","status":"pending"\}$/m);
    });

    it("answers an unknown upload with a JSON 404 rather than a stream", async () => {
      const context = setup();

      const response = await context.call("GET", "/jobs/0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11/events", { sub: "alice" });

      assert.equal(response.status, 404);
      assert.equal(((await response.json()) as { code: string }).code, "NOT_FOUND");
    });
  });

  describe("errors and the OpenAPI document", () => {
    it("hides an unexpected failure behind a generic 500 and logs its details", async () => {
      const context = setup();
      context.signer.signUpload = async () => {
        throw new Error("secret internal detail: bucket arn:aws:s3:::private");
      };

      const response = await context.call("POST", "/uploads", { sub: "alice", body: image });
      const body = (await response.json()) as { code: string; message: string; requestId: string };

      assert.equal(response.status, 500);
      assert.equal(body.code, "INTERNAL");
      assert.ok(!body.message.includes("secret"));
      assert.equal(context.logs.length, 1);
      assert.equal(context.logs[0].requestId, body.requestId);
      assert.match(String(context.logs[0].error), /secret internal detail/);
    });

    it("answers an unknown route with a coded 404", async () => {
      const response = await setup().call("GET", "/nothing-here");

      assert.equal(response.status, 404);
      assert.equal(((await response.json()) as { code: string }).code, "NOT_FOUND");
    });

    it("serves an OpenAPI document of the four routes, without authentication", async () => {
      const response = await setup().call("GET", "/openapi.json");
      const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };

      assert.equal(response.status, 200);
      assert.equal(document.openapi, "3.0.3");
      assert.deepEqual(Object.keys(document.paths).sort(), ["/jobs/{uploadId}", "/jobs/{uploadId}/events", "/uploads", "/uploads/{uploadId}"]);
      assert.deepEqual(Object.keys(document.paths["/uploads"]), ["post"]);
      assert.deepEqual(Object.keys(document.paths["/uploads/{uploadId}"]), ["delete"]);
      assert.ok(document.components.schemas.UploadRequest);
      assert.ok(document.components.schemas.Error);
    });
  });
});
