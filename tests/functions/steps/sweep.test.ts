import assert from "node:assert/strict";
import { workflow } from "../../../functions/workflow";
import type { JobRecord } from "../../../functions/ports";
import { PipelineError } from "../../../functions/core/errors";
import { stuckAfterSeconds, sweepFailure, sweepStuckJobs } from "../../../functions/steps";
import { memoryPorts } from "../../../local/memoryPorts";

const NOW = new Date("2026-11-21T12:00:00.000Z");
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

function job(jobId: string, createdAt: string, overrides: Partial<JobRecord> = {}): JobRecord {
  return { jobId, sourceKey: `photos/${jobId}.jpg`, status: "running", createdAt, updatedAt: createdAt, ...overrides };
}

/** Records a job whose upload is still there (the sweep erases after a job whose upload was deleted). */
async function recorded(ports: ReturnType<typeof memoryPorts>, record: JobRecord): Promise<boolean> {
  await ports.objects.put("uploads", record.sourceKey, Buffer.from("jpeg"), "image/jpeg");
  return ports.jobs.create(record);
}

describe("the stuck-job sweep", () => {
  it("treats a job as stuck only after the workflow's whole-run timeout plus a margin", () => {
    assert.ok(stuckAfterSeconds(workflow) > workflow.timeoutSeconds);
    assert.ok(stuckAfterSeconds(workflow) <= workflow.timeoutSeconds + 15 * 60);
  });

  it("fails the jobs running past the limit with TIMEOUT, one event each, and leaves the rest alone", async () => {
    const ports = memoryPorts();
    await recorded(ports, job("stuck", minutesAgo(60)));
    await recorded(ports, job("young", minutesAgo(5)));
    await recorded(ports, job("done", minutesAgo(60)));
    await ports.jobs.finish("done", { status: "succeeded", manifestKey: "done/manifest.json" });
    await ports.jobs.markAnnounced("done");

    const givenUp: string[] = [];

    const result = await sweepStuckJobs(ports, { stuckAfterSeconds: 20 * 60, now: NOW, onGivenUp: async (jobId) => void givenUp.push(jobId) });

    assert.deepEqual(result.failed, ["stuck"]);
    assert.deepEqual(givenUp, ["stuck"], "the engine hears about the jobs given up, and only those");
    const stuck = await ports.jobs.get("stuck");
    assert.ok(stuck?.announcedAt, "the failure is announced");
    assert.equal(stuck?.status, "failed");
    assert.equal(stuck?.error?.code, "TIMEOUT");
    assert.match(stuck?.error?.message ?? "", /did not finish within 20 minutes.*Upload the file again/);
    assert.equal((await ports.jobs.get("young"))?.status, "running");
    assert.equal((await ports.jobs.get("done"))?.status, "succeeded");
    assert.deepEqual(ports.notifier.events.map((e) => [e.type, e.jobId, e.sourceKey, e.error?.code]), [["image.failed", "stuck", "photos/stuck.jpg", "TIMEOUT"]]);
  });

  it("erases what a stuck job made when its upload was deleted while it ran: nothing of it is left once the sweep ends it", async () => {
    const ports = memoryPorts();
    await ports.jobs.create(job("orphaned", minutesAgo(60)));
    await ports.objects.put("renditions", "photos/orphaned.jpg/thumb.webp", Buffer.from("webp"), "image/webp");
    await ports.objects.put("work", "orphaned/rendition-thumb.png", Buffer.from("png"), "image/png");

    const result = await sweepStuckJobs(ports, { stuckAfterSeconds: 20 * 60, now: NOW });

    assert.deepEqual(result.failed, ["orphaned"]);
    assert.equal(await ports.jobs.get("orphaned"), undefined);
    assert.deepEqual([ports.objects.keys("renditions"), ports.objects.keys("work")], [[], []]);
    assert.deepEqual(ports.notifier.events.map((e) => [e.type, e.jobId]), [["image.failed", "orphaned"], ["image.deleted", "orphaned"]]);
  });

  it("closes a stuck job whose upload a newer one replaced as superseded, with no event, and still fails one whose upload is unchanged", async () => {
    const ports = memoryPorts();
    await ports.objects.put("uploads", "photos/replaced.jpg", Buffer.from("first picture"), "image/jpeg");
    const { etag: first } = await ports.objects.head("uploads", "photos/replaced.jpg");
    await ports.jobs.create(job("replaced", minutesAgo(60), { sourceKey: "photos/replaced.jpg", sourceEtag: first }));
    await ports.objects.put("uploads", "photos/replaced.jpg", Buffer.from("second picture"), "image/jpeg");
    const { etag: second } = await ports.objects.head("uploads", "photos/replaced.jpg");
    await ports.objects.put("uploads", "photos/same.jpg", Buffer.from("only picture"), "image/jpeg");
    const { etag: same } = await ports.objects.head("uploads", "photos/same.jpg");
    await ports.jobs.create(job("same", minutesAgo(60), { sourceKey: "photos/same.jpg", sourceEtag: same }));
    const givenUp: string[] = [];

    const result = await sweepStuckJobs(ports, { stuckAfterSeconds: 20 * 60, now: NOW, onGivenUp: async (jobId) => void givenUp.push(jobId) });

    assert.deepEqual([result.superseded, result.failed], [["replaced"], ["same"]]);
    assert.deepEqual(givenUp.sort(), ["replaced", "same"], "the engine stops what is left of both runs");
    const replaced = await ports.jobs.get("replaced");
    assert.deepEqual([replaced?.status, replaced?.supersededByEtag, replaced?.announcedAt !== undefined], ["superseded", second, true]);
    assert.notEqual(second, first);
    assert.deepEqual(ports.notifier.events.map((e) => [e.type, e.jobId]), [["image.failed", "same"]], "no event for the superseded job");
  });

  it("sends nothing for a job whose run finished it between the listing and the sweep's finish", async () => {
    const ports = memoryPorts();
    await recorded(ports, job("racing", minutesAgo(60)));
    const listOpen = ports.jobs.listOpen.bind(ports.jobs);
    ports.jobs.listOpen = async (before: string, limit: number) => {
      const listed = await listOpen(before, limit);
      await ports.jobs.finish("racing", { status: "succeeded" }); // the run ends just now
      return listed;
    };

    const result = await sweepStuckJobs(ports, { stuckAfterSeconds: 20 * 60, now: NOW });

    assert.deepEqual(result, { failed: [], superseded: [], announced: [], finishedMeanwhile: ["racing"], errors: [] });
    assert.equal((await ports.jobs.get("racing"))?.status, "succeeded");
    assert.equal(ports.notifier.events.length, 0);
  });

  it("announces a finished job whose event never went out, once its own step has had time to retry", async () => {
    const ports = memoryPorts();
    await recorded(ports, job("unannounced", minutesAgo(60)));
    await ports.jobs.finish("unannounced", { status: "succeeded", manifestKey: "photos/unannounced/manifest.json", outputs: 6, updatedAt: minutesAgo(30) });
    await recorded(ports, job("just-finished", minutesAgo(60)));
    await ports.jobs.finish("just-finished", { status: "failed", error: { code: "CORRUPT_IMAGE", message: "bad", permanent: true }, updatedAt: minutesAgo(1) });

    const first = await sweepStuckJobs(ports, { stuckAfterSeconds: 20 * 60, now: NOW });
    const second = await sweepStuckJobs(ports, { stuckAfterSeconds: 20 * 60, now: NOW });

    assert.deepEqual(first.announced, ["unannounced"]);
    assert.deepEqual(second.announced, [], "announced once");
    assert.equal((await ports.jobs.get("unannounced"))?.status, "succeeded", "the outcome is kept");
    assert.deepEqual(ports.notifier.events.map((e) => [e.type, e.jobId, e.manifestKey, e.outputs]), [["image.processed", "unannounced", "photos/unannounced/manifest.json", 6]]);
    assert.equal((await ports.jobs.get("just-finished"))?.announcedAt, undefined, "a recent finish is left to its own step");
  });

  it("sweeps at most `limit` jobs per call, the rest on the next", async () => {
    const ports = memoryPorts();
    for (const name of ["a", "b", "c"]) await recorded(ports, job(name, minutesAgo(60)));

    const first = await sweepStuckJobs(ports, { stuckAfterSeconds: 60, now: NOW, limit: 2 });
    const second = await sweepStuckJobs(ports, { stuckAfterSeconds: 60, now: NOW, limit: 2 });

    assert.equal(first.failed.length, 2);
    assert.equal(second.failed.length, 1);
    assert.equal(ports.notifier.events.length, 3);
  });

  it("sweeps the other jobs when one cannot be handled, and reports that one as a typed failure", async () => {
    const ports = memoryPorts();
    for (const name of ["first", "poison", "last"]) await recorded(ports, job(name, minutesAgo(60)));
    const finish = ports.jobs.finish.bind(ports.jobs);
    ports.jobs.finish = async (jobId, patch, runId) => {
      if (jobId === "poison") throw new PipelineError("THROTTLED", "DynamoDB throttled the request.");
      return finish(jobId, patch, runId);
    };

    const result = await sweepStuckJobs(ports, { stuckAfterSeconds: 60, now: NOW });
    const failure = sweepFailure(result);

    assert.deepEqual(result.failed.sort(), ["first", "last"]);
    assert.deepEqual(result.errors.map((e) => [e.jobId, e.code]), [["poison", "THROTTLED"]]);
    assert.equal((await ports.jobs.get("poison"))?.status, "running", "left for the next sweep");
    assert.equal(failure?.code, "THROTTLED");
    assert.match(failure?.message ?? "", /could not handle 1 job\(s\) \(poison\); the next sweep tries again/);
    assert.equal(sweepFailure({ ...result, errors: [] }), undefined);
  });

  it("refuses a threshold that is not a positive number of seconds", async () => {
    await assert.rejects(sweepStuckJobs(memoryPorts(), { stuckAfterSeconds: 0 }), { code: "CONFIG_INVALID" });
    await assert.rejects(sweepStuckJobs(memoryPorts(), { stuckAfterSeconds: Number.NaN }), { code: "CONFIG_INVALID" });
  });
});
