import assert from "node:assert/strict";
import type { Counts, Execution } from "../../../local/cost/meter";
import { durableStorage, flexBilledPeriodSeconds, flexBusy, flexPlacement, instanceSeconds, keptStoragePerMillion, priceCounts, withFlexBusy, type CostSettings } from "../../../local/cost/model";
import { PRICES, withOverrides, type PriceTable } from "../../../local/cost/prices";

const tally = (calls: number, units = calls, durationMs = 0) => ({ calls, units, bytes: 0, durationMs });

const memory = { validate: 1024, resize: 1024, applyFilters: 1024, optimize: 1024, notifySuccess: 1024, notifyError: 1024 };
const aws: CostSettings = { cloud: "aws", workflowType: "STANDARD", architecture: "arm64", memoryMb: memory, flexInstanceMemoryMb: 2048 };

// Round prices, written here, so the arithmetic below is checkable by hand.
const prices: PriceTable = withOverrides(PRICES, {
  "s3.putCopyPostList": 0.005,
  "s3.getHead": 0.0004,
  "dynamodb.writeUnits": 1.25,
  "dynamodb.readUnits": 0.25,
  "sns.publish": 0.5,
  "stepfunctions.standardTransition": 0.025,
  "stepfunctions.expressRequest": 1,
  "stepfunctions.expressGbSecond": 0.00001,
  "lambda.request": 0.2,
  "lambda.gbSecond.arm64": 0.00001,
});

const image: Counts = {
  "s3:PutObject": tally(10),
  "s3:GetObject": tally(6),
  "s3:HeadObject": tally(1),
  "s3:DeleteObject": tally(2),
  "dynamodb:WriteRequestUnits": tally(3),
  "dynamodb:WriteRequestUnits:open-jobs": tally(3),
  "dynamodb:ReadRequestUnits": tally(1, 0.5),
  "sns:Publish": tally(1),
  "trigger:UploadEvent": tally(1),
  "stepfunctions:StateTransition": tally(7),
  "stepfunctions:Execution": tally(1, 1, 2000),
  "lambda:invoke:resize": tally(1, 1, 1000),
  "lambda:invoke:validate": tally(1, 1, 10),
};

