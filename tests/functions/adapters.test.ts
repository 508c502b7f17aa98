import assert from "node:assert/strict";
import {
  checkRetentionDays,
  etagDiffers,
  expiresAtAfterDays,
  isLoopbackUrl,
  quoteEtag,
  storageError,
  unquoteEtag,
  versionGoneError,
} from "../../functions/adapters";
import { PipelineError } from "../../functions/core/errors";
import { isVersionGone } from "../../functions/ports";
import { pipelineError } from "../helpers/portContract";

const target = { service: "S3", resource: 'bucket "uploads"', item: 'object "a.jpg"', details: { bucket: "uploads", key: "a.jpg" } };
const advice = { grantAdvice: "grant the function's role access to it" };

describe("the adapters' shared error translation", () => {
  it("names the service, the item and where it is in every message", () => {
    const error = storageError(new Error("gone"), target, { status: 404, reason: "NoSuchKey" }, advice);

    assert.equal(error.code, "NOT_FOUND");
    assert.equal(error.message, 'S3 found no object "a.jpg" in bucket "uploads".');
    assert.deepEqual({ bucket: error.details.bucket, key: error.details.key, status: error.details.status }, { bucket: "uploads", key: "a.jpg", status: 404 });
  });

  it("maps by status when the cloud's names say nothing: 429 and 503 THROTTLED, other 5xx STORAGE_UNAVAILABLE, 401/403 CONFIG_INVALID, the rest INTERNAL", () => {
    const codes = [429, 503, 500, 502, 401, 403, 400].map((status) => storageError({}, target, { status, reason: `HTTP ${status}` }, advice).code);

    assert.deepEqual(codes, ["THROTTLED", "THROTTLED", "STORAGE_UNAVAILABLE", "STORAGE_UNAVAILABLE", "CONFIG_INVALID", "CONFIG_INVALID", "INTERNAL"]);
  });

  it("lets the cloud's own names decide before the status", () => {
    assert.equal(storageError({}, target, { status: 400, reason: "SlowDown", throttled: true }, advice).code, "THROTTLED");
    assert.equal(storageError({}, target, { status: 400, reason: "BlobNotFound", notFound: true }, advice).code, "NOT_FOUND");
    assert.equal(storageError({}, target, { reason: "REQUEST_SEND_ERROR", unavailable: true }, advice).code, "STORAGE_UNAVAILABLE");
  });

  it("treats a network failure as STORAGE_UNAVAILABLE, retried", () => {
    for (const networkCode of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN", "UND_ERR_SOCKET"]) {
      const error = storageError(new Error("socket"), target, { reason: networkCode, networkCode }, advice);
      assert.equal(error.code, "STORAGE_UNAVAILABLE", networkCode);
      assert.equal(error.permanent, false);
    }
  });

  it("says what to grant when access is denied", () => {
    const error = storageError({}, target, { status: 403, reason: "AccessDenied" }, advice);

    assert.equal(error.code, "CONFIG_INVALID");
    assert.equal(error.message, `S3 denied access to object "a.jpg" in bucket "uploads" (AccessDenied); grant the function's role access to it.`);
  });

  it("keeps a PipelineError as it is", () => {
    const original = new PipelineError("TOO_LARGE", "Too large.");

    assert.equal(storageError(original, target, { status: 500, reason: "x" }, advice), original);
  });
});

describe("a read of a version that is gone", () => {
  it("is a permanent NOT_FOUND that says the upload was replaced and names the version", () => {
    const error = versionGoneError(target, { versionId: "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", etag: '"abc"' }, "NoSuchVersion");

    assert.equal(error.code, "NOT_FOUND");
    assert.equal(error.permanent, true);
    assert.match(error.message, /object "a\.jpg" in bucket "uploads".*version 3HL4kqtJlcpXroDTDmjVBH40Nrjfkd.*replaced by a newer upload, which runs as its own job/);
    assert.equal(error.details.etag, "abc");
    assert.equal(isVersionGone(error), true);
  });

  it("is told apart from a plain missing object", () => {
    assert.equal(isVersionGone(storageError({}, target, { status: 404, reason: "NoSuchKey" }, advice)), false);
    assert.equal(isVersionGone(new Error("NOT_FOUND")), false);
  });
});

describe("ETags", () => {
  it("compare without their quotes", () => {
    assert.equal(unquoteEtag('"0x8D4BCC2E4835CD0"'), "0x8D4BCC2E4835CD0");
    assert.equal(quoteEtag("0x8D4BCC2E4835CD0"), '"0x8D4BCC2E4835CD0"');
    assert.equal(quoteEtag('"0x8D4BCC2E4835CD0"'), '"0x8D4BCC2E4835CD0"');
    assert.equal(etagDiffers({ etag: "abc" }, '"abc"'), false);
    assert.equal(etagDiffers({ etag: "abc" }, '"abd"'), true);
  });

  it("differ from nothing when no ETag was named or none came back", () => {
    assert.equal(etagDiffers(undefined, '"abc"'), false);
    assert.equal(etagDiffers({ versionId: "v1" }, '"abc"'), false);
    assert.equal(etagDiffers({ etag: "abc" }, undefined), false);
  });
});

describe("job record expiry", () => {
  it("is epoch seconds the retention's days after now, or none without a retention", () => {
    const now = Date.UTC(2026, 0, 1);

    assert.equal(expiresAtAfterDays(30, now), 1767225600 + 30 * 86_400);
    assert.equal(expiresAtAfterDays(0.5, now), 1767225600 + 43_200);
    assert.equal(expiresAtAfterDays(undefined, now), undefined);
  });

  it("refuses a retention that is not a positive number of days", () => {
    assert.equal(checkRetentionDays(7), 7);
    assert.equal(checkRetentionDays(undefined), undefined);
    for (const days of [0, -1, Number.NaN]) assert.throws(() => checkRetentionDays(days), pipelineError("CONFIG_INVALID", /retentionDays/));
  });
});

describe("loopback URLs", () => {
  it("are the emulators on this machine, and nothing else", () => {
    assert.deepEqual(
      ["http://127.0.0.1:10000/devstoreaccount1", "http://localhost:4569", "http://[::1]:9000"].map(isLoopbackUrl),
      [true, true, true],
    );
    assert.deepEqual(["https://acct.blob.core.windows.net", "http://example.com:9000", "not a url", undefined].map(isLoopbackUrl), [false, false, false, false]);
  });
});
