import * as assert from "node:assert/strict";
import { runTimeoutSeconds, runWorstCase } from "../../../components/aws/limits";
import { loadConfig } from "../../../components/config";
import { PipelineError } from "../../../functions/core/errors";

/** Asserts loadConfig rejects `raw` with CONFIG_INVALID and a message matching each pattern. */
function assertRejected(raw: Record<string, unknown>, ...patterns: RegExp[]): void {
  assert.throws(
    () => loadConfig(raw),
    (error: unknown) => {
      assert.ok(error instanceof PipelineError, "a PipelineError");
      assert.equal(error.code, "CONFIG_INVALID");
      for (const pattern of patterns) assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("AWS run limits (Step Functions Standard and Express)", () => {
  it("counts each step's worst case as its timeout, one timeout retry and the backoff between, and the longest branch", () => {
    const config = loadConfig({ timeoutSeconds: 30, steps: { applyFilters: { timeoutSeconds: 40 } } });

    const worst = runWorstCase(config);

    // 2 attempts × timeout + the 2 s backoff before the retry.
    assert.deepEqual(worst.parts, [
      { name: "Validate", handler: "validate", seconds: 62 },
      { name: "Process", handler: "applyFilters", seconds: 82 },
      { name: "Optimize", handler: "optimize", seconds: 62 },
      { name: "NotifySuccess", handler: "notifySuccess", seconds: 62 },
    ]);
    assert.equal(worst.seconds, 268);
  });

  it("times an Express run out at 300 s by default, a Standard one at 15 minutes", () => {
    assert.equal(runTimeoutSeconds(loadConfig({ workflowType: "EXPRESS" })), 300);
    assert.equal(runTimeoutSeconds(loadConfig({ workflowType: "STANDARD" })), 900);
  });

  it("raises a Standard run's default timeout to what long steps need", () => {
    assert.equal(runTimeoutSeconds(loadConfig({ workflowType: "STANDARD", timeoutSeconds: 600 })), 4 * (2 * 600 + 2));
  });

  it("takes workflowTimeoutSeconds as the run timeout when set", () => {
    assert.equal(runTimeoutSeconds(loadConfig({ workflowType: "EXPRESS", workflowTimeoutSeconds: 280 })), 280);
  });

  it("accepts Express with the default step timeouts", () => {
    assert.doesNotThrow(() => loadConfig({ workflowType: "EXPRESS" }));
  });

  it("refuses an Express run timeout over 5 minutes, naming the key, the limit and the way out", () => {
    assertRejected({ workflowType: "EXPRESS", workflowTimeoutSeconds: 600 }, /image-pipeline:workflowTimeoutSeconds/, /at most 300 s \(5 minutes\); got 600/, /set workflowType to STANDARD/);
  });

  it("refuses Express steps whose worst case with retries does not fit 300 s, naming the longest step's key", () => {
    assertRejected(
      { workflowType: "EXPRESS", steps: { optimize: { timeoutSeconds: 120 } } },
      /image-pipeline:steps\.optimize\.timeoutSeconds/,
      /worst case with a timeout retry each is 428 s \(Validate 62 \+ Process 62 \+ Optimize 242 \+ NotifySuccess 62\), over the EXPRESS run timeout of 300 s/,
      /set workflowType to STANDARD/,
    );
  });

  it("refuses a stack-wide timeout that cannot fit an Express run, under the stack-wide key", () => {
    assertRejected({ workflowType: "EXPRESS", timeoutSeconds: 60 }, /image-pipeline:timeoutSeconds/, /over the EXPRESS run timeout of 300 s/);
  });

  it("refuses a Standard workflowTimeoutSeconds shorter than the steps' worst case, with the timeout that would fit", () => {
    assertRejected({ workflowType: "STANDARD", workflowTimeoutSeconds: 200 }, /image-pipeline:timeoutSeconds/, /over workflowTimeoutSeconds of 200 s/, /raise workflowTimeoutSeconds to at least 248/);
  });
});
