import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { processingOptionsSchema } from "../../../functions/core/options";
import { jobIdFor } from "../../../functions/steps/jobId";
import type { InputFile } from "../../../local/inputs";
import { runReprocess } from "../../../local/reprocess/run";
import { runLocal } from "../../../local/runtime";
import type { Cloud } from "../../../components/config";

// The local reprocess on both flavours, against the real emulators and engines.

async function tinyImages(count: number, prefix = "photos/"): Promise<InputFile[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      key: `${prefix}img-${String(i).padStart(3, "0")}.jpg`,
      body: await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: (i * 37) % 256, g: 90, b: 160 } } }).jpeg().toBuffer(),
    })),
  );
}

const lines = async (file: string) => (await readFile(file, "utf8")).split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/")).sort();
}

for (const cloud of ["aws", "azure"] as Cloud[]) {
  describe(`npm run reprocess, ${cloud} flavour`, function () {
    this.timeout(240_000);
    let temp: string;
    beforeEach(async () => {
      temp = await mkdtemp(path.join(tmpdir(), "reprocess-"));
    });
    afterEach(async () => {
      await rm(temp, { recursive: true, force: true });
    });

    it("reprocesses 60 uploads, resumes after an interruption, and runs none twice", async () => {
      const processing = processingOptionsSchema.parse({ renditions: ["thumb:16"], filters: [], formats: ["webp"] });
      const uploads = [...(await tinyImages(60)), ...(await tinyImages(3, "other/"))];
      const outDir = path.join(temp, "out");
      const controller = new AbortController();

      const first = await runReprocess({ cloud, processing, uploads, outDir, prefix: "photos/", concurrency: 4, pageSize: 16, generation: "gen-1", signal: controller.signal, onJob: (_row, counts) => counts.succeeded >= 20 && controller.abort() });
      const second = await runReprocess({ cloud, processing, uploads, outDir, resume: true, prefix: "photos/", concurrency: 4, pageSize: 16 });

      assert.equal(first.finished, false);
      assert.equal(second.finished, true);
      assert.equal(second.generation, "gen-1");
      assert.equal(second.counts.total, 60);
      assert.equal(second.counts.resumed + second.counts.succeeded, 60);
      assert.equal(second.counts.failed, 0);
      const done = (await lines(path.join(outDir, "done.jsonl"))).map((entry) => entry.key as string);
      assert.equal(done.length, 60, "each key ran once");
      assert.equal(new Set(done).size, 60);
      assert.ok(done.every((key) => key.startsWith("photos/")), "only the prefix");
      const jobs = await lines(path.join(outDir, "jobs.jsonl"));
      for (const job of jobs) {
        assert.equal(job.status, "succeeded");
        assert.notEqual(job.jobId, jobIdFor(job.sourceKey as string, job.sourceEtag as string | undefined), "a new job, not the upload's own");
      }
    });

    it("after a renditions change: new renditions written, old ones removed, a new job per image", async () => {
      const uploads = await tinyImages(3);
      const before = processingOptionsSchema.parse({ renditions: ["thumb:16", "large:32"], filters: [], formats: ["webp"] });
      // keepLarger: on these flat images medium's WebP is no larger than thumb's, which Optimize would then serve from it (#14.7).
      const after = processingOptionsSchema.parse({ renditions: ["thumb:16", "medium:24"], filters: [], formats: ["webp"], optimize: { keepLarger: true } });
      const firstRun = await runLocal({ cloud, inputs: uploads, outDir: path.join(temp, "run-1"), processing: before, concurrency: 3 });
      const stored: string[] = [];

      const result = await runReprocess({
        cloud,
        processing: after,
        uploads,
        from: firstRun.outDir,
        outDir: path.join(temp, "run-2"),
        beforeStop: async (flavour) => {
          stored.push(...(await flavour.ports.objects.list("renditions", "photos/")).items.map((item) => item.key));
        },
      });

      assert.equal(result.counts.succeeded, 3);
      assert.deepEqual(stored, ["img-000", "img-001", "img-002"].flatMap((name) => [`photos/${name}.jpg/manifest.json`, `photos/${name}.jpg/medium.webp`, `photos/${name}.jpg/thumb.webp`]));
      assert.deepEqual(await filesUnder(path.join(result.outDir, "renditions")), stored);
      const oldJobs = new Set(firstRun.rows.map((row) => row.jobId));
      const newJobs = (await lines(path.join(result.outDir, "jobs.jsonl"))).map((job) => job.jobId as string);
      assert.equal(newJobs.length, 3);
      assert.ok(newJobs.every((jobId) => !oldJobs.has(jobId)));
    });

    it("with --failed-only takes just the uploads whose job failed in the earlier run", async () => {
      const processing = processingOptionsSchema.parse({ renditions: ["thumb:16"], filters: [], formats: ["webp"] });
      const uploads = [...(await tinyImages(2)), { key: "photos/broken.jpg", body: Buffer.from("not an image at all") }];
      const firstRun = await runLocal({ cloud, inputs: uploads, outDir: path.join(temp, "run-1"), processing, concurrency: 3 });

      const result = await runReprocess({ cloud, processing, uploads, from: firstRun.outDir, failedOnly: true, outDir: path.join(temp, "run-2") });

      assert.equal(result.counts.total, 1);
      assert.deepEqual(result.failedKeys, [{ key: "photos/broken.jpg", errorCode: "CORRUPT_IMAGE" }]);
    });
  });
}
