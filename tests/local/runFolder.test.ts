import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isLocalInputError } from "../../local/errors";
import { claimRunFolder } from "../../local/runFolder";
import { main } from "../../local/cli";
import { samplePhoto } from "../../local/sampleImages";
import { Capture } from "../helpers/capture";

describe("runs that do not collide (local/runFolder.ts)", function () {
  this.timeout(120_000);
  let work: string;

  beforeEach(async function () {
    work = await mkdtemp(path.join(tmpdir(), "image-pipeline-runfolder-"));
  });

  afterEach(async function () {
    await rm(work, { recursive: true, force: true });
  });

  it("gives runs claiming the same default folder at once a folder each", async function () {
    const base = path.join(work, "out", "2030-01-01T00-00-00-aws");

    const claimed = await Promise.all([1, 2, 3].map(() => claimRunFolder(base, { fresh: true, cloud: "aws" })));

    assert.deepEqual([...claimed].sort(), [base, `${base}-2`, `${base}-3`]);
    for (const folder of claimed) assert.ok((await readdir(folder)).includes("run.json"), `${folder} has no run.json`);
  });

  it("refuses a given folder that holds a run (its run.json, or an older run's jobs.json) with OUT_DIR_IN_USE", async function () {
    const given = path.join(work, "given");
    await claimRunFolder(given, { fresh: false, cloud: "aws" });
    const older = path.join(work, "older");
    await mkdir(older);
    await writeFile(path.join(older, "jobs.json"), "[]\n");

    await assert.rejects(claimRunFolder(given, { fresh: false, cloud: "azure" }), (error: unknown) => isLocalInputError(error) && error.code === "OUT_DIR_IN_USE");
    await assert.rejects(claimRunFolder(older, { fresh: false, cloud: "aws" }), (error: unknown) => isLocalInputError(error) && error.code === "OUT_DIR_IN_USE");
  });

  it("accepts a given folder that exists but holds no run", async function () {
    const empty = path.join(work, "empty");
    await mkdir(empty);

    assert.equal(await claimRunFolder(empty, { fresh: false, cloud: "aws" }), empty);
  });

  it("runs two CLIs at once from the same folder into two folders, each with only its own jobs; a reused --out is refused and left as it was", async function () {
    await mkdir(path.join(work, "first"));
    await mkdir(path.join(work, "second"));
    await writeFile(path.join(work, "first", "one.jpg"), await samplePhoto({ width: 64, height: 48, seed: 51 }));
    await writeFile(path.join(work, "second", "two.jpg"), await samplePhoto({ width: 64, height: 48, seed: 52 }));
    const streams = () => ({ stdout: new Capture(), stderr: new Capture(), cwd: work });
    const [a, b] = [streams(), streams()];

    const codes = await Promise.all([main(["first", "--no-progress"], a), main(["second", "--no-progress"], b)]);

    assert.deepEqual(codes, [0, 0], a.stderr.text + b.stderr.text);
    const runs = await readdir(path.join(work, "out"));
    assert.equal(runs.length, 2, runs.join(", "));
    const keys = await Promise.all(runs.map(async (run) => (JSON.parse(await readFile(path.join(work, "out", run, "jobs.json"), "utf8")) as { sourceKey: string }[]).map((job) => job.sourceKey)));
    assert.deepEqual(keys.sort(), [["one.jpg"], ["two.jpg"]]);

    const reused = path.join(work, "out", runs[0]);
    const before = await readFile(path.join(reused, "jobs.json"), "utf8");
    const again = streams();
    const code = await main(["second", "--out", reused, "--no-progress"], again);

    assert.equal(code, 2);
    assert.match(again.stderr.text, /^\[OUT_DIR_IN_USE\] /);
    assert.equal(await readFile(path.join(reused, "jobs.json"), "utf8"), before);
  });
});
