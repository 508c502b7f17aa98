import assert from "node:assert/strict";
import sharp from "sharp";
import { samplePhoto } from "../../../local/sampleImages";
import { servedApi } from "../../helpers/servedApi";
import { loadConfig, type Cloud } from "../../../components/config";

/**
 * The API's contract against the local server, for both flavours: presign, a real upload
 * to the emulator with the signed POST/SAS, status, renditions, erasure; and hostile
 * requests, each with its code and nothing stored. Auth is a JWT issuer whose key set is
 * served on 127.0.0.1, so the deployed code path (jose's remote key set) is the one tested.
 */

interface Grant {
  uploadId: string;
  method: "POST" | "PUT";
  url: string;
  fields?: Record<string, string>;
  headers?: Record<string, string>;
  expiresAt: string;
}

interface Job {
  uploadId: string;
  status: string;
  error?: { code: string };
  manifest?: { baseUrl?: string; outputs: Array<{ name: string; format: string; url: string; width: number }>; responsive?: Array<{ picture: string }> };
}

/** Sends the file to storage exactly as a browser does with the grant. */
async function sendFile(grant: Grant, body: Buffer, contentType: string): Promise<Response> {
  if (grant.method === "POST") {
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.fields ?? {})) form.append(name, value);
    form.append("file", new Blob([new Uint8Array(body)], { type: contentType }));
    return fetch(grant.url, { method: "POST", body: form });
  }
  return fetch(grant.url, { method: "PUT", headers: grant.headers, body: new Uint8Array(body) });
}

