import * as assert from "node:assert/strict";
import { failureToError } from "../../../functions/steps/notify";

/** Lambda's JSON cause, as Step Functions hands it to a Catch. */
const lambdaCause = (errorType: string, errorMessage: string) => JSON.stringify({ errorType, errorMessage });

describe("NotifyError's mapping of a caught failure to an error code", () => {
  it("records a Lambda timeout (Sandbox.Timedout) as TIMEOUT, naming the step and its timeout keys", () => {
    const recorded = failureToError({ Error: "Sandbox.Timedout", Cause: lambdaCause("Sandbox.Timedout", "RequestId: 4e1c Error: Task timed out after 30.00 seconds"), Step: "Optimize" });

    assert.equal(recorded.code, "TIMEOUT");
    assert.equal(recorded.permanent, false);
    assert.equal(recorded.message, "The Optimize step ran past its timeout; raise steps.optimize.timeoutSeconds or timeoutSeconds for it, or lower the input limits (limits.maxPixels).");
  });

  it("records a Task past its TimeoutSeconds (States.Timeout) as TIMEOUT", () => {
    assert.equal(failureToError({ Error: "States.Timeout", Cause: "The task timed out.", Step: "Validate" }).code, "TIMEOUT");
  });

  it("records a timeout the lambda:invoke integration reports as Lambda.Unknown as TIMEOUT", () => {
    const recorded = failureToError({ Error: "Lambda.Unknown", Cause: lambdaCause("Lambda.Unknown", "RequestId: 77 Error: Task timed out after 30.03 seconds") });

    assert.equal(recorded.code, "TIMEOUT");
    assert.match(recorded.message, /^A step ran past its timeout; raise timeoutSeconds/);
  });

  it("records a Lambda out-of-memory (Runtime.OutOfMemory) as the permanent OUT_OF_MEMORY, naming the step's memory keys", () => {
    const recorded = failureToError({ Error: "Runtime.OutOfMemory", Cause: lambdaCause("Runtime.OutOfMemory", "RequestId: 9a2b Error: Runtime exited with error: signal: killed"), Step: "Optimize" });

    assert.equal(recorded.code, "OUT_OF_MEMORY");
    assert.equal(recorded.permanent, true);
    assert.equal(recorded.message, "The Optimize step ran out of memory; raise steps.optimize.memoryMb or memoryMb for it, or lower the input limits (limits.maxPixels).");
  });

  it("names both branches' memory keys when the parallel block ran out of memory", () => {
    const recorded = failureToError({ Error: "Runtime.OutOfMemory", Cause: lambdaCause("Runtime.OutOfMemory", "Runtime exited with error: signal: killed"), Step: "Process" });

    assert.match(recorded.message, /^The Process step ran out of memory; raise steps\.resize\.memoryMb or steps\.applyFilters\.memoryMb or memoryMb for it/);
  });

  it("keeps the step's own typed error ahead of the Lambda error name", () => {
    const recorded = failureToError({ Error: "PermanentError", Cause: lambdaCause("PermanentError", "CORRUPT_IMAGE: the file is not a JPEG."), Step: "Validate" });

    assert.equal(recorded.code, "CORRUPT_IMAGE");
  });

  it("hides anything else behind INTERNAL, naming the engine's error", () => {
    const recorded = failureToError({ Error: "Runtime.ExitError", Cause: lambdaCause("Runtime.ExitError", "Runtime exited with error: exit status 129") });

    assert.equal(recorded.code, "INTERNAL");
    assert.match(recorded.message, /Runtime\.ExitError/);
  });
});
