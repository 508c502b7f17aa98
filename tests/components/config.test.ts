import * as assert from "node:assert/strict";
import { loadConfig, stepSettings } from "../../components/config";
import { PipelineError } from "../../functions/core/errors";

/** Asserts loadConfig rejects `raw` with CONFIG_INVALID and a message naming `key`. */
function assertRejected(raw: Record<string, unknown>, key: string, also?: RegExp): void {
  assert.throws(
    () => loadConfig(raw),
    (error: unknown) => {
      assert.ok(error instanceof PipelineError, "a PipelineError");
      assert.equal(error.code, "CONFIG_INVALID");
      assert.ok(error.message.includes(key), `the message names ${key}:\n${error.message}`);
      if (also) assert.match(error.message, also);
      return true;
    },
  );
}

describe("stack config", () => {
  describe("defaults", () => {
    it("targets AWS on arm64 with a Standard workflow and three renditions", () => {
      const config = loadConfig({});

      assert.equal(config.cloud, "aws");
      assert.equal(config.architecture, "arm64");
      assert.equal(config.workflowType, "STANDARD");
      assert.deepEqual(config.processing.renditions.map((r) => r.name), ["thumb", "medium", "large"]);
      assert.equal(config.vpc, false);
      assert.equal(config.kmsKeyArn, undefined);
      assert.equal(config.reservedConcurrency, undefined);
      assert.equal(config.renditionsInfrequentAccessDays, undefined);
    });

    it("gives each step the stack-wide memory and timeout unless the step overrides them", () => {
      const config = loadConfig({ memoryMb: 1536, timeoutSeconds: 60, steps: { optimize: { memoryMb: 3008 } } });

      assert.deepEqual(stepSettings(config, "validate"), { memoryMb: 1536, timeoutSeconds: 60 });
      assert.deepEqual(stepSettings(config, "optimize"), { memoryMb: 3008, timeoutSeconds: 60 });
    });

    it("accepts the Lambda limits themselves", () => {
      assert.doesNotThrow(() => loadConfig({ memoryMb: 128, timeoutSeconds: 900 }));
      assert.doesNotThrow(() => loadConfig({ memoryMb: 10240, timeoutSeconds: 1 }));
      assert.throws(() => loadConfig({ memoryMb: 10241 }), { code: "CONFIG_INVALID" });
    });
  });

  describe("invalid values fail with CONFIG_INVALID naming the key", () => {
    it("rejects a Lambda timeout over 900 s", () => {
      assertRejected({ timeoutSeconds: 901 }, "image-pipeline:timeoutSeconds", /900 s/);
    });

    it("rejects a per-step Lambda timeout over 900 s, naming the step", () => {
      assertRejected({ steps: { resize: { timeoutSeconds: 1200 } } }, "image-pipeline:steps.resize.timeoutSeconds", /got 1200/);
    });

    it("rejects Lambda memory below 128 MB", () => {
      assertRejected({ memoryMb: 64 }, "image-pipeline:memoryMb", /between 128 and 10240 MB; got 64/);
    });

    it("rejects Lambda memory above 10240 MB", () => {
      assertRejected({ memoryMb: 12288 }, "image-pipeline:memoryMb", /got 12288/);
    });

    it("rejects per-step Lambda memory outside the limits, naming the step", () => {
      assertRejected({ steps: { optimize: { memoryMb: 10241 } } }, "image-pipeline:steps.optimize.memoryMb");
    });

    it("rejects an unknown output format", () => {
      assertRejected({ formats: ["webp", "gif"] }, "image-pipeline:formats");
    });

    it("rejects an unknown filter", () => {
      assertRejected({ filters: ["grayscale", "emboss"] }, "image-pipeline:filters");
    });

    it("rejects zero renditions", () => {
      assertRejected({ renditions: [] }, "image-pipeline:renditions", /at least one rendition/);
    });

    it("rejects a retention below 1 day", () => {
      assertRejected({ retentionDays: 0 }, "image-pipeline:retentionDays", /below 1 day/);
    });

    it("rejects a KMS key that is not a key ARN", () => {
      assertRejected({ kmsKeyArn: "alias/my-key" }, "image-pipeline:kmsKeyArn");
    });

    it("names every bad key at once", () => {
      assert.throws(
        () => loadConfig({ timeoutSeconds: 1000, renditions: [] }),
        (error: unknown) => error instanceof PipelineError && /timeoutSeconds/.test(error.message) && /renditions/.test(error.message),
      );
    });
  });
});

describe("config errors for per-step values", () => {
  const problemLines = (raw: Record<string, unknown>) => {
    try {
      loadConfig(raw);
    } catch (error) {
      return (error as Error).message.split("\n").filter((line) => line.startsWith("  - "));
    }
    assert.fail("loadConfig accepted the config");
  };

  it("report a bad stack-wide timeout once, not once per step", () => {
    const lines = problemLines({ timeoutSeconds: 1200 });

    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^ {2}- image-pipeline:timeoutSeconds: .*900 s/);
  });

  it("name the stack-wide key when a step overrides only another field", () => {
    const lines = problemLines({ timeoutSeconds: 1200, steps: { resize: { memoryMb: 2048 } } });

    assert.deepEqual(lines.map((line) => line.split(":")[1]), ["timeoutSeconds"]);
  });

  it("name the step's own key when the step sets the bad value", () => {
    const lines = problemLines({ steps: { resize: { timeoutSeconds: 1200 } } });

    assert.deepEqual(lines.map((line) => line.split(":")[1]), ["steps.resize.timeoutSeconds"]);
  });
});