for (const cloud of ["aws", "azure"] as const satisfies readonly Cloud[]) {
  describe(`local/serve: the API's contract (${cloud} flavour)`, function () {
    this.timeout(240_000);
    let clockShiftMs = 0;
    let photo: Buffer;
    const harness = servedApi({ cloud, processing: { ...loadConfig({}).processing, markup: true }, now: () => new Date(Date.now() + clockShiftMs), pollMs: 100 });
    const api = harness.call;

    before(async () => {
      // Photo-like (gradients and grain): a flat colour would rightly come out as lossless PNG instead of JPEG.
      photo = await samplePhoto({ width: 640, height: 480, seed: 5 });
    });

    const presign = async (sub: string, request: { filename: string; contentType: string; bytes: number }) => {
      const response = await api(sub, "POST", "/uploads", request);
      assert.equal(response.status, 201, await response.clone().text());
      return (await response.json()) as Grant;
    };

    async function waitForEnd(sub: string, uploadId: string): Promise<Job> {
      for (;;) {
        const response = await api(sub, "GET", `/jobs/${uploadId}`);
        assert.equal(response.status, 200);
        const job = (await response.json()) as Job;
        if (job.status === "succeeded" || job.status === "failed") return job;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }

    const storedUploads = async () => (await harness.server.flavour.ports.objects.list("uploads", "")).items.map((item) => item.key);
    const tickets = async () => (await harness.server.flavour.ports.objects.list("work", "api/")).items.map((item) => item.key);

    it("presign → upload → status (SSE) → renditions → erase → 404", async () => {
      const grant = await presign("alice", { filename: "holiday.jpg", contentType: "image/jpeg", bytes: photo.length });
      const stored = await sendFile(grant, photo, "image/jpeg");
      assert.ok(stored.ok, `the emulator took the upload (HTTP ${stored.status})`);

      // The stream ends by itself once the job ends; its last status event is the outcome.
      const events = await api("alice", "GET", `/jobs/${grant.uploadId}/events`);
      assert.match(events.headers.get("content-type") ?? "", /^text\/event-stream/);
      const statuses = [...(await events.text()).matchAll(/^data: (.*)$/gm)].map((match) => (JSON.parse(match[1]) as Job).status);
      assert.equal(statuses[statuses.length - 1], "succeeded");

      const job = await waitForEnd("alice", grant.uploadId);
      assert.equal(job.status, "succeeded");
      const outputs = job.manifest?.outputs ?? [];
      // Every rendition has its JPEG; a WebP only where Optimize found it smaller (#14.7), and each listed URL serves.
      assert.deepEqual(outputs.filter((output) => output.format === "jpeg").map((output) => output.name).sort(), ["large", "medium", "thumb"]);
      assert.ok(outputs.some((output) => output.name === "thumb" && output.format === "webp"), "the 320 px photo's WebP beats its JPEG");
      for (const output of outputs) assert.equal((await fetch(output.url)).status, 200, `${output.name}.${output.format}`);
      assert.match(job.manifest?.responsive?.[0]?.picture ?? "", /^<picture>/);

      const thumbJpeg = outputs.find((output) => output.name === "thumb" && output.format === "jpeg") as { url: string };
      const plain = await fetch(thumbJpeg.url, { headers: { accept: "image/jpeg" } });
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get("content-type"), "image/jpeg");
      assert.equal(plain.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.equal((await sharp(Buffer.from(await plain.arrayBuffer())).metadata()).width, 320);
      const negotiated = await fetch(thumbJpeg.url, { headers: { accept: "image/avif,image/webp,*/*" } });
      assert.equal(negotiated.headers.get("content-type"), "image/webp");
      assert.equal(negotiated.headers.get("vary"), "Accept");
      assert.equal((await sharp(Buffer.from(await negotiated.arrayBuffer())).metadata()).format, "webp");

      const erased = await api("alice", "DELETE", `/uploads/${grant.uploadId}`);
      assert.equal(erased.status, 204);
      const gone = await api("alice", "GET", `/jobs/${grant.uploadId}`);
      assert.equal(gone.status, 404);
      assert.equal(((await gone.json()) as { code: string }).code, "NOT_FOUND");
      assert.equal((await fetch(thumbJpeg.url)).status, 404);
      assert.ok(!(await storedUploads()).some((key) => key.includes(grant.uploadId)));
      const prefix = (job.manifest?.baseUrl ?? "").replace(`${harness.server.url}/renditions/`, "");
      assert.deepEqual((await harness.server.flavour.ports.objects.list("renditions", decodeURIComponent(prefix))).items, []);
      assert.equal((await api("alice", "DELETE", `/uploads/${grant.uploadId}`)).status, 204);
    });

    it("refuses a non-image, an oversized file and a huge JSON body with their codes, storing nothing", async () => {
      const before = { uploads: await storedUploads(), tickets: await tickets() };

      const pdf = await api("bob", "POST", "/uploads", { filename: "doc.pdf", contentType: "application/pdf", bytes: 1000 });
      const big = await api("bob", "POST", "/uploads", { filename: "big.jpg", contentType: "image/jpeg", bytes: 52428801 });
      const huge = await api("bob", "POST", "/uploads", JSON.stringify({ filename: "a".repeat(200_000), contentType: "image/jpeg", bytes: 10 }));

      assert.deepEqual([pdf.status, ((await pdf.json()) as { code: string }).code], [400, "UNSUPPORTED_FORMAT"]);
      assert.deepEqual([big.status, ((await big.json()) as { code: string }).code], [413, "TOO_LARGE"]);
      assert.deepEqual([huge.status, ((await huge.json()) as { code: string }).code], [413, "REQUEST_TOO_LARGE"]);
      assert.deepEqual({ uploads: await storedUploads(), tickets: await tickets() }, before);
    });

    it("refuses a request without a valid token with UNAUTHORIZED", async () => {
      const response = await fetch(`${harness.server.apiUrl}/uploads`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer nope" }, body: JSON.stringify({ filename: "a.jpg", contentType: "image/jpeg", bytes: 10 }) });

      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as { code: string }).code, "UNAUTHORIZED");
    });

    it("keeps a path-traversing file name inside the caller's own prefix", async () => {
      const grant = await presign("carol", { filename: "../../../users/someone/../../etc/passwd.jpg", contentType: "image/jpeg", bytes: photo.length });
      assert.ok((await sendFile(grant, photo, "image/jpeg")).ok);

      const keys = (await storedUploads()).filter((key) => key.includes(grant.uploadId));

      assert.equal(keys.length, 1);
      assert.match(keys[0], new RegExp(`^users/[0-9a-f]{32}/${grant.uploadId}/passwd\\.jpg$`));
      await waitForEnd("carol", grant.uploadId);
      assert.equal((await api("carol", "DELETE", `/uploads/${grant.uploadId}`)).status, 204);
    });

    it("never shows or erases another user's upload", async () => {
      const grant = await presign("dave", { filename: "mine.jpg", contentType: "image/jpeg", bytes: photo.length });
      assert.ok((await sendFile(grant, photo, "image/jpeg")).ok);
      const job = await waitForEnd("dave", grant.uploadId);

      const peek = await api("eve", "GET", `/jobs/${grant.uploadId}`);
      const erase = await api("eve", "DELETE", `/uploads/${grant.uploadId}`);

      assert.equal(peek.status, 404);
      assert.equal(erase.status, 204);
      assert.equal(job.status, "succeeded");
      assert.equal((await waitForEnd("dave", grant.uploadId)).status, "succeeded");
      assert.equal((await storedUploads()).filter((key) => key.includes(grant.uploadId)).length, 1);
      assert.equal((await api("dave", "DELETE", `/uploads/${grant.uploadId}`)).status, 204);
    });

    if (cloud === "azure") {
      it("refuses an expired SAS and a replayed one (create-only), storing nothing new", async () => {
        clockShiftMs = -3600_000;
        const expired = await presign("frank", { filename: "late.jpg", contentType: "image/jpeg", bytes: photo.length }).finally(() => (clockShiftMs = 0));
        const late = await sendFile(expired, photo, "image/jpeg");
        assert.equal(late.status, 403);
        assert.ok(!(await storedUploads()).some((key) => key.includes(expired.uploadId)));

        const grant = await presign("frank", { filename: "once.jpg", contentType: "image/jpeg", bytes: photo.length });
        assert.ok((await sendFile(grant, photo, "image/jpeg")).ok);
        const other = await sharp({ create: { width: 50, height: 50, channels: 3, background: "#000" } }).jpeg().toBuffer();
        const replay = await sendFile(grant, other, "image/jpeg");
        assert.ok(replay.status === 403 || replay.status === 409, `a replayed create-only SAS is refused (HTTP ${replay.status})`);
        const key = (await storedUploads()).find((stored) => stored.includes(grant.uploadId)) as string;
        assert.deepEqual(await harness.server.flavour.ports.objects.get("uploads", key), photo);
        await waitForEnd("frank", grant.uploadId);
        assert.equal((await api("frank", "DELETE", `/uploads/${grant.uploadId}`)).status, 204);
      });
    } else {
      it("refuses, as S3 does, an expired POST, a bigger file than signed, another content type or key, storing nothing", async () => {
        clockShiftMs = -3600_000;
        const expired = await presign("frank", { filename: "late.jpg", contentType: "image/jpeg", bytes: photo.length }).finally(() => (clockShiftMs = 0));
        const small = await presign("frank", { filename: "small.jpg", contentType: "image/jpeg", bytes: 100 });
        const typed = await presign("frank", { filename: "typed.jpg", contentType: "image/jpeg", bytes: photo.length });
        const keyed = await presign("frank", { filename: "keyed.jpg", contentType: "image/jpeg", bytes: photo.length });
        // The SDK takes a lifetime, not a time: an expiry in the past is its shortest, one second.
        await new Promise((resolve) => setTimeout(resolve, 2500));

        const late = await sendFile(expired, photo, "image/jpeg");
        const tooBig = await sendFile(small, photo, "image/jpeg");
        const otherType = await sendFile({ ...typed, fields: { ...typed.fields, "Content-Type": "text/html" } }, photo, "text/html");
        const otherKey = await sendFile({ ...keyed, fields: { ...keyed.fields, key: "users/someone-else/x/keyed.jpg" } }, photo, "image/jpeg");

        assert.deepEqual([late.status, /<Code>AccessDenied<\/Code>.*Policy expired/.test(await late.text())], [403, true]);
        assert.deepEqual([tooBig.status, /<Code>EntityTooLarge<\/Code>/.test(await tooBig.text())], [400, true]);
        assert.deepEqual([otherType.status, /Policy Condition failed: \["eq", "\$content-type", "image\/jpeg"\]/.test(await otherType.text())], [403, true]);
        assert.deepEqual([otherKey.status, /Policy Condition failed: \["eq", "\$key"/.test(await otherKey.text())], [403, true]);
        const stored = await storedUploads();
        for (const grant of [expired, small, typed, keyed]) assert.ok(!stored.some((key) => key.includes(grant.uploadId)), `nothing stored for ${grant.uploadId}`);
        assert.ok(!stored.some((key) => key.startsWith("users/someone-else/")));
      });
    }
  });
}
