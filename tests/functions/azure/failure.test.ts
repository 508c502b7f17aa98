import * as assert from "node:assert/strict";
import { PipelineError } from "../../../functions/core/errors";
import { activityFailure, failureFromError, FAILURE_KEY, isActivityFailure, settleActivity } from "../../../functions/azure/failure";

const stepError = (name: string, message: string, permanent: boolean) => Object.assign(new Error(message), { name, permanent, code: message.split(":")[0] });

describe("Azure activity failure contract", () => {
  it("returns a permanent step error as an envelope instead of throwing it", async () => {
    const result = await settleActivity(async () => {
      throw stepError("PermanentError", "UNSUPPORTED_FORMAT: BMP is not accepted.", true);
    });

    assert.deepEqual(result, { [FAILURE_KEY]: { Error: "PermanentError", Cause: "UNSUPPORTED_FORMAT: BMP is not accepted." } });
    assert.ok(isActivityFailure(result));
  });

  it("codes the cause of a bare permanent PipelineError", async () => {
    const result = await settleActivity(async () => {
      throw new PipelineError("CONFIG_INVALID", "JOBS_TABLE is not set.");
    });

    assert.deepEqual(activityFailure(result), { Error: "PermanentError", Cause: "CONFIG_INVALID: JOBS_TABLE is not set." });
  });

  it("rethrows a transient error for the host to retry", async () => {
    await assert.rejects(
      settleActivity(async () => {
        throw stepError("TransientError", "THROTTLED: slow down", false);
      }),
      { name: "TransientError", message: "THROTTLED: slow down" },
    );
  });

  it("passes results through and does not mistake them for envelopes", async () => {
    assert.deepEqual(await settleActivity(async () => ({ jobId: "j" })), { jobId: "j" });
    assert.equal(activityFailure({ jobId: "j" }), undefined);
    assert.equal(activityFailure(null), undefined);
  });

  it("finds the typed cause inside the host's wording of a failed task", () => {
    const wrapped = Object.assign(new Error("TransientError: STORAGE_UNAVAILABLE: Blob Storage did not answer."), {
      failureDetails: { errorType: "TransientError", errorMessage: "Activity function 'Resize' failed: STORAGE_UNAVAILABLE: Blob Storage did not answer.\n   at stack" },
    });

    assert.deepEqual(failureFromError(wrapped), { Error: "TransientError", Cause: "STORAGE_UNAVAILABLE: Blob Storage did not answer." });
  });

  it("maps a host timeout to TIMEOUT and anything else to its first line", () => {
    assert.match(failureFromError(new Error("Timeout value of 00:05:00 was exceeded by function: Functions.Optimize")).Cause ?? "", /^TIMEOUT: /);
    assert.deepEqual(failureFromError(new Error("boom\nstack")), { Error: "TransientError", Cause: "boom" });
  });
});

describe("Azure host failures mapped to error codes", () => {
  it("maps the host's FunctionTimeoutException wording to TIMEOUT naming the step and its timeout keys", () => {
    const failure = failureFromError(new Error("Timeout value of 00:05:00 was exceeded by function: Functions.optimize"), "Optimize");

    assert.deepEqual(failure, {
      Error: "TransientError",
      Cause: "TIMEOUT: The Optimize step ran past its timeout; raise steps.optimize.timeoutSeconds or timeoutSeconds for it, or lower the input limits (limits.maxPixels).",
      Step: "Optimize",
    });
  });

  it("maps FailureDetails of type FunctionTimeoutException to TIMEOUT", () => {
    const wrapped = Object.assign(new Error("task failed"), {
      failureDetails: { errorType: "Microsoft.Azure.WebJobs.Host.FunctionTimeoutException", errorMessage: "Activity function 'validate' failed" },
    });

    assert.match(failureFromError(wrapped, "Validate").Cause ?? "", /^TIMEOUT: The Validate step ran past its timeout/);
  });

  it("maps a Node worker killed for memory (exit code 137) to OUT_OF_MEMORY naming both branches of the block", () => {
    const failure = failureFromError(
      new Error("Activity function 'resize' failed: node exited with code 137 (0x89) {\"$type\":\"Microsoft.Azure.WebJobs.Script.Workers.WorkerProcessExitException\"}"),
      "Process",
    );

    assert.deepEqual(failure, {
      Error: "PermanentError",
      Cause: "OUT_OF_MEMORY: The Process step ran out of memory; raise steps.resize.memoryMb or steps.applyFilters.memoryMb or memoryMb for it, or lower the input limits (limits.maxPixels).",
      Step: "Process",
    });
  });

  it("maps V8's heap-limit abort and an OutOfMemoryException to OUT_OF_MEMORY", () => {
    assert.match(failureFromError(new Error("Activity function 'optimize' failed: FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"), "Optimize").Cause ?? "", /^OUT_OF_MEMORY: /);
    assert.match(failureFromError(new Error("System.OutOfMemoryException: Insufficient memory"), "Optimize").Cause ?? "", /^OUT_OF_MEMORY: /);
  });

  it("leaves a worker that exited for another reason as a plain failure", () => {
    assert.deepEqual(failureFromError(new Error("Activity function 'resize' failed: node exited with code 1 (0x1)"), "Process"), {
      Error: "TransientError",
      Cause: "Activity function 'resize' failed: node exited with code 1 (0x1)",
      Step: "Process",
    });
  });
});
