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
