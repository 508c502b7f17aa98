import assert from "node:assert/strict";
import { Meter } from "../../../local/cost/meter";

describe("the cost meter", function () {
  it("attributes an operation to the job whose id, upload key or output prefix it names, and keeps the rest apart", function () {
    const meter = new Meter();
    meter.registerJob("job-cat", "photos/cat.jpg");
    meter.registerJob("job-cat-small", "photos/cat.jpg/small.jpg");

    meter.record({ service: "s3", op: "PutObject", resource: "work/job-cat/rendition-thumb.png" });
    meter.record({ service: "s3", op: "GetObject", resource: "photos/cat.jpg" });
    meter.record({ service: "s3", op: "PutObject", resource: "photos/cat.jpg/thumb.webp" });
    meter.record({ service: "s3", op: "PutObject", resource: "photos/cat.jpg/small.jpg/thumb.webp" });
    meter.record({ service: "s3", op: "CreateBucket" });
    meter.record({ service: "lambda", op: "invoke:resize", jobId: "job-cat", durationMs: 120 });

    const usage = meter.snapshot();
    assert.deepEqual(usage.perJob["job-cat"]["s3:PutObject"], { calls: 2, units: 2, bytes: 0, durationMs: 0 });
    assert.equal(usage.perJob["job-cat"]["s3:GetObject"].calls, 1);
    assert.equal(usage.perJob["job-cat"]["lambda:invoke:resize"].durationMs, 120);
    // The longer output prefix wins: photos/cat.jpg/small.jpg/ belongs to photos/cat.jpg/small.jpg.
    assert.equal(usage.perJob["job-cat-small"]["s3:PutObject"].calls, 1);
    assert.deepEqual(Object.keys(usage.unattributed), ["s3:CreateBucket"]);
    assert.equal(usage.total["s3:PutObject"].calls, 3);
  });

  it("adds units, bytes and durations", function () {
    const meter = new Meter();
    meter.record({ service: "dynamodb", op: "WriteRequestUnits", units: 2, jobId: "a" });
    meter.record({ service: "dynamodb", op: "WriteRequestUnits", units: 3, jobId: "a" });
    meter.record({ service: "s3", op: "GetObject", bytes: 1000, jobId: "a" });

    const { total } = meter.snapshot();
    assert.deepEqual(total["dynamodb:WriteRequestUnits"], { calls: 2, units: 5, bytes: 0, durationMs: 0 });
    assert.equal(total["s3:GetObject"].bytes, 1000);
  });

  it("keeps each job's timed function executions, and only those, for instance-busy billing", function () {
    const meter = new Meter();
    meter.registerJob("job-a", "photos/a.jpg");
    const interval = { startMs: 10, endMs: 25, cpuStartUs: 1000, cpuEndUs: 9000 };
    meter.record({ service: "functions", op: "invoke:resize", jobId: "job-a", durationMs: 15, interval });
    meter.record({ service: "functions", op: "invoke:orchestrator", resource: "photos/a.jpg", durationMs: 2, interval: { ...interval, startMs: 30, endMs: 32 } });
    meter.record({ service: "lambda", op: "invoke:resize", jobId: "job-a", durationMs: 15, interval });
    meter.record({ service: "functions", op: "invoke:validate", jobId: "job-a", durationMs: 3 });

    const { executions, perJob } = meter.snapshot();
    assert.equal(perJob["job-a"]["functions:invoke:resize"].cpuMs, 8); // (9000 − 1000) µs
    assert.equal(perJob["job-a"]["functions:invoke:validate"].cpuMs, undefined);
    assert.deepEqual(executions["job-a"], [
      { name: "resize", startMs: 10, endMs: 25, cpuStartUs: 1000, cpuEndUs: 9000 },
      { name: "orchestrator", startMs: 30, endMs: 32, cpuStartUs: 1000, cpuEndUs: 9000 },
    ]);
  });
});
