import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { main } from "../../../local/cli";
import { samplePhoto } from "../../../local/sampleImages";

describe("npm start's closing cost block", function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(tmpdir(), "cost-start-"))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it("ends the run with its counted operations and its modeled cost", async function () {
    await writeFile(path.join(dir, "cat.jpg"), await samplePhoto({ width: 640, height: 480 }));
    const stdout = new PassThrough();
    const out: string[] = [];
    stdout.on("data", (chunk: Buffer) => out.push(chunk.toString("utf8")));

    const code = await main([path.join(dir, "cat.jpg"), "--out", path.join(dir, "out"), "--no-progress"], { stdout, stderr: new PassThrough(), cwd: dir });

    const text = out.join("");
    assert.equal(code, 0);
    assert.match(text, /billable operations of this run \(1 jobs\):/);
    assert.match(text, /^ {2}s3: .*PutObject \d+/m);
    assert.match(text, /^ {2}stepfunctions: .*StateTransition 7/m);
    assert.match(text, /^modeled cost of this run: \$\d+\.\d{6} \(aws EXPRESS, arm64;/m);
  });
});
