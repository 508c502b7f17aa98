import assert from "node:assert/strict";
import { PipelineError } from "../../functions/core/errors";
import { isVersionGone, type JobRecord, type Ports } from "../../functions/ports";

/**
 * The behaviour every Ports implementation promises (functions/ports.ts): the AWS and
 * Azure adapters against their emulators, and the in-memory fakes the step tests use.
 * Call inside a describe whose `before` has made the ports; `ports()` returns them.
 */

export function runningJob(jobId: string, overrides: Partial<JobRecord> = {}): JobRecord {
  const now = new Date().toISOString();
  return { jobId, sourceKey: `photos/${jobId}.jpg`, status: "running", createdAt: now, updatedAt: now, ...overrides };
}

/** An assert.rejects validator: the error is a PipelineError with this code and a message matching every pattern. */
export function pipelineError(code: string, ...patterns: RegExp[]) {
  return (error: unknown) => {
    assert.ok(error instanceof PipelineError, `expected a PipelineError, got ${String(error)}`);
    assert.equal(error.code, code);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

export interface ContractOptions {
  /**
   * The object store keeps an upload's older versions (S3 with versioning, the
   * in-memory store): a read pinned to a version id returns its bytes after an
   * overwrite. Otherwise (azurite, s3rver) that read fails NOT_FOUND (versionGone).
   */
  keepsVersions: boolean;
}

/**
 * For ports whose emulators were stopped: object and job store calls fail as a
 * transient STORAGE_UNAVAILABLE naming what they were about, never a raw SDK error.
 */
export async function assertStoresUnavailable(ports: Ports): Promise<void> {
  await assert.rejects(ports.objects.get("uploads", "a.jpg"), (error: PipelineError) => {
    assert.equal(error.code, "STORAGE_UNAVAILABLE");
    assert.equal(error.name, "TransientError");
    assert.match(error.message, /"uploads"/);
    assert.match(error.message, /a\.jpg/);
    return true;
  });
  await assert.rejects(ports.jobs.create(runningJob("job-down")), pipelineError("STORAGE_UNAVAILABLE", /"jobs"/, /job-down/));
  await assert.rejects(ports.jobs.finish("job-down", { status: "failed" }), pipelineError("STORAGE_UNAVAILABLE", /job-down/));
}

/** An assert.rejects validator: the NOT_FOUND of a pinned read whose version was replaced, naming the key. */
export function versionGone(key: string) {
  return (error: unknown) => {
    pipelineError("NOT_FOUND", /replaced by a newer upload/)(error);
    assert.equal(isVersionGone(error), true, "details.versionGone is set");
    assert.ok((error as Error).message.includes(key), `the message names ${key}`);
    return true;
  };
}

export function describePortContract(ports: () => Ports, { keepsVersions }: ContractOptions): void {
  describe("the ports contract", () => {
    // Ids unique per run, so the suite can share a store with other tests.
    const id = (name: string) => `contract-${name}-${process.hrtime.bigint()}`;
    const first = Buffer.from("the first upload");
    const second = Buffer.from("the second, longer upload of the same key");

    it("reads the newest version when none is named", async () => {
      const key = `${id("newest")}/cat.jpg`;
      await ports().objects.put("uploads", key, first, "image/jpeg");
      await ports().objects.put("uploads", key, second, "image/jpeg");

      assert.deepEqual(await ports().objects.get("uploads", key), second);
      assert.equal((await ports().objects.head("uploads", key)).bytes, second.length);
    });

    it("reads the version head named while it is the newest, and gives an overwrite another ETag", async () => {
      const key = `${id("pinned")}/cat.jpg`;
      await ports().objects.put("uploads", key, first, "image/jpeg");
      const named = await ports().objects.head("uploads", key);

      assert.deepEqual(await ports().objects.get("uploads", key, named), first);
      assert.equal((await ports().objects.head("uploads", key, named)).bytes, first.length);
      await ports().objects.put("uploads", key, second, "image/jpeg");
      assert.notEqual((await ports().objects.head("uploads", key)).etag, named.etag);
    });

    it(
      keepsVersions
        ? "reads the named version's own bytes after the key was overwritten"
        : "refuses a named version after the key was overwritten with NOT_FOUND saying it was replaced, never the newer bytes",
      async () => {
        const key = `${id("overwritten")}/cat.jpg`;
        await ports().objects.put("uploads", key, first, "image/jpeg");
        const named = await ports().objects.head("uploads", key);
        await ports().objects.put("uploads", key, second, "image/jpeg");

        if (keepsVersions) {
          assert.deepEqual(await ports().objects.get("uploads", key, named), first);
          assert.equal((await ports().objects.head("uploads", key, named)).bytes, first.length);
        } else {
          await assert.rejects(ports().objects.get("uploads", key, named), versionGone(key));
          await assert.rejects(ports().objects.head("uploads", key, named), versionGone(key));
        }
      },
    );

    it("refuses a version named by its ETag alone once the key was overwritten (If-Match), on every store", async () => {
      const key = `${id("etag")}/cat.jpg`;
      await ports().objects.put("uploads", key, first, "image/jpeg");
      const { etag } = await ports().objects.head("uploads", key);
      await ports().objects.put("uploads", key, second, "image/jpeg");

      await assert.rejects(ports().objects.get("uploads", key, { etag }), versionGone(key));
      await assert.rejects(ports().objects.head("uploads", key, { etag }), versionGone(key));
    });

    it("returns the bytes it stored, with their size and content type", async () => {
      const body = Buffer.from("not really a jpeg");
      const key = `${id("object")}/cat.jpg`;

      await ports().objects.put("uploads", key, body, "image/jpeg");
      const info = await ports().objects.head("uploads", key);

      assert.deepEqual(await ports().objects.get("uploads", key), body);
      assert.equal(info.bytes, body.length);
      assert.equal(info.contentType, "image/jpeg");
    });

    it("keeps the areas apart", async () => {
      const key = `${id("areas")}.png`;

      await ports().objects.put("work", key, Buffer.from("png"), "image/png");

      await assert.rejects(ports().objects.get("renditions", key), pipelineError("NOT_FOUND"));
    });

    it("reports a missing object as a permanent NOT_FOUND naming its key and where it was looked for", async () => {
      const key = `${id("missing")}.jpg`;

      await assert.rejects(ports().objects.get("uploads", key), pipelineError("NOT_FOUND", new RegExp(key), /uploads/));
      await assert.rejects(ports().objects.head("renditions", key), (error: PipelineError) => {
        assert.equal(error.code, "NOT_FOUND");
        assert.equal(error.permanent, true);
        assert.equal(error.name, "PermanentError");
        assert.match(error.message, /renditions/);
        return true;
      });
    });

    it("lists the keys under a prefix a page at a time, in key order, relative to their area", async () => {
      const prefix = `${id("list")}/cat.jpg/`;
      const names = ["medium.webp", "thumb.jpg", "effect-sepia.jpg", "large.avif", "manifest.json"];
      for (const name of names) await ports().objects.put("renditions", `${prefix}${name}`, Buffer.from(name), "application/octet-stream");
      // Neither a sibling with a longer name nor the same key in another area is listed.
      await ports().objects.put("renditions", `${prefix.slice(0, -1)}.bak`, Buffer.from("sibling"), "application/octet-stream");
      await ports().objects.put("work", `${prefix}thumb.png`, Buffer.from("work"), "image/png");

      const pages: Array<{ keys: string[]; cursor?: string }> = [];
      let cursor: string | undefined;
      do {
        const page = await ports().objects.list("renditions", prefix, { cursor, limit: 2 });
        pages.push({ keys: page.items.map((item) => item.key), cursor: page.cursor });
        cursor = page.cursor;
      } while (cursor !== undefined && pages.length < 10);

      assert.deepEqual(
        pages.map((page) => page.keys),
        [
          [`${prefix}effect-sepia.jpg`, `${prefix}large.avif`],
          [`${prefix}manifest.json`, `${prefix}medium.webp`],
          [`${prefix}thumb.jpg`],
        ],
      );
      assert.equal(pages[2].cursor, undefined, "the last page has no cursor");
    });

    it("lists each object with its size and the ETag head reports, and work objects by their work key", async () => {
      const key = `${id("listed")}/cat.png`;
      await ports().objects.put("work", key, Buffer.from("twelve bytes"), "image/png");

      const { items, cursor } = await ports().objects.list("work", key);
      const info = await ports().objects.head("work", key);

      assert.deepEqual(items.map((item) => [item.key, item.bytes, item.etag]), [[key, 12, info.etag]]);
      assert.equal(cursor, undefined);
    });

    it("keeps intermediates out of a renditions listing", async () => {
      const key = `${id("apart")}.png`;
      await ports().objects.put("work", key, Buffer.from("png"), "image/png");

      const { items } = await ports().objects.list("renditions", "work/");

      assert.deepEqual(items.filter((item) => item.key.includes(key)), []);
    });

    it("lists nothing under a prefix that has no objects", async () => {
      assert.deepEqual(await ports().objects.list("renditions", `${id("empty")}/`), { items: [], cursor: undefined });
    });

    it("deletes an object, and deleting it again or one that never existed is fine", async () => {
      const key = `${id("delete")}/cat.jpg/thumb.webp`;
      await ports().objects.put("renditions", key, Buffer.from("thumb"), "image/webp");

      await ports().objects.delete("renditions", key);
      await ports().objects.delete("renditions", key);
      await ports().objects.delete("renditions", `${id("never")}.webp`);

      await assert.rejects(ports().objects.get("renditions", key), pipelineError("NOT_FOUND"));
      assert.deepEqual((await ports().objects.list("renditions", key)).items, []);
    });

    it("deletes only the key named, not longer keys that start with it", async () => {
      const key = `${id("exact")}/cat.jpg`;
      await ports().objects.put("uploads", key, first, "image/jpeg");
      await ports().objects.put("uploads", `${key}/thumb.webp`, second, "image/webp");

      await ports().objects.delete("uploads", key, { allVersions: true });

      await assert.rejects(ports().objects.head("uploads", key), pipelineError("NOT_FOUND"));
      assert.deepEqual(await ports().objects.get("uploads", `${key}/thumb.webp`), second);
    });

    it(
      keepsVersions
        ? "keeps an upload's older versions after a plain delete, and removes them all with allVersions"
        : "removes an upload with every version, so no pinned read finds it",
      async () => {
        const key = `${id("versions")}/cat.jpg`;
        await ports().objects.put("uploads", key, first, "image/jpeg");
        const named = await ports().objects.head("uploads", key);
        await ports().objects.put("uploads", key, second, "image/jpeg");

        await ports().objects.delete("uploads", key);
        await assert.rejects(ports().objects.head("uploads", key), pipelineError("NOT_FOUND"));
        if (keepsVersions) assert.deepEqual(await ports().objects.get("uploads", key, named), first);
        await ports().objects.delete("uploads", key, { allVersions: true });

        await assert.rejects(ports().objects.get("uploads", key, named), pipelineError("NOT_FOUND"));
        await assert.rejects(ports().objects.get("uploads", key), pipelineError("NOT_FOUND"));
      },
    );

    it("deletes a job record; deleting it again or a job never recorded is fine, and the id can be recorded anew", async () => {
      const jobId = id("delete-job");
      await ports().jobs.create(runningJob(jobId));
      await ports().jobs.finish(jobId, { status: "succeeded" });

      await ports().jobs.delete(jobId);
      await ports().jobs.delete(jobId);
      await ports().jobs.delete(id("never-job"));

      assert.equal(await ports().jobs.get(jobId), undefined);
      assert.deepEqual((await ports().jobs.listOpen(new Date(Date.now() + 60_000).toISOString(), 1000)).filter((job) => job.jobId === jobId), []);
      assert.equal(await ports().jobs.create(runningJob(jobId)), true);
    });

    it("creates a job once: a second create returns false and leaves the first record unchanged", async () => {
      const jobId = id("create");
      const first = runningJob(jobId, { runId: "run-1" });

      const created = await ports().jobs.create(first);
      const again = await ports().jobs.create({ ...first, runId: "run-2", sourceKey: "other.jpg" });
      const stored = await ports().jobs.get(jobId);

      assert.equal(created, true);
      assert.equal(again, false);
      assert.equal(stored?.runId, "run-1");
      assert.equal(stored?.sourceKey, first.sourceKey);
    });

    it("finishes a running job once: a second finish returns false and changes nothing", async () => {
      const jobId = id("finish");
      await ports().jobs.create(runningJob(jobId));

      const finished = await ports().jobs.finish(jobId, { status: "succeeded", manifestKey: "m.json", outputs: 6 });
      const again = await ports().jobs.finish(jobId, { status: "failed", error: { code: "TIMEOUT", message: "late", permanent: false } });
      const stored = await ports().jobs.get(jobId);

      assert.equal(finished, true);
      assert.equal(again, false);
      assert.equal(stored?.status, "succeeded");
      assert.equal(stored?.outputs, 6);
      assert.equal(stored?.error, undefined);
    });

    it("lets exactly one of concurrent finishes win", async () => {
      const jobId = id("race");
      await ports().jobs.create(runningJob(jobId));

      const results = await Promise.all([
        ports().jobs.finish(jobId, { status: "succeeded" }),
        ports().jobs.finish(jobId, { status: "failed" }),
        ports().jobs.finish(jobId, { status: "succeeded" }),
      ]);

      assert.equal(results.filter(Boolean).length, 1);
    });

    it("creates the final record when finishing a job that was never recorded", async () => {
      const jobId = id("unrecorded");

      const finished = await ports().jobs.finish(jobId, { status: "failed", sourceKey: "photos/x.jpg" });
      const stored = await ports().jobs.get(jobId);

      assert.equal(finished, true);
      assert.equal(stored?.status, "failed");
      assert.equal(stored?.sourceKey, "photos/x.jpg");
      assert.ok(stored?.createdAt, "the record gets a createdAt");
    });

    it("finishes a running job for its own run only, when a runId is given", async () => {
      const jobId = id("owned");
      await ports().jobs.create(runningJob(jobId, { runId: "run-1" }));

      const byOther = await ports().jobs.finish(jobId, { status: "failed", error: { code: "THROTTLED", message: "gave up", permanent: false } }, "run-2");
      const untouched = await ports().jobs.get(jobId);
      const byOwner = await ports().jobs.finish(jobId, { status: "succeeded", outputs: 2 }, "run-1");
      const stored = await ports().jobs.get(jobId);

      assert.equal(byOther, false);
      assert.equal(untouched?.status, "running");
      assert.equal(untouched?.error, undefined);
      assert.equal(byOwner, true);
      assert.equal(stored?.status, "succeeded");
      assert.equal(stored?.runId, "run-1");
    });

    it("lets a run finish a job recorded without an owner, or not recorded at all", async () => {
      const ownerless = id("ownerless");
      await ports().jobs.create(runningJob(ownerless));
      const unrecorded = id("unrecorded-run");

      assert.equal(await ports().jobs.finish(ownerless, { status: "failed" }, "run-9"), true);
      assert.equal(await ports().jobs.finish(unrecorded, { status: "failed", sourceKey: "photos/y.jpg" }, "run-9"), true);
      assert.equal((await ports().jobs.get(ownerless))?.status, "failed");
      assert.equal((await ports().jobs.get(unrecorded))?.status, "failed");
    });

    it("lists the open jobs (running, or finished but not announced) that started before a time, and no others", async () => {
      // Times long past, so jobs other tests leave in a shared store never qualify.
      const old = (second: number) => `2001-01-01T00:00:0${second}.000Z`;
      const [running, ownedRunning, recent, finished, announced] = ["running", "owned", "recent", "finished", "announced"].map(id);
      await ports().jobs.create(runningJob(running, { createdAt: old(1) }));
      await ports().jobs.create(runningJob(ownedRunning, { createdAt: old(2), runId: "run-1" }));
      await ports().jobs.create(runningJob(recent));
      await ports().jobs.create(runningJob(finished, { createdAt: old(3) }));
      await ports().jobs.finish(finished, { status: "succeeded", manifestKey: "m.json" });
      await ports().jobs.create(runningJob(announced, { createdAt: old(4) }));
      await ports().jobs.finish(announced, { status: "failed" });
      await ports().jobs.markAnnounced(announced);

      const ours = new Set([running, ownedRunning, recent, finished, announced]);
      const listed = (await ports().jobs.listOpen("2001-01-02T00:00:00.000Z", 50)).filter((job) => ours.has(job.jobId));
      const one = await ports().jobs.listOpen("2001-01-02T00:00:00.000Z", 1);

      assert.deepEqual(listed.map((job) => job.jobId).sort(), [running, ownedRunning, finished].sort());
      for (const job of listed) {
        assert.equal(job.sourceKey, `photos/${job.jobId}.jpg`, "a listed job names its upload");
        assert.ok(job.createdAt && job.updatedAt, "and its times");
      }
      assert.deepEqual(Object.fromEntries(listed.map((job) => [job.jobId, job.status])), { [running]: "running", [ownedRunning]: "running", [finished]: "succeeded" });
      assert.equal(listed.find((job) => job.jobId === ownedRunning)?.runId, "run-1");
      assert.equal(one.length, 1, "at most `limit` jobs");
      assert.ok((await ports().jobs.get(announced))?.announcedAt, "markAnnounced records when");
    });

    it("keeps store-internal fields out of the records it returns", async () => {
      const jobId = id("internal");
      await ports().jobs.create(runningJob(jobId, { runId: "run-1" }));
      const running = await ports().jobs.get(jobId);
      await ports().jobs.finish(jobId, { status: "succeeded", outputs: 2 });
      await ports().jobs.markAnnounced(jobId);
      const announced = await ports().jobs.get(jobId);

      const known = ["jobId", "sourceKey", "sourceEtag", "status", "runId", "createdAt", "updatedAt", "manifestKey", "outputs", "bytesIn", "bytesOut", "error", "expiresAt", "announcedAt"];
      for (const record of [running, announced]) assert.deepEqual(Object.keys(record ?? {}).filter((field) => !known.includes(field)), []);
    });

    it("ignores markAnnounced for a job that no longer exists, creating no record", async () => {
      const jobId = id("expired");

      await ports().jobs.markAnnounced(jobId);

      assert.equal(await ports().jobs.get(jobId), undefined);
    });

    it("returns undefined for a job that does not exist", async () => {
      assert.equal(await ports().jobs.get(id("none")), undefined);
    });
  });
}
