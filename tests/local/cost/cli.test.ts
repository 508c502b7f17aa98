import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { PassThrough } from "node:stream";
import { main } from "../../../local/cost/cli";

const projectDir = path.resolve(__dirname, "../../..");

async function run(args: string[], { terminal = false } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), terminal ? { isTTY: true, columns: 160 } : {});
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk.toString("utf8")));
  stderr.on("data", (chunk: Buffer) => err.push(chunk.toString("utf8")));
  const code = await main(args, { stdout, stderr, cwd: projectDir });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("npm run cost", function () {
  this.timeout(180_000);

  for (const stack of ["dev", "dev-azure"]) {
    it(`prices the ${stack} stack per million images with a total`, async function () {
      const { code, stdout, stderr } = await run(["--stack", stack, "--images", "1", "--megapixels", "1"]);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^total: \$\d+\.\d\d per million images/m);
      assert.match(stdout, stack === "dev" ? /Step Functions Express requests/ : /Queue operations \(Durable messages\)/);
    });
  }

  it("gives each line item and the total as JSON", async function () {
    const { code, stdout } = await run(["--stack", "dev", "--images", "1", "--megapixels", "0.5", "--json", "--config", "workflowType=STANDARD"]);
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as { cloud: string; perMillion: { items: Array<{ id: string; usd?: number; source: string }>; totalUsd: number } };
    assert.equal(report.cloud, "aws");
    const transitions = report.perMillion.items.find((item) => item.id === "stepfunctions.standardTransition");
    assert.ok(transitions && transitions.usd !== undefined && transitions.usd > 0);
    assert.match(transitions.source, /^https:\/\//);
    const sum = report.perMillion.items.reduce((total, item) => total + (item.usd ?? 0), 0);
    assert.ok(Math.abs(sum - report.perMillion.totalUsd) < 1e-6);
  });

  it("bills the floor's compute from the core's CPU time at the instance's cores, below the CPU-time total, on 4,096 MB Flex", async function () {
    const flex4096 = 'azure={"plan":"flex","location":"westeurope","flexInstanceMemoryMb":4096}';
    const { code, stdout, stderr } = await run(["--stack", "dev-azure", "--images", "1", "--megapixels", "1", "--json", "--config", flex4096]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as { floor: { outputWrites: number; coreCpuMs: number; usd: number }; perMillion: { bounds: Array<{ id: string; usd: number }> } };
    const { outputWrites, coreCpuMs, usd } = report.floor;
    // $0.055 per 10,000 blob writes; 4 GB × $0.000026 per GB-s for the CPU time spread over the instance's 2 cores.
    const expected = 1_000_000 * ((outputWrites * 0.055) / 10_000 + (coreCpuMs / 1000 / 2) * 4 * 0.000026);
    assert.ok(Math.abs(usd - expected) < 1e-6, `${usd} = ${expected}`);
    const cpuTotal = report.perMillion.bounds.find((bound) => bound.id === "compute.cpu");
    assert.ok(cpuTotal && usd < cpuTotal.usd, `floor ${usd} < ${cpuTotal?.usd}`);
  });

  it("prices the stack with a config key overridden, e.g. a Standard workflow", async function () {
    const { code, stdout } = await run(["--stack", "dev", "--images", "1", "--megapixels", "0.5", "--config", "workflowType=STANDARD"]);
    assert.equal(code, 0);
    assert.match(stdout, /^dev: aws STANDARD,/m);
    assert.match(stdout, /Step Functions Standard transitions +7000000 +transitions/);
    assert.doesNotMatch(stdout, /Express requests/);
  });

  it("draws a progress bar on a terminal, two runs per image (the pipeline, then the core alone), and none elsewhere", async function () {
    const onTerminal = await run(["--stack", "dev", "--images", "2", "--megapixels", "0.3"], { terminal: true });
    const piped = await run(["--stack", "dev", "--images", "2", "--megapixels", "0.3"]);

    assert.equal(onTerminal.code, 0, onTerminal.stderr);
    assert.match(onTerminal.stderr, /0\/4 runs \(each image through the pipeline, then the core alone\)/);
    assert.match(onTerminal.stderr, /4\/4 runs/);
    assert.doesNotMatch(piped.stderr, /runs \(each image/);
  });

  it("refuses a --config without key=value", async function () {
    const { code, stderr } = await run(["--stack", "dev", "--config", "EXPRESS"]);
    assert.equal(code, 2);
    assert.match(stderr, /^\[COST_USAGE\] --config takes key=value/m);
  });

  it("refuses a bad option with a usage error and exit code 2", async function () {
    const { code, stderr } = await run(["--stack", "dev", "--images", "0"]);
    assert.equal(code, 2);
    assert.match(stderr, /--images must be a whole number from 1 to 50/);
  });

  it("names the stacks that exist when the stack does not", async function () {
    const { code, stderr } = await run(["--stack", "nope"]);
    assert.equal(code, 2);
    assert.match(stderr, /^\[STACK_NOT_FOUND\] .*Available stacks: dev, dev-azure/m);
  });

  it("refuses a prices file that names an unknown price", async function () {
    const { code, stderr } = await run(["--stack", "dev", "--prices", path.join(projectDir, "package.json")]);
    assert.equal(code, 2);
    assert.match(stderr, /^\[COST_USAGE\] The prices file .* unknown price "name"/m);
  });

  describe("on your own images", function () {
    let dir: string;
    before(async function () {
      dir = await mkdtemp(path.join(os.tmpdir(), "cost-given-"));
      await mkdir(path.join(dir, "more"));
      // Name order: a.jpg, b-not-an-image.jpg, more/c.png.
      await sharp({ create: { width: 600, height: 400, channels: 3, background: "#3a6" } }).jpeg().toFile(path.join(dir, "a.jpg"));
      await writeFile(path.join(dir, "b-not-an-image.jpg"), "this is text");
      await sharp({ create: { width: 500, height: 500, channels: 3, background: "#a36" } }).png().toFile(path.join(dir, "more", "c.png"));
    });
    after(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    it("runs every file under the folder, averages the ones that succeed and lists the others with their codes", async function () {
      const { code, stdout, stderr } = await run(["--stack", "dev", "--json", dir]);
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as { images: number; megapixels: number; inputs: string[]; leftOut: Array<{ key: string; status: string; errorCode?: string }>; perMillion: { keptPerMonth: { gb: number; usdPerMonth: number; unitPrice: number } } };
      assert.equal(report.images, 2);
      assert.deepEqual(report.inputs, [dir]);
      assert.deepEqual(report.leftOut, [{ key: "b-not-an-image.jpg", status: "failed", errorCode: "CORRUPT_IMAGE" }]);
      // (600 × 400 + 500 × 500) / 2 pixels, in megapixels.
      assert.ok(Math.abs(report.megapixels - 0.245) < 1e-9, String(report.megapixels));
      assert.match(stderr, /^left out: b-not-an-image\.jpg ended failed \(CORRUPT_IMAGE\)$/m);
      const kept = report.perMillion.keptPerMonth;
      assert.ok(kept.gb > 0);
      assert.equal(kept.unitPrice, 0.023);
      assert.ok(Math.abs(kept.usdPerMonth - kept.gb * 0.023) < 1e-9);
    });

    it("takes the first --images files in name order", async function () {
      const { code, stdout, stderr } = await run(["--stack", "dev-azure", "--images", "1", dir]);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /running 1 of your image\(s\) \(the first of 3 found, in name order\)/);
      assert.match(stdout, /^dev-azure: azure .*; 1 of your image\(s\), 0\.2 MP on average;/m);
      assert.match(stdout, /^keeping the outputs \(not in the total\): [\d.]+ GB per million images, \$[\d.]+ a month \(GB-months \(hot, LRS/m);
    });

    it("ends with RUN_FAILED when no image given succeeds", async function () {
      const { code, stderr } = await run(["--stack", "dev", path.join(dir, "b-not-an-image.jpg")]);
      assert.equal(code, 1);
      assert.match(stderr, /^\[RUN_FAILED\] none of the 1 image\(s\) given ended succeeded/m);
    });

    it("refuses a path that does not exist with INPUT_NOT_FOUND and exit code 2", async function () {
      const { code, stderr } = await run(["--stack", "dev", path.join(dir, "nope")]);
      assert.equal(code, 2);
      assert.match(stderr, /^\[INPUT_NOT_FOUND\] No such file or folder: ".*nope"/m);
    });
  });
});
