import assert from "node:assert/strict";
import { indexWriteUnits, itemBytes, readUnits, tableWriteUnits, type TableShape } from "../../../local/cost/dynamoUnits";

const table: TableShape = { keys: ["jobId"], indexes: [{ name: "open-jobs", keys: ["openShard", "createdAt"], projection: "INCLUDE", include: ["status"] }] };

describe("DynamoDB request units", function () {
  it("sizes an item as attribute names plus values", function () {
    // "jobId" (5) + "abc" (3) + "status" (6) + "running" (7) = 21 bytes.
    assert.equal(itemBytes({ jobId: { S: "abc" }, status: { S: "running" } }), 21);
  });

  it("bills a write per started KB of the larger of the item before and after, at least one", function () {
    const small = { jobId: { S: "abc" } };
    // "jobId" (5) + "abc" (3) + "note" (4) + 1500 characters = 1512 bytes: two KB started.
    const large = { jobId: { S: "abc" }, note: { S: "x".repeat(1500) } };
    assert.equal(tableWriteUnits(undefined, small), 1);
    assert.equal(tableWriteUnits(large, small), 2);
    assert.equal(tableWriteUnits(undefined, undefined), 1);
  });

  it("bills a read per started 4 KB, half for an eventually consistent one", function () {
    // "jobId" (5) + "abc" (3) + "note" (4) + 5000 characters = 5012 bytes: two 4 KB blocks.
    const item = { jobId: { S: "abc" }, note: { S: "x".repeat(5000) } };
    assert.equal(readUnits([item], true), 2);
    assert.equal(readUnits([item], false), 1);
    assert.equal(readUnits([], true), 1);
  });

  it("adds index writes when an item enters, changes in or leaves a sparse index", function () {
    const outside = { jobId: { S: "j" }, status: { S: "running" } };
    const open = { ...outside, openShard: { S: "0" }, createdAt: { S: "2026-01-01" } };
    const finished = { ...open, status: { S: "succeeded" } };
    const moved = { ...finished, createdAt: { S: "2026-01-02" } };
    const untouched = { ...finished, note: { S: "not projected" } };

    assert.deepEqual(indexWriteUnits(outside, open, table), { "open-jobs": 1 });
    assert.deepEqual(indexWriteUnits(open, finished, table), { "open-jobs": 1 });
    assert.deepEqual(indexWriteUnits(finished, outside, table), { "open-jobs": 1 });
    // A changed index key is a delete plus a put.
    assert.deepEqual(indexWriteUnits(finished, moved, table), { "open-jobs": 2 });
    // A change outside the projection does not touch the index.
    assert.deepEqual(indexWriteUnits(finished, untouched, table), {});
  });
});
