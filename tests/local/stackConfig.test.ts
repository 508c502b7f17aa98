import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isPipelineError } from "../../functions/core/errors";
import { runPreview } from "../../local/preview/cli";
import { loadStack, loadStackPipelineConfig, StackConfigError } from "../../local/stackConfig";

const ROOT = path.resolve(__dirname, "../..");
const tempDirs: string[] = [];

/** A throwaway project: the real Pulumi.yaml plus the given stack files. */
function tempProject(stacks: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-test-"));
  tempDirs.push(dir);
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  for (const [stack, text] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
  return dir;
}

/** "ok", or the error's code and message, of reading a stack for `npm start --stack`. */
function localVerdict(dir: string, stack: string): string {
  try {
    loadStackPipelineConfig(dir, stack);
    return "ok";
  } catch (error) {
    if (isPipelineError(error) || error instanceof StackConfigError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

describe("stack config", function () {
  this.timeout(180_000);
  after(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  describe("types, as the Pulumi CLI checks them", () => {
    it("accepts an integer or boolean that `pulumi config set` stored as text, and passes it on as text", () => {
      const dir = tempProject({ text: 'config:\n  image-pipeline:memoryMb: "2048"\n  image-pipeline:vpc: "true"\n  image-pipeline:filterWidth: 512\n' });

      const { stack, config } = loadStackPipelineConfig(dir, "text");

      assert.deepEqual([stack.values["image-pipeline:memoryMb"], stack.values["image-pipeline:vpc"], stack.values["image-pipeline:filterWidth"]], ["2048", "true", "512"]);
      assert.deepEqual([config.memoryMb, config.vpc, config.processing.filterWidth], [2048, true, 512]);
    });

    it("refuses text that is no integer, and a boolean other than true or false", () => {
      const dir = tempProject({ decimal: 'config:\n  image-pipeline:memoryMb: "2048.5"\n', yes: "config:\n  image-pipeline:vpc: yes\n" });

      assert.throws(() => loadStack(dir, "decimal"), { code: "CONFIG_INVALID", message: `Stack 'decimal' with configuration key 'image-pipeline:memoryMb' must be of type 'integer'; got "2048.5".` });
      assert.throws(() => loadStack(dir, "yes"), { code: "CONFIG_INVALID", message: `Stack 'yes' with configuration key 'image-pipeline:vpc' must be of type 'boolean'; got "yes".` });
    });

    it("refuses rendition objects and numbers where Pulumi.yaml declares an array of strings", () => {
      const dir = tempProject({ objects: "config:\n  image-pipeline:renditions:\n    - name: thumb\n      width: 320\n", numbers: "config:\n  image-pipeline:renditions: [320]\n" });

      assert.throws(() => loadStack(dir, "objects"), { code: "CONFIG_INVALID", message: /must be of type 'array<string>'/ });
      assert.throws(() => loadStack(dir, "numbers"), { code: "CONFIG_INVALID", message: /must be of type 'array<string>'/ });
    });

    it("passes a number given for a string key on as text, for the program to judge", () => {
      const dir = tempProject({ number: "config:\n  image-pipeline:cloud: 42\n" });

      assert.equal(loadStack(dir, "number").values["image-pipeline:cloud"], "42");
      assert.match(localVerdict(dir, "number"), /^CONFIG_INVALID: .*image-pipeline:cloud: Invalid option: expected one of "aws"\|"azure" \(got "42"\)/s);
    });
  });

  describe("naming the stack", () => {
    it("finds a stack by name from inside the project", () => {
      const stack = loadStack(path.join(ROOT, "local"), "dev-azure");

      assert.equal(stack.stack, "dev-azure");
      assert.equal(stack.stackFile, path.join(ROOT, "Pulumi.dev-azure.yaml"));
      assert.equal(stack.values["image-pipeline:cloud"], "azure");
    });

    it("reads a stack file by path, with the declarations and defaults of the project above it", () => {
      const dir = tempProject({ elsewhere: "config:\n  image-pipeline:formats: [avif]\n" });

      const { stack, config } = loadStackPipelineConfig(ROOT, path.join(dir, "Pulumi.elsewhere.yaml"));

      assert.equal(stack.projectDir, dir);
      assert.deepEqual(config.processing.formats, ["avif"]);
      assert.equal(config.memoryMb, 1024, "the project's default");
    });

    it("says when a file is not named like a stack file, or does not exist", () => {
      assert.throws(() => loadStack(ROOT, "dev.yaml"), { code: "STACK_NOT_FOUND", message: /dev\.yaml is not a stack file: stack files are named Pulumi\.<stack>\.yaml/ });
      assert.throws(() => loadStack(ROOT, "Pulumi.prod.yaml"), { code: "STACK_NOT_FOUND", message: /Stack "prod" has no stack file: .*Pulumi\.prod\.yaml does not exist\. Available stacks: dev, dev-azure\./ });
    });

    it("says when no project is around a stack name", () => {
      assert.throws(() => loadStack(os.tmpdir(), "dev"), { code: "PROJECT_INVALID", message: /No Pulumi\.yaml in .* or above it/ });
    });
  });

  describe("the same verdict as the program under the offline preview", () => {
    const stacks: Record<string, string> = {
      text: 'config:\n  aws:region: eu-west-1\n  image-pipeline:memoryMb: "2048"\n  image-pipeline:protectData: "false"\n',
      misspelt: "config:\n  aws:region: eu-west-1\n  image-pipeline:fromats: [avif]\n  image-pipeline:limits:\n    maxbytes: 1000\n",
      twice: "config:\n  aws:region: eu-west-1\n  image-pipeline:formats: [webp, webp]\n",
      jp2: "config:\n  aws:region: eu-west-1\n  image-pipeline:limits:\n    formats: [jpeg, jp2]\n",
      lambda: "config:\n  aws:region: eu-west-1\n  image-pipeline:timeoutSeconds: 1200\n",
    };
    let dir: string;
    before(() => {
      dir = tempProject(stacks);
    });

    for (const stack of Object.keys(stacks)) {
      it(`${stack}: npm start --stack and the program agree`, async () => {
        const preview = await runPreview({ stack, cwd: dir, program: path.join(ROOT, "index.ts"), policies: false });
        const previewVerdict = preview.error ? `${preview.error.code}: ${preview.error.message}` : "ok";

        assert.equal(localVerdict(dir, stack), previewVerdict);
        assert.equal(previewVerdict === "ok", stack === "text", previewVerdict);
      });
    }
  });
});
