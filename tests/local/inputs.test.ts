import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { collectInputs } from "../../local/inputs";
import { isLocalInputError } from "../../local/errors";

const runningAsRoot = typeof process.getuid === "function" && process.getuid() === 0;

describe("the inputs the local CLI walks (local/inputs.ts)", function () {
  let work: string;

  beforeEach(async function () {
    work = await mkdtemp(path.join(tmpdir(), "image-pipeline-inputs-"));
  });

  afterEach(async function () {
    await chmod(work, 0o755).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  it("refuses an empty path with INPUT_EMPTY_PATH instead of walking the current folder", async function () {
    await assert.rejects(collectInputs([""], work), (error: unknown) => isLocalInputError(error) && error.code === "INPUT_EMPTY_PATH");
    await assert.rejects(collectInputs(["  "], work), (error: unknown) => isLocalInputError(error) && error.code === "INPUT_EMPTY_PATH");
  });

  it("refuses a path that does not exist with INPUT_NOT_FOUND", async function () {
    await assert.rejects(collectInputs(["missing"], work), (error: unknown) => isLocalInputError(error) && error.code === "INPUT_NOT_FOUND" && /missing/.test(error.message));
  });

  it("walks each real folder once when links form a cycle", async function () {
    const photos = path.join(work, "photos");
    await mkdir(path.join(photos, "sub"), { recursive: true });
    await writeFile(path.join(photos, "a.jpg"), "a");
    await writeFile(path.join(photos, "sub", "b.jpg"), "b");
    await symlink(photos, path.join(photos, "sub", "back-to-top"));
    await symlink(".", path.join(photos, "self"));

    const { inputs, problems } = await collectInputs(["photos"], work);

    assert.deepEqual(
      inputs.map((input) => input.key),
      ["a.jpg", "sub/b.jpg"],
    );
    assert.deepEqual(problems, []);
  });

  it("follows a link to a folder not otherwise walked, under the link's name", async function () {
    await mkdir(path.join(work, "elsewhere"));
    await writeFile(path.join(work, "elsewhere", "c.png"), "c");
    await mkdir(path.join(work, "given"));
    await symlink(path.join(work, "elsewhere"), path.join(work, "given", "linked"));

    const { inputs } = await collectInputs(["given"], work);

    assert.deepEqual(
      inputs.map((input) => input.key),
      ["linked/c.png"],
    );
  });

  it("reports a link that leads nowhere with INPUT_DANGLING_LINK and skips it", async function () {
    await mkdir(path.join(work, "photos"));
    await writeFile(path.join(work, "photos", "ok.jpg"), "ok");
    await symlink(path.join(work, "gone.jpg"), path.join(work, "photos", "dangling.jpg"));

    const { inputs, problems } = await collectInputs(["photos"], work);

    assert.deepEqual(
      inputs.map((input) => input.key),
      ["ok.jpg"],
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0].code, "INPUT_DANGLING_LINK");
    assert.equal(problems[0].path, path.join(work, "photos", "dangling.jpg"));
  });

  it("reports a pipe named like an image with INPUT_UNREADABLE and skips it without reading it (a read would block)", async function () {
    await mkdir(path.join(work, "photos"));
    execFileSync("mkfifo", [path.join(work, "photos", "pipe.jpg")]);

    const { inputs, problems } = await collectInputs(["photos"], work);

    assert.deepEqual(inputs, []);
    assert.deepEqual(
      problems.map((problem) => [problem.code, path.basename(problem.path)]),
      [["INPUT_UNREADABLE", "pipe.jpg"]],
    );
  });

  it("reports a file it may not read with INPUT_UNREADABLE and skips it", async function () {
    if (runningAsRoot) {
      console.log("      (skipped: running as root, where chmod 000 does not stop reads; the pipe case above covers INPUT_UNREADABLE)");
      this.skip();
    }
    await mkdir(path.join(work, "photos"));
    await writeFile(path.join(work, "photos", "secret.jpg"), "s");
    await chmod(path.join(work, "photos", "secret.jpg"), 0o000);

    const { inputs, problems } = await collectInputs(["photos"], work);

    assert.deepEqual(inputs, []);
    assert.deepEqual(
      problems.map((problem) => problem.code),
      ["INPUT_UNREADABLE"],
    );
  });

  it("reports a folder it may not list with INPUT_UNREADABLE and skips it", async function () {
    if (runningAsRoot) {
      console.log("      (skipped: running as root, where chmod 000 does not stop listing a folder)");
      this.skip();
    }
    await mkdir(path.join(work, "photos", "locked"), { recursive: true });
    await writeFile(path.join(work, "photos", "ok.jpg"), "ok");
    await chmod(path.join(work, "photos", "locked"), 0o000);

    const { inputs, problems } = await collectInputs(["photos"], work);

    assert.deepEqual(
      inputs.map((input) => input.key),
      ["ok.jpg"],
    );
    assert.deepEqual(
      problems.map((problem) => [problem.code, path.basename(problem.path)]),
      [["INPUT_UNREADABLE", "locked"]],
    );
  });
});
