import assert from "node:assert/strict";
import { workflow } from "../../../components/workflow";
import type { JobRecord } from "../../../functions/ports";
import { stuckAfterSeconds, sweepStuckJobs } from "../../../functions/steps";
import { memoryPorts } from "../../helpers/memoryPorts";

const NOW = new Date("2026-11-21T12:00:00.000Z");
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

function job(jobId: string, createdAt: string, overrides: Partial<JobRecord> = {}): JobRecord {
  return { jobId, sourceKey: `photos/${jobId}.jpg`, status: "running", createdAt, updatedAt: createdAt, ...overrides };
}

describe("the stuck-job sweep", () => {
  it("treats a job as stuck only after the workflow's whole-run timeout plus a margin", () => {
    assert.ok(stuckAfterSeconds(workflow) > workflow.timeoutSeconds);
    assert.ok(stuckAfterSeconds(workflow) <= workflow.timeoutSeconds + 15 * 60);
  });

  it("fails the jobs running past the limit with TIMEOUT, one event each, and leaves the rest alone", async () => {
    const ports = memoryPorts();
    await ports.jobs.create(job("stuck", minutesAgo(60)));
    await ports.jobs.create(job("young", minutesAgo(5)));
    await ports.jobs.create(job("done", minutesAgo(60)));
    await ports.jobs.finish("done", { status: "succeeded", manifestKey: "done/manifest.json" });

    const result = await sweepStuckJobs(ports, { stuckAfterSeconds: 20 * 60, now: NOW });

    assert.deepEqual(result.failed, ["stuck"]);
    const stuck = await ports.jobs.get("stuck");
    assert.equal(stuck?.status, "failed");
    assert.equal(stuck?.error?.code, "TIMEOUT");
    assert.match(stuck?.error?.message ?? "", /did not finish within 20 minutes.*Upload the file again/);
    assert.equal((await ports.jobs.get("young"))?.status, "running");
    assert.equal((await ports.jobs.get("done"))?.status, "succeeded");
    assert.deepEqual(ports.notifier.events.map((e) => [e.type, e.jobId, e.sourceKey, e.error?.code]), [["image.failed", "stuck", "photos/stuck.jpg", "TIMEOUT"]]);
  });

  it("sends nothing for a job whose run finished it between the listing and the sweep's finish", async () => {
    const ports = memoryPorts();
    await ports.jobs.create(job("racing", minutesAgo(60)));
    const listStuck = ports.jobs.listStuck.bind(ports.jobs);
    ports.jobs.listStuck = async (before, limit) => {
      const listed = await listStuck(before, limit);
      await ports.jobs.finish("racing", { status: "succeeded" }); // the run ends just now
      return listed;
    };

    const result = await sweepStuckJobs(ports, { stuckAfterSeconds: 20 * 60, now: NOW });

    assert.deepEqual(result, { failed: [], finishedMeanwhile: ["racing"] });
    assert.equal((await ports.jobs.get("racing"))?.status, "succeeded");
    assert.equal(ports.notifier.events.length, 0);
  });

  it("sweeps at most `limit` jobs per call, the rest on the next", async () => {
    const ports = memoryPorts();
    for (const name of ["a", "b", "c"]) await ports.jobs.create(job(name, minutesAgo(60)));

    const first = await sweepStuckJobs(ports, { stuckAfterSeconds: 60, now: NOW, limit: 2 });
    const second = await sweepStuckJobs(ports, { stuckAfterSeconds: 60, now: NOW, limit: 2 });

    assert.equal(first.failed.length, 2);
    assert.equal(second.failed.length, 1);
    assert.equal(ports.notifier.events.length, 3);
  });

  it("refuses a threshold that is not a positive number of seconds", async () => {
    await assert.rejects(sweepStuckJobs(memoryPorts(), { stuckAfterSeconds: 0 }), { code: "CONFIG_INVALID" });
    await assert.rejects(sweepStuckJobs(memoryPorts(), { stuckAfterSeconds: Number.NaN }), { code: "CONFIG_INVALID" });
  });
});
