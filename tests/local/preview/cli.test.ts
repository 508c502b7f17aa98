import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exitCodeOf, formatText, runPreview, type PreviewResult } from "../../../local/preview/cli";
import { loadStackConfig, SECRET_PLACEHOLDER, StackConfigError } from "../../../local/stackConfig";

const ROOT = path.resolve(__dirname, "../../..");
const FIXTURES = path.join(__dirname, "..", "fixtures");

/** Runs the preview CLI as `npm run preview` does, in its own process. */
function previewCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "local/preview/cli.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const tempDirs: string[] = [];

/** A throwaway project: the real Pulumi.yaml plus the given stack files. */
function tempProject(stacks: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-test-"));
  tempDirs.push(dir);
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  for (const [stack, text] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
  return dir;
}

const mandatory = (result: PreviewResult) => result.diagnostics.filter((d) => d.enforcementLevel === "mandatory");

describe("offline preview", function () {
  this.timeout(180_000);
  after(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  describe("stack config", () => {
    it("merges Pulumi.yaml defaults with the stack file, as the language host passes them", () => {
      const config = loadStackConfig(ROOT, "dev");
      assert.equal(config.project, "image-pipeline");
      assert.equal(config.values["aws:region"], "eu-west-1");
      assert.equal(config.values["image-pipeline:cloud"], "aws");
      assert.equal(config.values["image-pipeline:tags"], JSON.stringify({ owner: "platform-team" }));
      assert.equal(config.values["image-pipeline:memoryMb"], "1024");
      assert.equal(config.values["image-pipeline:renditions"], JSON.stringify(["thumb:320", "medium:1024", "large:2048"]));
    });

    it("names the missing stack file and lists the stacks that exist", () => {
      assert.throws(
        () => loadStackConfig(ROOT, "prod"),
        (error: unknown) =>
          error instanceof StackConfigError && error.code === "STACK_NOT_FOUND" && error.message.includes(`${path.join(ROOT, "Pulumi.prod.yaml")} does not exist`) && error.message.includes("Available stacks: dev, dev-azure."),
      );
    });

    it("rejects a value of the wrong type, like the Pulumi CLI", () => {
      const dir = tempProject({ typo: "config:\n  image-pipeline:memoryMb: lots\n" });
      assert.throws(() => loadStackConfig(dir, "typo"), { name: "StackConfigError", message: `Stack 'typo' with configuration key 'image-pipeline:memoryMb' must be of type 'integer'; got "lots".` });
    });

    it("replaces secure values by a placeholder and marks them secret", () => {
      const dir = tempProject({ secret: "config:\n  image-pipeline:notificationEmail:\n    secure: AAABAHk=\n" });
      const config = loadStackConfig(dir, "secret");
      assert.equal(config.values["image-pipeline:notificationEmail"], SECRET_PLACEHOLDER);
      assert.deepEqual(config.secretKeys, ["image-pipeline:notificationEmail"]);
    });
  });

  describe("on test programs", () => {
    let project: string;
    before(() => {
      project = tempProject({ test: "config:\n  aws:region: eu-west-1\n" });
    });
    const preview = (program: string) => runPreview({ stack: "test", cwd: project, program: path.join(FIXTURES, program) });

    it("lists every resource with its parent and answers data sources with fake values", async () => {
      const result = await preview("compliantAwsProgram.ts");
      assert.equal(result.error, undefined);
      const bucket = result.resources.find((r) => r.type === "aws:s3/bucket:Bucket");
      const component = result.resources.find((r) => r.type === "fixture:index:UploadsStore");
      assert.equal(bucket?.parent, component?.urn);
      assert.equal(result.resources.filter((r) => r.custom).length, 11);
      assert.equal(result.outputs.awsAccount, "123456789012");
      assert.equal(result.outputs.awsRegion, "eu-west-1");
      assert.match(String(result.outputs.functionArn), /^arn:aws:lambda:eu-west-1:123456789012:function:fixture-validate-[0-9a-f]{7}$/);
      assert.deepEqual(result.unknownInputs, []);
    });

    it("passes a compliant program: no violations, exit code 0", async () => {
      const result = await preview("compliantAwsProgram.ts");
      assert.deepEqual(result.diagnostics.map((d) => d.message), []);
      assert.equal(exitCodeOf(result), 0);
    });

    it("reports a violating program's violations by policy, exit code 1", async () => {
      const result = await preview("violatingAwsProgram.ts");
      const hit = [...new Set(mandatory(result).map((d) => d.policyName))].sort();
      assert.deepEqual(hit, [
        "aws-iam-no-wildcard-actions",
        "aws-iam-no-wildcard-resources",
        "aws-lambda-supported-runtime",
        "aws-lambda-tracing-active",
        "aws-lambda-within-limits",
        "aws-s3-bucket-default-encryption",
        "aws-s3-bucket-lifecycle",
        "aws-s3-bucket-public-access-blocked",
        "aws-s3-bucket-tls-only",
        "aws-s3-uploads-access-logging",
        "aws-s3-uploads-versioning",
        "required-tags",
      ]);
      assert.equal(exitCodeOf(result), 1);
      const text = formatText(result);
      assert.match(text, /\[mandatory\] aws-lambda-within-limits \(medium\): Lambda functions have a timeout/);
      assert.match(text, /- The aws\.lambda\.Function "fixture-legacy" has a timeout of 1200 s; Lambda allows 1 to 900 s\./);
      assert.match(text, /Result: \d+ mandatory violations; `pulumi up` would be blocked\./);
    });

    it("honours policy config like --policy-pack-config", async () => {
      const result = await runPreview({ stack: "test", cwd: project, program: path.join(FIXTURES, "violatingAwsProgram.ts"), policyConfig: { all: "advisory" } });
      assert.deepEqual(mandatory(result), []);
      assert.equal(exitCodeOf(result), 0);
    });

    it("applies stack transforms before policies see the inputs", async () => {
      const result = await preview("transformProgram.ts");
      const topic = result.resources.find((r) => r.type === "aws:sns/topic:Topic");
      assert.deepEqual(topic?.inputs.tags, { project: "image-pipeline", stack: "test", "data-classification": "internal" });
      assert.deepEqual(result.diagnostics, []);
    });

    it("fails clearly on a data source it has no answer for", async () => {
      const result = await preview("unknownDataSourceProgram.ts");
      assert.equal(result.error?.code, "PROGRAM_ERROR");
      assert.match(result.error?.message ?? "", /no fake answer for the data source "aws:index\/getRegions:getRegions"/);
      assert.equal(exitCodeOf(result), 2);
    });
  });

  describe("the CLI", () => {
    it("prints a stack file's config error without a stack trace, exit code 2", () => {
      const dir = tempProject({ big: "config:\n  aws:region: eu-west-1\n  image-pipeline:memoryMb: 20000\n" });
      const run = previewCli(["--stack", "big", "--cwd", dir, "--program", path.join(ROOT, "index.ts")]);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /error \[CONFIG_INVALID\]: The stack configuration is invalid:\n\s+- image-pipeline:memoryMb: Lambda memory must be between 128 and 10240 MB; got 20000/);
      assert.doesNotMatch(run.stderr, /^\s+at /m);
    });

    it("names a missing stack file and the available stacks, exit code 2", () => {
      const run = previewCli(["--stack", "prod"]);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /error \[STACK_NOT_FOUND\]: Stack "prod" has no stack file: .*Pulumi\.prod\.yaml does not exist\. Available stacks: dev, dev-azure\./);
    });
  });

  describe("the project's own dev stacks", () => {
    for (const stack of ["dev", "dev-azure"]) {
      it(`${stack} passes every mandatory policy`, () => {
        const run = previewCli(["--stack", stack, "--json"]);
        const result = JSON.parse(run.stdout) as PreviewResult;
        assert.equal(result.error, undefined, result.error?.message);
        assert.ok(result.resources.some((r) => r.custom), "the program registered resources");
        assert.deepEqual(mandatory(result).map((d) => d.message), []);
        assert.equal(run.status, 0);
      });
    }
  });
});
