import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { samplePhoto } from "../../local/sampleImages";

/**
 * Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group,
 * here a group the CLI's launcher leads (spawned detached).
 */

const ROOT = path.join(__dirname, "..", "..");

/** Every live process, read from /proc: its stat fields (after the command name), command line and environment. */
function processes(): { pid: string; fields: string[]; cmdline: string; environ: string[] }[] {
  const found = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      let environ: string[] = [];
      try {
        environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      } catch {
        // Not ours to read.
      }
      found.push({ pid, fields, cmdline, environ });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** Processes whose process group is `group` (field 5 of /proc/<pid>/stat). */
function groupMembers(group: number): string[] {
  return processes().filter((p) => Number(p.fields[2]) === group).map((p) => `${p.pid} ${p.cmdline.slice(0, 120)}`);
}

/** Direct children of `parent` (field 4 of /proc/<pid>/stat). */
function childrenOf(parent: number): string[] {
  return processes().filter((p) => Number(p.fields[1]) === parent).map((p) => `${p.pid} ${p.cmdline}`);
}

/** Processes, in any group, that carry `tag` in their environment: everything the run started, azurite included. */
function taggedProcesses(tag: string): string[] {
  return processes().filter((p) => p.environ.includes(`IMAGE_PIPELINE_TEST_RUN=${tag}`)).map((p) => `${p.pid} ${p.cmdline.slice(0, 120)}`);
}

/** Kills whatever a test left running; a process that exits meanwhile (ESRCH) is what we wanted anyway. */
function cleanUp(group: number, tag: string): void {
  const kill = (target: number) => {
    try {
      process.kill(target, "SIGKILL");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  };
  if (groupMembers(group).length > 0) kill(-group);
  for (const line of taggedProcesses(tag)) kill(Number(line.split(" ")[0]));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

describe("one Ctrl-C on the local CLI (a SIGINT to its process group)", function () {
  this.timeout(240_000);
  let work: string;
  let images: string;
  const IMAGE_COUNT = 12;

  before(async function () {
    work = await mkdtemp(path.join(tmpdir(), "image-pipeline-interrupt-"));
    images = path.join(work, "images");
    await mkdir(images);
    for (let index = 0; index < IMAGE_COUNT; index++) await writeFile(path.join(images, `photo-${String(index).padStart(2, "0")}.jpg`), await samplePhoto({ width: 1200, height: 900, seed: 60 + index }));
  });

  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  /** One run of the CLI in a process group of its own (as a terminal starts it), with its own temp and out folders. */
  async function startRun(tag: string, command: string, args: readonly string[], inputs: string, cloud: string) {
    const temp = path.join(work, `tmp-${tag}`);
    await mkdir(temp);
    const out = path.join(work, `out-${tag}`);
    const child = spawn(command, [...args, inputs, "--cloud", cloud, "--out", out, "--concurrency", "1", "--no-progress"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // TMPDIR: the emulators' temp folders land where this test can see them all.
      env: { ...process.env, TMPDIR: temp, IMAGE_PIPELINE_TEST_RUN: tag },
    });
    const output = { stdout: "", stderr: "" };
    child.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
    return { group: child.pid as number, temp, out, output, ended };
  }

  const launchers = [
    // What `npx tsx local/cli.ts` runs, without npx's own process (which, like npm, ends itself with SIGINT).
    { name: "tsx local/cli.ts", command: path.join(ROOT, "node_modules", ".bin", "tsx"), args: ["local/cli.ts"], clouds: ["aws", "azure"] },
    { name: "npm start", command: "npm", args: ["start", "--"], clouds: ["azure"] },
  ] as const;
  for (const launcher of launchers) {
    for (const cloud of launcher.clouds) {
      it(`through \`${launcher.name}\` (${cloud}): ends cleanly with the table and jobs.json, exit 130, nothing left running, temp folders gone`, async function () {
        const tag = `${cloud}-${path.basename(launcher.command)}-${process.pid}`;
        const { group, temp, out, output, ended } = await startRun(tag, launcher.command, launcher.args, images, cloud);
        try {
          // Mid-run: the first image is done, the others are still to come.
          assert.ok(await until(() => /event image\.processed/.test(output.stdout), 180_000), `the run never got going:\n${output.stdout}\n${output.stderr}`);
          process.kill(-group, "SIGINT");

          const { code, signal } = await ended;

          // npm answers a script ended by Ctrl-C by killing itself with SIGINT, which a shell reports as 130 too.
          if (launcher.command === "npm") assert.ok(code === 130 || signal === "SIGINT", `exit ${code} ${signal}\n${output.stderr}`);
          else assert.equal(code, 130, output.stderr);
          assert.match(output.stderr, /^stopping: finishing running executions/m);
          assert.doesNotMatch(output.stderr, /quitting now/, "one Ctrl-C acted as two");
          assert.match(output.stdout, /photo-00\.jpg\s+succeeded/);
          assert.match(output.stdout, /photo-11\.jpg\s+not run\s.*INTERRUPTED/);
          assert.match(output.stdout, new RegExp(`${IMAGE_COUNT} images: \\d+ succeeded, 0 failed, \\d+ not run`));
          const jobs = JSON.parse(await readFile(path.join(out, "jobs.json"), "utf8")) as { sourceKey: string; status: string }[];
          assert.equal(jobs.length, IMAGE_COUNT);
          assert.equal(jobs.find((job) => job.sourceKey === "photo-00.jpg")?.status, "succeeded");
          assert.equal(jobs.find((job) => job.sourceKey === "photo-11.jpg")?.status, "skipped");
          assert.ok(await until(() => groupMembers(group).length === 0, 3_000), `still running in the group:\n${groupMembers(group).join("\n")}`);
          assert.deepEqual(taggedProcesses(tag), []);
          assert.deepEqual(
            readdirSync(temp).filter((name) => name.startsWith("image-pipeline-")),
            [],
          );
        } finally {
          cleanUp(group, tag);
        }
        assert.ok(existsSync(out));
      });
    }
  }

  it("a second Ctrl-C (azure, through `tsx local/cli.ts`) quits at once: exit 130, azurite stopped, temp folders gone", async function () {
    const tag = `again-${process.pid}`;
    // A 24 MP photo keeps a job in flight for seconds, so the graceful stop is still going when the second press comes.
    const bigImages = path.join(work, `images-${tag}`);
    await mkdir(bigImages);
    await writeFile(path.join(bigImages, "big.jpg"), await samplePhoto({ width: 6000, height: 4000, seed: 99 }));
    const { group, temp, output, ended } = await startRun(tag, path.join(ROOT, "node_modules", ".bin", "tsx"), ["local/cli.ts"], bigImages, "azure");
    try {
      assert.ok(await until(() => /emulators on/.test(output.stdout), 180_000), `the run never got going:\n${output.stdout}\n${output.stderr}`);
      process.kill(-group, "SIGINT");
      assert.ok(await until(() => /^stopping:/m.test(output.stderr), 30_000), output.stderr);
      // A person's second keystroke, not a launcher's relay of the first.
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.kill(-group, "SIGINT");

      const { code } = await ended;

      assert.equal(code, 130, output.stderr);
      assert.match(output.stderr, /^quitting now/m);
      assert.ok(await until(() => groupMembers(group).length === 0, 3_000), `still running in the group:\n${groupMembers(group).join("\n")}`);
      assert.deepEqual(taggedProcesses(tag), []);
      assert.deepEqual(
        readdirSync(temp).filter((name) => name.startsWith("image-pipeline-")),
        [],
      );
    } finally {
      cleanUp(group, tag);
    }
  });

  it("when a launcher kills the supervisor right after the Ctrl-C (tsx does, if the supervisor answers late), the run still ends cleanly with the table and jobs.json, nothing left running", async function () {
    const tag = `killed-${process.pid}`;
    const { group, temp, out, output, ended } = await startRun(tag, path.join(ROOT, "node_modules", ".bin", "tsx"), ["local/cli.ts"], images, "azure");
    try {
      assert.ok(await until(() => /event image\.processed/.test(output.stdout), 180_000), `the run never got going:\n${output.stdout}\n${output.stderr}`);
      const supervisor = childrenOf(group).find((line) => line.includes("local/cli.ts"));
      assert.ok(supervisor, `no supervisor under the launcher:\n${groupMembers(group).join("\n")}`);
      process.kill(-group, "SIGINT");
      process.kill(Number(supervisor.split(" ")[0]), "SIGKILL");

      await ended;

      assert.match(output.stderr, /^stopping: finishing running executions/m);
      assert.doesNotMatch(output.stderr, /quitting now/);
      assert.match(output.stdout, /photo-11\.jpg\s+not run\s.*INTERRUPTED/);
      const jobs = JSON.parse(await readFile(path.join(out, "jobs.json"), "utf8")) as { sourceKey: string; status: string }[];
      assert.equal(jobs.length, IMAGE_COUNT);
      assert.ok(await until(() => groupMembers(group).length === 0, 3_000), `still running in the group:\n${groupMembers(group).join("\n")}`);
      assert.deepEqual(taggedProcesses(tag), []);
      assert.deepEqual(
        readdirSync(temp).filter((name) => name.startsWith("image-pipeline-")),
        [],
      );
    } finally {
      cleanUp(group, tag);
    }
  });
});
