import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { defaultProcessingOptions } from "../../functions/core/options";
import type { PipelineEvent } from "../../functions/ports";
import type { LocalFlavour } from "../../local/flavour";
import { watchInbox } from "../../local/inbox";
import type { ErasedRow, JobRow } from "../../local/runtime";
import { samplePhoto } from "../../local/sampleImages";

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const cloud of ["aws", "azure"] as const) {
  describe(`--watch on the ${cloud} flavour`, function () {
    this.timeout(120_000);
    let work: string;

    before(async () => (work = await mkdtemp(path.join(tmpdir(), `inbox-${cloud}-`))));
    after(async () => rm(work, { recursive: true, force: true }));

    it("erases a file removed from the inbox: its renditions, work objects, job record and out-folder copies go, image.deleted goes out", async function () {
      const inbox = path.join(work, "inbox");
      const outDir = path.join(work, "out");
      const controller = new AbortController();
      const jobs: JobRow[] = [];
      const erased: ErasedRow[] = [];
      const events: PipelineEvent[] = [];
      let flavour: LocalFlavour | undefined;
      const watching = watchInbox({
        cloud,
        inbox,
        outDir,
        concurrency: 2,
        processing: defaultProcessingOptions(),
        retryDelayMs: 10,
        settleMs: 100,
        signal: controller.signal,
        onReady: (_endpoints, ready) => (flavour = ready),
        onJob: (row) => jobs.push(row),
        onErased: (row) => erased.push(row),
        onEvent: (event) => events.push(event),
      });
      await waitFor(() => flavour !== undefined, 60_000);
      const ready = flavour as LocalFlavour;

      await writeFile(path.join(inbox, "gone.jpg"), await samplePhoto({ width: 96, height: 64, seed: 51 }));
      await waitFor(() => jobs.length === 1, 60_000);
      const job = jobs[0];
      const before = (await ready.ports.objects.list("renditions", "gone.jpg/")).items.length;
      const copied = existsSync(path.join(outDir, "renditions", "gone.jpg", "manifest.json"));
      await unlink(path.join(inbox, "gone.jpg"));
      await waitFor(() => erased.length === 1, 60_000);
      const left = (await ready.ports.objects.list("renditions", "gone.jpg/")).items;
      const record = await ready.ports.jobs.get(job.jobId);
      const upload = await ready.ports.objects.head("uploads", "gone.jpg").then(() => "still there", (error: { code?: string }) => error.code);
      controller.abort();
      await watching;

      assert.equal(job.status, "succeeded", job.errorMessage);
      assert.ok(before > 1 && copied, "the job made renditions and the watch copied them");
      assert.deepEqual(erased, [{ key: "gone.jpg", erased: true, removed: { renditions: before, work: 0, jobs: 1 } }]);
      assert.deepEqual(left, []);
      assert.equal(record, undefined);
      assert.equal(upload, "NOT_FOUND");
      assert.equal(existsSync(path.join(outDir, "renditions", "gone.jpg")), false, "the out folder's copies are gone");
      assert.deepEqual(events.map((event) => [event.type, event.sourceKey]), [["image.processed", "gone.jpg"], ["image.deleted", "gone.jpg"]]);
      assert.match(await readFile(path.join(outDir, "events.jsonl"), "utf8"), /"type":"image\.deleted"/);
    });
  });
}
