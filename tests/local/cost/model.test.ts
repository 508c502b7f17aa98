import assert from "node:assert/strict";
import type { Counts } from "../../../local/cost/meter";
import { durableStorage, priceCounts, type CostSettings } from "../../../local/cost/model";
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

  it("refuses a price override that is not a known price or not a number", function () {
    assert.throws(() => withOverrides(PRICES, { "s3.nope": 1 }), /unknown price "s3.nope"/);
    assert.throws(() => withOverrides(PRICES, { "s3.getHead": "cheap" }), /must be a number/);
  });
});
