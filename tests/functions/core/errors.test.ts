import assert from "node:assert/strict";
import { formatErrorMessage, invalidParameterError, parseErrorMessage, PipelineError, toPipelineError } from "../../../functions/core/errors";

describe("PipelineError", () => {
  it("is permanent, named PermanentError, for the codes a retry cannot fix", () => {
    for (const code of ["UNSUPPORTED_FORMAT", "TOO_LARGE", "TOO_MANY_PIXELS", "TOO_MANY_FRAMES", "CORRUPT_IMAGE", "EMPTY_INPUT", "NOT_FOUND", "CONFIG_INVALID"] as const) {
      const error = new PipelineError(code, "m");
      assert.deepEqual([error.permanent, error.name], [true, "PermanentError"], code);
    }
  });

  it("is transient, named TransientError, for storage, throttling, timeouts and internal errors", () => {
    for (const code of ["STORAGE_UNAVAILABLE", "THROTTLED", "TIMEOUT", "INTERNAL"] as const) {
      const error = new PipelineError(code, "m");
      assert.deepEqual([error.permanent, error.name], [false, "TransientError"], code);
    }
  });

  it("serialises to code, message, permanence and details, keeping the cause out", () => {
    const error = new PipelineError("TOO_LARGE", "The upload is too large.", { bytes: 10 }, { cause: new Error("secret internals") });

    assert.deepEqual(JSON.parse(JSON.stringify(error)), { code: "TOO_LARGE", message: "The upload is too large.", permanent: true, details: { bytes: 10 } });
    assert.deepEqual(new PipelineError("INTERNAL", "x").details, {});
  });

  it("travels through an engine as `CODE: message` and comes back typed", () => {
    const original = new PipelineError("THROTTLED", "Slow down: the table is busy.\nTry later.");

    const text = formatErrorMessage(original);
    const back = parseErrorMessage(text);

    assert.equal(text, "THROTTLED: Slow down: the table is busy.\nTry later.");
    assert.deepEqual([back?.code, back?.message, back?.permanent], ["THROTTLED", "Slow down: the table is busy.\nTry later.", false]);
  });

  it("reads no code from other messages", () => {
    for (const message of [undefined, "", "plain text", "NOT_A_CODE: text", "throttled: lower case", "THROTTLED:no space", "x THROTTLED: inside"]) {
      assert.equal(parseErrorMessage(message), undefined, String(message));
    }
    assert.equal(parseErrorMessage("  CORRUPT_IMAGE: bad  ")?.message, "bad", "surrounding whitespace is trimmed");
  });

  it("turns anything thrown into a PipelineError, hiding unknown internals behind a retried INTERNAL", () => {
    const typed = new PipelineError("NOT_FOUND", "gone");
    const cause = new TypeError("cannot read properties of undefined");

    assert.equal(toPipelineError(typed), typed);
    assert.equal(toPipelineError(new Error("TOO_MANY_FRAMES: 200 frames")).code, "TOO_MANY_FRAMES");
    assert.equal(toPipelineError("STORAGE_UNAVAILABLE: S3 is down").code, "STORAGE_UNAVAILABLE");
    const hidden = toPipelineError(cause);
    assert.deepEqual([hidden.code, hidden.permanent, hidden.message], ["INTERNAL", false, "An unexpected internal error occurred; the step will be retried."]);
    assert.equal(hidden.cause, cause);
  });

  it("words every bad parameter the same way, as CONFIG_INVALID", () => {
    const error = invalidParameterError("quality.webp", "an integer from 1 to 100", 120);

    assert.equal(error.code, "CONFIG_INVALID");
    assert.equal(error.message, "Expected an integer from 1 to 100 for quality.webp but received 120.");
    assert.deepEqual(error.details, { key: "quality.webp", expected: "an integer from 1 to 100", actual: 120 });
  });
});