describe("the cost model", function () {
  it("prices a Standard run's counts line by line", function () {
    const model = priceCounts(image, aws, prices);
    const usd = Object.fromEntries(model.items.map((item) => [item.id, item.usd]));
    const quantity = Object.fromEntries(model.items.map((item) => [item.id, item.quantity]));

    assert.equal(quantity["s3.putCopyPostList"], 10);
    assert.ok(Math.abs(usd["s3.putCopyPostList"]! - 0.00005) < 1e-12); // 10 × $0.005 / 1,000
    assert.equal(quantity["s3.getHead"], 7); // 6 GET + 1 HEAD; the 2 DELETEs are free
    assert.equal(usd["s3.delete"], 0);
    assert.equal(quantity["dynamodb.writeUnits"], 6); // 3 table + 3 index
    assert.ok(Math.abs(usd["dynamodb.writeUnits"]! - 0.0000075) < 1e-12); // 6 × $1.25 / 1e6
    assert.ok(Math.abs(usd["dynamodb.readUnits"]! - 0.000000125) < 1e-15); // 0.5 × $0.25 / 1e6
    assert.ok(Math.abs(usd["stepfunctions.standardTransition"]! - 0.000175) < 1e-12); // 7 × $0.025 / 1,000
    assert.equal(usd["eventbridge.awsServiceEvent"], 0);
    // resize: 1000 ms at 1024 MB, whose CPU share is 1024/1769 → 1727.5 ms, billed 1728 ms;
    // validate: 10 ms → 17.3 → 18 ms. (1.728 + 0.018) s × 1 GB = 1.746 GB-s.
    assert.ok(Math.abs(quantity["lambda.gbSecond.arm64"] - 1.746) < 1e-9);
    assert.ok(Math.abs(usd["lambda.gbSecond.arm64"]! - 0.00001746) < 1e-12);
    assert.ok(Math.abs(usd["lambda.request"]! - 0.0000004) < 1e-12); // 2 × $0.2 / 1e6
    // 0.00005 + 0.0000028 + 0 + 0.0000075 + 0.000000125 + 0.0000005 + 0 + 0.000175 + 0.0000004 + 0.00001746
    assert.ok(Math.abs(model.usd - 0.000253785) < 1e-12);
    assert.deepEqual(model.unpriced, []);
  });

  it("prices Express by requests and duration instead of transitions", function () {
    const model = priceCounts(image, { ...aws, workflowType: "EXPRESS" }, prices);
    const item = (id: string) => model.items.find((line) => line.id === id);

    assert.equal(item("stepfunctions.standardTransition"), undefined);
    assert.ok(Math.abs(item("stepfunctions.expressRequest")!.usd! - 0.000001) < 1e-15);
    // Tasks stretch 1746 billed / 1010 local ms; 2000 ms × 1.7287 = 3457 ms → 3.5 s in 100 ms steps; × 64 MB = 0.21875 GB-s.
    assert.ok(Math.abs(item("stepfunctions.expressGbSecond")!.quantity - 0.21875) < 1e-9);
    assert.ok(Math.abs(item("stepfunctions.expressGbSecond")!.usd! - 0.0000021875) < 1e-15);
  });

  it("derives the Durable task hub's storage traffic from the history and leaves unknown prices out of the total", function () {
    const history: Counts = {
      "durable:history:ExecutionStarted": tally(1),
      "durable:history:TaskScheduled": tally(5),
      "durable:history:OrchestratorStarted": tally(6),
      "functions:invoke:resize": tally(1, 1, 1000),
    };
    // Messages: the start + 5 activity messages + 5 results = 11, each put, read and deleted.
    // Table: 6 episodes × (history read + history batch + instance update) + start (status read + insert) = 20.
    assert.deepEqual(durableStorage(history), { messages: 11, queueOperations: 33, tableTransactions: 20 });

    const model = priceCounts(history, { ...aws, cloud: "azure" }, withOverrides(PRICES, { "functions.flex.gbSecond": 0.00002 }));
    const compute = model.items.find((line) => line.id === "functions.flex.gbSecond")!;
    assert.ok(Math.abs(compute.quantity - 2) < 1e-12); // 1 s on a 2048 MB instance
    if (PRICES["queue.operation"].usd === undefined) assert.ok(model.unpriced.includes("queue.taskHub"));
    assert.ok(Math.abs(model.usd - model.items.reduce((sum, line) => sum + (line.usd ?? 0), 0)) < 1e-15);
  });

  describe("Flex Consumption instance-busy billing", function () {
    // One upload's executions, in ms from the start, with the process's CPU time (µs) at both ends.
    const at = (name: string, startMs: number, endMs: number, cpuMs = endMs - startMs, cpuStartMs = startMs): Execution => ({ name, startMs, endMs, cpuStartUs: cpuStartMs * 1000, cpuEndUs: (cpuStartMs + cpuMs) * 1000 });
    const upload: Execution[] = [
      at("starter", 0, 40),
      at("orchestrator", 10, 30), // overlaps the starter (another instance) — and, locally, nothing else
      at("validate", 100, 300, 100), // 200 ms wall, 100 ms CPU
      at("orchestrator", 310, 320),
      at("resize", 400, 1400), // Resize ∥ ApplyFilters: 400–1400 and 500–700
      at("applyFilters", 500, 700, 200, 500), // ~no CPU of its own: the process CPU meanwhile is Resize's
      at("orchestrator", 1500, 1520),
    ];
    const two = flexPlacement(2048);

    it("bills 512, 2048 and 4096 MB instances at 0.25, 1 and 2 cores", function () {
      assert.deepEqual([flexPlacement(512).cores, two.cores, flexPlacement(4096).cores], [0.25, 1, 2]);
      assert.deepEqual([flexPlacement(512).activitiesPerInstance, two.activitiesPerInstance], [1, 2]);
      assert.throws(() => flexPlacement(1024), /no Flex Consumption instance size of 1024 MB/);
    });

    it("counts CPU time at the instance's cores plus the wall time spent off CPU", function () {
      assert.equal(instanceSeconds(200, 100, 1), 0.2); // 100 ms CPU + 100 ms waiting
      assert.equal(instanceSeconds(200, 100, 0.25), 0.5); // 400 ms CPU at a quarter core + 100 ms waiting
      assert.equal(instanceSeconds(500, 800, 1), 0.8); // two threads here: 800 ms of one core there
    });

    it("bills an activity period at least 1,000 ms, then in 100 ms steps", function () {
      assert.deepEqual([0.02, 1, 1.01, 1.1, 2.35].map(flexBilledPeriodSeconds), [1, 1, 1.1, 1.1, 2.4]);
    });

    it("bills overlapping executions of one kind on one instance once, and each on its own as the upper bound", function () {
      const busy = flexBusy(upload, two);
      // Periods: starter 40 ms | episodes 20, 10, 20 ms | validate 0.1 + 0.1 s | Resize ∥ ApplyFilters: 1,000 ms wall, 1,000 ms CPU.
      // Busy: 0.04 + 0.05 + 0.2 + 1.0 = 1.29 s. The episode 10–30 ms overlaps the starter but runs on the Durable group's instance.
      assert.ok(Math.abs(busy.busySeconds - 1.29) < 1e-9);
      assert.equal(busy.periods, 6);
      // Each on its own: ApplyFilters adds its 200 ms (the process CPU meanwhile, an upper bound).
      assert.ok(Math.abs(busy.perExecutionSeconds - 1.49) < 1e-9);
      // Each upload alone: six periods, each at least 1 s: 1 + 1 + 1 + 1 + 1 + 1.0 = 6 s.
      assert.ok(Math.abs(busy.isolatedSeconds - 6) < 1e-9);
    });

    it("runs Resize and ApplyFilters on two instances when an instance takes one activity at a time", function () {
      const busy = flexBusy(upload, flexPlacement(512));
      // Quarter core: starter 0.16, episodes 0.08 + 0.04 + 0.08, validate 0.4 + 0.1, Resize 4.0, ApplyFilters alone: 0.2 s
      // wall with the 0.2 s of Resize's CPU the process spent meanwhile → 0.8 s. Total 5.66 s in 7 periods.
      assert.ok(Math.abs(busy.busySeconds - 5.66) < 1e-9);
      assert.equal(busy.periods, 7);
      // Alone: 1 + 1 + 1 + 1 + 1 (validate 0.5) + 4.0 + 1 (ApplyFilters 0.8) = 10 s.
      assert.ok(Math.abs(busy.isolatedSeconds - 10) < 1e-9);
    });

    it("prices the busy time, each execution and the bounds by hand", function () {
      const azure: CostSettings = { ...aws, cloud: "azure" };
      const counts = withFlexBusy({ "functions:invoke:resize": tally(1, 1, 1000), "functions:invoke:orchestrator": tally(3, 3, 50) }, upload, azure);
      const model = priceCounts(counts, azure, withOverrides(PRICES, { "functions.flex.gbSecond": 0.00002, "functions.flex.execution": 0.5 }));
      const item = (id: string) => model.items.find((line) => line.id === id)!;
      assert.ok(Math.abs(item("functions.flex.gbSecond").quantity - 2.58) < 1e-9); // 1.29 s × 2 GB
      assert.ok(Math.abs(item("functions.flex.gbSecond").usd! - 0.0000516) < 1e-15);
      assert.equal(item("functions.flex.execution").quantity, 4); // from the invocation counts
      assert.ok(Math.abs(item("functions.flex.execution").usd! - 0.000002) < 1e-15);
      const bound = (id: string) => model.bounds.find((line) => line.id === id)!.usd - model.usd;
      assert.ok(Math.abs(bound("flex.perExecution") - (1.49 - 1.29) * 2 * 0.00002) < 1e-15);
      assert.ok(Math.abs(bound("flex.isolated") - (6 - 1.29) * 2 * 0.00002) < 1e-15);
      // CPU alone: periods' CPU 40 + 20 + 10 + 20 + 100 + 1,000 ms = 1.19 s at one core.
      assert.ok(Math.abs(bound("compute.cpu") - (1.19 - 1.29) * 2 * 0.00002) < 1e-15);
    });

    it("prices every newly priced Azure line from the table", function () {
      const counts: Counts = { "trigger:UploadEvent": tally(1), "eventgrid:Publish": tally(1), "durable:history:ExecutionStarted": tally(1), "durable:history:TaskScheduled": tally(5), "durable:history:OrchestratorStarted": tally(6), "functions:invoke:resize": tally(1) };
      const model = priceCounts(counts, { ...aws, cloud: "azure" }, PRICES);
      const usd = Object.fromEntries(model.items.map((line) => [line.id, line.usd]));
      assert.ok(Math.abs(usd["queue.taskHub"]! - 33 * 0.0000004) < 1e-15); // 33 operations at $0.004 per 10,000
      assert.ok(Math.abs(usd["queue.uploadEvents"]! - 3 * 0.0000004) < 1e-15);
      assert.ok(Math.abs(usd["eventgrid.operation"]! - 3 * 0.0000006) < 1e-15); // BlobCreated in + out, one publish at $0.60 per million
      assert.ok(Math.abs(usd["functions.flex.execution"]! - 0.0000004) < 1e-15); // one execution at $0.40 per million
      assert.deepEqual(model.unpriced, ["table.taskHub"]);
    });
  });

  it("gives the total with compute from CPU time alone, which a loaded machine does not stretch", function () {
    // resize: 1000 ms wall but 580 ms of CPU (the rest: waiting for a core here) → 580 / (1024/1769) = 1002 ms billed;
    // validate: 10 ms wall, 10 ms CPU → 18 ms. (1.002 + 0.018) s × 1 GB = 1.02 GB-s against 1.746 from the wall times.
    const counts: Counts = { ...image, "lambda:invoke:resize": { ...tally(1, 1, 1000), cpuMs: 580 }, "lambda:invoke:validate": { ...tally(1, 1, 10), cpuMs: 10 } };
    const model = priceCounts(counts, aws, prices);
    const cpu = model.bounds.find((bound) => bound.id === "compute.cpu")!;
    assert.ok(Math.abs(model.usd - cpu.usd - (1.746 - 1.02) * 0.00001) < 1e-12);
    assert.deepEqual(priceCounts(image, aws, prices).bounds, [], "no CPU times, no such bound");
  });

  it("refuses a price override that is not a known price or not a number", function () {
    assert.throws(() => withOverrides(PRICES, { "s3.nope": 1 }), /unknown price "s3.nope"/);
    assert.throws(() => withOverrides(PRICES, { "s3.getHead": "cheap" }), /must be a number/);
  });

  it("prices keeping a million images' outputs for a month in binary gigabytes at the cloud's storage price", function () {
    // 2^30 bytes × 1,000,000 images = 1,000,000 GB; at $0.02 per GB-month, $20,000.
    const aws = keptStoragePerMillion(2 ** 30, "aws", withOverrides(PRICES, { "s3.storageGbMonth": 0.02 }));
    assert.deepEqual(aws, { gb: 1_000_000, usdPerMonth: 20_000, price: "s3.storageGbMonth" });
    // 800,000 bytes per image: 8 × 10^11 bytes = 745.058 GB; at $0.03 (blob) $22.35.
    const azure = keptStoragePerMillion(800_000, "azure", withOverrides(PRICES, { "blob.storageGbMonth": 0.03 }));
    assert.equal(azure.price, "blob.storageGbMonth");
    assert.ok(Math.abs(azure.gb - 745.058) < 0.001, String(azure.gb));
    assert.ok(Math.abs((azure.usdPerMonth ?? 0) - 22.352) < 0.001, String(azure.usdPerMonth));
  });

  it("leaves keeping the outputs unpriced when its price is unknown", function () {
    const unpriced = keptStoragePerMillion(1000, "aws", { ...PRICES, "s3.storageGbMonth": { ...PRICES["s3.storageGbMonth"], usd: undefined } });
    assert.equal(unpriced.usdPerMonth, undefined);
    assert.ok(unpriced.gb > 0);
  });
});
