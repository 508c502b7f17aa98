import assert from "node:assert/strict";
import { exitCodeFor, formatSummary, formatTable, summarize } from "../../local/report";
import type { JobRow } from "../../local/runtime";

const rows: JobRow[] = [
  { key: "a.jpg", jobId: "j1", status: "succeeded", renditions: 4, bytesIn: 2048, bytesOut: 1024 },
  { key: "b.jpg", jobId: "j2", status: "superseded", renditions: 0, bytesIn: 2048, errorMessage: "A newer upload (v9) replaced it before its manifest; that upload's job renders the key." },
];

describe("the local run's report of a superseded job", () => {
  it("counts it apart from successes and failures in the summary", () => {
    const summary = summarize(rows);

    assert.deepEqual([summary.succeeded, summary.failed, summary.superseded], [1, 0, 1]);
    assert.equal(formatSummary(summary), "2 images: 1 succeeded, 0 failed, 1 superseded (a newer upload came first)");
  });

  it("shows it as superseded with no renditions of its own", () => {
    const line = formatTable(rows).split("\n")[3];

    assert.match(line, /^b\.jpg\s+superseded\s+-\s+2\.0 KB\s+-$/);
  });

  it("is not a failure: the exit code stays 0", () => {
    assert.equal(exitCodeFor(rows), 0);
  });
});
