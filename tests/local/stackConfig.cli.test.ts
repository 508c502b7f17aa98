import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { EXIT, main } from "../../local/cli";
import { Capture } from "../helpers/capture";

const ROOT = path.resolve(__dirname, "../..");

/** A stream that keeps what is written to it. */
const io = (cwd: string) => ({ stdout: new Capture(), stderr: new Capture(), cwd });

describe("npm start --stack", function () {
  this.timeout(120_000);
  let work: string;
  let photo: string;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "image-pipeline-stack-cli-"));
    photo = path.join(work, "photo.jpg");
    await writeFile(photo, await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 200, g: 80, b: 40 } } }).jpeg().toBuffer());
  });
  after(() => rm(work, { recursive: true, force: true }));

  it("takes a stack name, runs on the stack's cloud and says so", async () => {
    const out = path.join(work, "out-dev-azure");
    const streams = io(ROOT);

    const code = await main([photo, "--stack", "dev-azure", "--out", out, "--no-progress"], streams);

    assert.equal(code, EXIT.ok, streams.stderr.text);
    assert.match(streams.stdout.text, /^stack dev-azure \(Pulumi\.dev-azure\.yaml\): cloud azure, the stack's$/m);
    assert.match(streams.stdout.text, /^image-pipeline local \(azure\): 1 file/m);
    assert.ok(existsSync(path.join(out, "renditions", "photo.jpg", "manifest.json")));
  });

  it("takes the stack's file too, and lets --cloud pick the other engine, saying both", async () => {
    const out = path.join(work, "out-aws");
    const streams = io(ROOT);

    const code = await main([photo, "--stack", "Pulumi.dev-azure.yaml", "--cloud", "aws", "--out", out, "--no-progress"], streams);

    assert.equal(code, EXIT.ok, streams.stderr.text);
    assert.match(streams.stdout.text, /^stack dev-azure \(Pulumi\.dev-azure\.yaml\): cloud aws from --cloud \(the stack deploys to azure\)$/m);
    assert.match(streams.stdout.text, /^image-pipeline local \(aws\): 1 file/m);
  });

  it("refuses a stack with a misspelt key as the program does, in one coded line, exit 2", async () => {
    const project = await mkdtemp(path.join(tmpdir(), "image-pipeline-stack-project-"));
    try {
      await copyFile(path.join(ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
      await writeFile(path.join(project, "Pulumi.typo.yaml"), 'config:\n  image-pipeline:fromats: [avif]\n  image-pipeline:memoryMb: "2048"\n');
      const streams = io(project);

      const code = await main([photo, "--stack", "typo"], streams);

      assert.equal(code, EXIT.usage);
      assert.match(streams.stderr.text, /^\[CONFIG_INVALID\] The stack configuration is invalid:\n {2}- image-pipeline:fromats: unknown key; did you mean "image-pipeline:formats"\?\n/);
      assert.doesNotMatch(streams.stderr.text, /^\s+at /m);
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });

  it("names a stack that does not exist and the ones that do, exit 2", async () => {
    const streams = io(ROOT);

    const code = await main([photo, "--stack", "prod"], streams);

    assert.equal(code, EXIT.usage);
    assert.match(streams.stderr.text, /^\[STACK_NOT_FOUND\] Stack "prod" has no stack file: .*Available stacks: dev, dev-azure\.\n$/);
  });
});
