import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { CONFIG_KEY_TYPES, CONFIG_KEYS, configFromStackValues, configSchema, loadConfig, stepSettings, type ConfigKey } from "../../components/config";
import { PipelineError } from "../../functions/core/errors";
import { processingOptionsSchema } from "../../functions/core/options";

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
      assert.equal(config.workflowType, "EXPRESS");
      assert.deepEqual(config.processing.renditions.map((r) => r.name), ["thumb", "medium", "large"]);
      assert.equal(config.vpc, false);
      assert.equal(config.kmsKeyArn, undefined);
      assert.equal(config.reservedConcurrency, undefined);
      assert.equal(config.renditionsInfrequentAccessDays, undefined);
    });

    it("gives each step the stack-wide memory and timeout unless the step overrides them", () => {
      const config = loadConfig({ workflowType: "STANDARD", memoryMb: 1536, timeoutSeconds: 60, steps: { optimize: { memoryMb: 3008 } } });

      assert.deepEqual(stepSettings(config, "validate"), { memoryMb: 1536, timeoutSeconds: 60 });
      assert.deepEqual(stepSettings(config, "optimize"), { memoryMb: 3008, timeoutSeconds: 60 });
    });

    it("accepts the Lambda limits themselves", () => {
      assert.doesNotThrow(() => loadConfig({ workflowType: "STANDARD", memoryMb: 128, timeoutSeconds: 900 }));
      assert.doesNotThrow(() => loadConfig({ memoryMb: 10240, timeoutSeconds: 1 }));
      assert.throws(() => loadConfig({ memoryMb: 10241 }), { code: "CONFIG_INVALID" });
    });
  });

  describe("invalid values fail with CONFIG_INVALID naming the key", () => {
    it("rejects an alertEmail that is not an email address", () => {
      assertRejected({ alertEmail: "ops-team" }, "image-pipeline:alertEmail", /email/);
    });

    it("accepts an alertEmail, and reads an empty one as none", () => {
      assert.equal(loadConfig({ alertEmail: "ops@example.com" }).alertEmail, "ops@example.com");
      assert.equal(loadConfig({ alertEmail: "" }).alertEmail, undefined);
    });

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

    it("rejects a KMS key that is not a key ARN: an alias, an alias ARN or a key id, which IAM grants cannot name", () => {
      assertRejected({ kmsKeyArn: "alias/my-key" }, "image-pipeline:kmsKeyArn");
      assertRejected({ kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:alias/my-key" }, "image-pipeline:kmsKeyArn", /alias or alias ARN cannot be granted/);
      assertRejected({ kmsKeyArn: "1234abcd-12ab-34cd-56ef-1234567890ab" }, "image-pipeline:kmsKeyArn", /describe-key/);
    });

    it("accepts a key ARN, single- or multi-Region", () => {
      assert.equal(loadConfig({ kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }).kmsKeyArn, "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab");
      assert.equal(loadConfig({ kmsKeyArn: "arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab" }).kmsKeyArn, "arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab");
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

describe("config as users write it", () => {
  /** The problem lines of a refused config. */
  const problems = (run: () => unknown): string[] => {
    assert.throws(run, (error: unknown) => error instanceof PipelineError && error.code === "CONFIG_INVALID");
    try {
      run();
    } catch (error) {
      return (error as Error).message.split("\n").filter((line) => line.startsWith("  - "));
    }
    return [];
  };

  describe("unknown keys, at every level, with the closest known key", () => {
    it("refuses a misspelt top-level key instead of using the default", () => {
      assert.deepEqual(problems(() => loadConfig({ fromats: ["avif"] })), ['  - image-pipeline:fromats: unknown key; did you mean "image-pipeline:formats"?']);
    });

    it("refuses misspelt nested keys of limits, quality, steps and azure", () => {
      const lines = problems(() =>
        loadConfig({ limits: { maxbytes: 10 }, quality: { jpg: 90 }, steps: { resise: {}, optimize: { memorymb: 2048 } }, azure: { plann: "premium" } }),
      );

      assert.deepEqual(lines.sort(), [
        '  - image-pipeline:azure.plann: unknown key; did you mean "image-pipeline:azure.plan"?',
        '  - image-pipeline:limits.maxbytes: unknown key; did you mean "image-pipeline:limits.maxBytes"?',
        '  - image-pipeline:quality.jpg: unknown key; did you mean "image-pipeline:quality.jpeg"?',
        '  - image-pipeline:steps.optimize.memorymb: unknown key; did you mean "image-pipeline:steps.optimize.memoryMb"?',
        '  - image-pipeline:steps.resise: unknown key; did you mean "image-pipeline:steps.resize"?',
      ]);
    });

    it("names the keys an object takes when nothing is close", () => {
      assert.deepEqual(problems(() => loadConfig({ quality: { png: 90 } })), ['  - image-pipeline:quality.png: unknown key; known: image-pipeline:quality.jpeg, image-pipeline:quality.webp, image-pipeline:quality.avif']);
    });

    it("refuses the internal processing object as a key", () => {
      assert.deepEqual(problems(() => loadConfig({ processing: { formats: ["jpeg"] } })), ["  - image-pipeline:processing: unknown key"]);
    });

    it("suggests the closest value of a misspelt choice", () => {
      assert.match(problems(() => loadConfig({ formats: ["wepb"] }))[0]!, /^ {2}- image-pipeline:formats\[0\]: .*\(got "wepb"\); did you mean "webp"\?$/);
    });
  });

  describe("values as the Pulumi CLI stores them", () => {
    it("reads integers and booleans that `pulumi config set` stored as text where Pulumi.yaml declares them", () => {
      const config = configFromStackValues({ "image-pipeline:memoryMb": "2048", "image-pipeline:avifEffort": "0", "image-pipeline:webpEffort": "2", "image-pipeline:vpc": "true", "image-pipeline:protectData": "false" });

      assert.equal(config.memoryMb, 2048);
      assert.equal(config.processing.avifEffort, 0);
      assert.equal(config.processing.webpEffort, 2);
      assert.equal(config.vpc, true);
      assert.equal(config.protectData, false);
    });

    it("refuses text that is not the declared integer or boolean, naming the value", () => {
      assert.deepEqual(problems(() => configFromStackValues({ "image-pipeline:memoryMb": "2048.5" })), ['  - image-pipeline:memoryMb: Invalid input: expected number, received string (got "2048.5")']);
      assert.match(problems(() => configFromStackValues({ "image-pipeline:vpc": "yes" }))[0]!, /image-pipeline:vpc: .*\(got "yes"\)/);
    });

    it("keeps string keys as text even when they look like numbers", () => {
      assert.deepEqual(problems(() => configFromStackValues({ "image-pipeline:cloud": "1" }))[0]?.startsWith('  - image-pipeline:cloud: Invalid option: expected one of "aws"|"azure" (got "1")'), true);
    });

    it("keeps the YAML types of values set inside objects with --path", () => {
      assert.equal(configFromStackValues({ "image-pipeline:limits": '{"maxBytes":1000}' }).processing.limits.maxBytes, 1000);
      assert.match(problems(() => configFromStackValues({ "image-pipeline:limits": '{"maxBytes":"1000"}' }))[0]!, /image-pipeline:limits\.maxBytes: .*expected number, received string/);
    });

    it("reads arrays as the JSON the language host passes, and ignores other namespaces", () => {
      const config = configFromStackValues({ "image-pipeline:formats": '["avif"]', "aws:region": "eu-west-1", "azure-native:location": "westeurope" });

      assert.deepEqual(config.processing.formats, ["avif"]);
    });

    it("refuses an unknown key of the namespace set with pulumi config set", () => {
      assert.deepEqual(problems(() => configFromStackValues({ "image-pipeline:memoryMB": "2048" })), ['  - image-pipeline:memoryMB: unknown key; did you mean "image-pipeline:memoryMb"?']);
    });
  });

  describe("lists", () => {
    it("refuse a format, filter or input format listed twice", () => {
      assert.deepEqual(problems(() => loadConfig({ formats: ["webp", "jpeg", "webp"], filters: ["blur", "blur"], limits: { formats: ["png", "jpeg", "png"] } })), [
        '  - image-pipeline:formats[2]: "webp" is listed twice; list each once',
        '  - image-pipeline:filters[1]: "blur" is listed twice; list each once',
        '  - image-pipeline:limits.formats[2]: "png" is listed twice; list each once',
      ]);
    });

    it("refuse input formats the pipeline cannot decode, with the way out (HEIC is decoded, JPEG 2000 is not)", () => {
      const lines = problems(() => loadConfig({ limits: { formats: ["jpeg", "jp2", "heif"] } }));

      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /^ {2}- image-pipeline:limits\.formats\[1\]: the bundled sharp cannot decode JPEG 2000 .*remove "jp2"/);
    });

    it("accept SVG input when asked for", () => {
      assert.deepEqual(loadConfig({ limits: { formats: ["jpeg", "svg"] } }).processing.limits.formats, ["jpeg", "svg"]);
    });

    it("take renditions as the name:width text Pulumi.yaml declares, not objects", () => {
      assert.deepEqual(loadConfig({ renditions: ["small:200"] }).processing.renditions, [{ name: "small", width: 200, fit: "inside", position: "centre" }]);
      assert.deepEqual(problems(() => loadConfig({ renditions: [{ name: "small", width: 200 }] })), [
        '  - image-pipeline:renditions[0]: a rendition is "name:width[xheight][:fit][:position]" text, e.g. "thumb:320" or "card:600x400:cover:attention" (Pulumi.yaml declares an array of strings); got {"name":"small","width":200}',
      ]);
    });
  });
});

describe("Pulumi.yaml and the config schema", () => {
  interface Declaration {
    type: string;
    items?: { type: string };
    default?: unknown;
  }
  const project = load(readFileSync(path.join(__dirname, "../../Pulumi.yaml"), "utf8")) as { config: Record<string, Declaration> };
  const declared = project.config;
  const objectKeys = ["quality", "limits", "watermark", "optimize", "steps", "tags", "api", "azure", "delivery", "reprocess"];

  it("declares every key the schema takes that Pulumi can declare, with the type the program reads", () => {
    const declarable = CONFIG_KEYS.filter((key) => CONFIG_KEY_TYPES[key] !== "object");

    assert.deepEqual(Object.keys(declared).sort(), [...declarable].sort());
    for (const [key, declaration] of Object.entries(declared)) {
      assert.equal(declaration.type, CONFIG_KEY_TYPES[key as ConfigKey], key);
      if (declaration.type === "array") assert.deepEqual(declaration.items, { type: "string" }, `${key}: an array of strings`);
    }
  });

  it("leaves only objects undeclared (Pulumi declares string, integer, boolean and array), each documented as set with --path", () => {
    const readme = readFileSync(path.join(__dirname, "../../README.md"), "utf8");

    assert.deepEqual(CONFIG_KEYS.filter((key) => CONFIG_KEY_TYPES[key] === "object"), objectKeys);
    for (const key of objectKeys) assert.match(readme, new RegExp(`^\\| \`${key}\` \\|.*--path`, "m"), `README's Configuration row for ${key}`);
  });

  it("has a table entry for exactly the keys the schema accepts", () => {
    const topLevel = Object.keys(configSchema.shape).filter((key) => key !== "processing");
    const processing = Object.keys(processingOptionsSchema.shape);

    assert.deepEqual([...topLevel, ...processing].sort(), [...CONFIG_KEYS].sort());
  });

  it("gives, through each declared default as the CLI passes it, the schema's own default", () => {
    // JSON drops the difference between an absent optional value and an undefined one.
    const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
    const schemaDefaults = plain(loadConfig({}));
    for (const [key, declaration] of Object.entries(declared)) {
      const text = typeof declaration.default === "string" ? declaration.default : JSON.stringify(declaration.default);

      assert.deepEqual(plain(configFromStackValues({ [`image-pipeline:${key}`]: text })), schemaDefaults, key);
    }
  });
});

describe("image feature config (animation, watermark)", () => {
  it("accepts animated: keep, a pixel x frame limit and a watermark from the uploads store or a project file", () => {
    const config = loadConfig({ animated: "keep", limits: { maxAnimatedPixels: 50_000_000 }, watermark: { source: "file:tests/fixtures/watermark/mark.png", position: "northwest", opacity: 0.3 } });

    assert.equal(config.processing.animated, "keep");
    assert.equal(config.processing.limits.maxAnimatedPixels, 50_000_000);
    assert.deepEqual(config.processing.watermark, { source: "file:tests/fixtures/watermark/mark.png", position: "northwest", opacity: 0.3, margin: 16, scale: 0.2, minWidth: 640 });
    assert.equal(loadConfig({ watermark: { source: "uploads:brand/logo.png" } }).processing.watermark?.source, "uploads:brand/logo.png");
  });

  it("refuses a file: watermark that is not in the project, naming the key", () => {
    assertRejected({ watermark: { source: "file:brand/no-such-logo.png" } }, "image-pipeline:watermark.source", /not in the project/);
  });

  it("refuses an unknown animated policy, a watermark opacity over 1 and a misspelt watermark key", () => {
    assertRejected({ animated: "loop" }, "image-pipeline:animated");
    assertRejected({ watermark: { source: "uploads:m.png", opacity: 1.2 } }, "image-pipeline:watermark.opacity");
    assertRejected({ watermark: { source: "uploads:m.png", postion: "north" } }, "image-pipeline:watermark.postion");
    assertRejected({ limits: { maxAnimatedPixels: 0 } }, "image-pipeline:limits.maxAnimatedPixels");
  });
});
