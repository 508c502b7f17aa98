import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { main as cliMain } from "../../local/cli";
import { main as previewMain } from "../../local/preview/cli";
import { Capture } from "../helpers/capture";

/** A stream that keeps what is written to it. */
const STACK_FRAME = /^\s+at /m;
/** `[CODE] message` (npm start, npm run bench) or `error [CODE]: message` (npm run preview). */
const CODED_LINE = /^(error )?\[[A-Z][A-Z_]+\]:? \S/;

/** Non-zero exit, exactly one coded line (naming `code` when given), no stack frame. */
function assertOneCodedLine(exitCode: number, stderr: string, code?: string): void {
  assert.notEqual(exitCode, 0, stderr);
  assert.doesNotMatch(stderr, STACK_FRAME, stderr);
  const coded = stderr.split("\n").filter((line) => CODED_LINE.test(line));
  assert.equal(coded.length, 1, `expected one coded line in:\n${stderr}`);
  if (code) assert.match(coded[0], new RegExp(`\\[${code}\\]`), stderr);
}

const PROJECT = "name: probe\nruntime: nodejs\nconfig:\n  image-pipeline:cloud:\n    type: string\n    default: aws\n";

describe("every user-caused failure of the local CLIs is one coded line", function () {
  this.timeout(120_000);
  let work: string;

  before(async function () {
    work = await mkdtemp(path.join(tmpdir(), "image-pipeline-cli-errors-"));
    await mkdir(path.join(work, "images"));
    await writeFile(path.join(work, "images", "a.jpg"), "not really a jpeg");
    await writeFile(path.join(work, "a-file"), "x");
    await mkdir(path.join(work, "used-out"));
    await writeFile(path.join(work, "used-out", "jobs.json"), "[]\n");
    await mkdir(path.join(work, "only-dangling"));
    await symlink(path.join(work, "nowhere.jpg"), path.join(work, "only-dangling", "gone.jpg"));
    await writeFile(path.join(work, "malformed.yaml"), "config:\n  image-pipeline:formats: [webp\n");
    await writeFile(path.join(work, "duplicate.yaml"), "config:\n  image-pipeline:memoryMb: 1024\n  image-pipeline:memoryMb: 2048\n");
    await writeFile(path.join(work, "bad.json"), "{ not json");
    await writeFile(path.join(work, "bad-level.json"), JSON.stringify({ all: "strict" }));
    await writeFile(path.join(work, "array.json"), "[]");
    const project = path.join(work, "project");
    await mkdir(project);
    await writeFile(path.join(project, "Pulumi.yaml"), PROJECT);
    await writeFile(path.join(project, "Pulumi.malformed.yaml"), "config:\n  image-pipeline:cloud: [aws\n");
    await writeFile(path.join(project, "Pulumi.duplicate.yaml"), "config:\n  image-pipeline:cloud: aws\n  image-pipeline:cloud: azure\n");
  });

  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  describe("npm start (local/cli.ts)", function () {
    const cases: Array<{ what: string; argv: (work: string) => string[]; code?: string; exit: number }> = [
      { what: "--concurrency 0", argv: () => ["--concurrency", "0"], code: "USAGE_INVALID", exit: 2 },
      { what: "--concurrency abc", argv: () => ["--concurrency", "abc"], code: "USAGE_INVALID", exit: 2 },
      { what: "--cloud gcp", argv: () => ["--cloud", "gcp"], code: "USAGE_INVALID", exit: 2 },
      { what: "an unknown option", argv: () => ["--clod", "aws"], code: "USAGE_INVALID", exit: 2 },
      { what: "--port-s3 70000", argv: () => ["--port-s3", "70000"], code: "USAGE_INVALID", exit: 2 },
      { what: "--retry-delay -1", argv: () => ["--retry-delay", "-1"], code: "USAGE_INVALID", exit: 2 },
      { what: "--out with no value", argv: () => ["--out"], code: "USAGE_INVALID", exit: 2 },
      { what: "an empty --out", argv: (w) => [path.join(w, "images"), "--out", ""], code: "USAGE_INVALID", exit: 2 },
      { what: "an empty --inbox", argv: () => ["--watch", "--inbox", ""], code: "USAGE_INVALID", exit: 2 },
      { what: "paths with --watch", argv: (w) => ["--watch", path.join(w, "images")], code: "USAGE_INVALID", exit: 2 },
      { what: "an empty path", argv: () => [""], code: "INPUT_EMPTY_PATH", exit: 2 },
      { what: "a path that does not exist", argv: (w) => [path.join(w, "missing")], code: "INPUT_NOT_FOUND", exit: 2 },
      { what: "--out naming a file", argv: (w) => [path.join(w, "images"), "--out", path.join(w, "a-file")], code: "OUT_DIR_UNWRITABLE", exit: 2 },
      { what: "--out under a file", argv: (w) => [path.join(w, "images"), "--out", path.join(w, "a-file", "sub")], code: "OUT_DIR_UNWRITABLE", exit: 2 },
      { what: "--out holding a run", argv: (w) => [path.join(w, "images"), "--out", path.join(w, "used-out")], code: "OUT_DIR_IN_USE", exit: 2 },
      { what: "--inbox naming a file", argv: (w) => ["--watch", "--inbox", path.join(w, "a-file"), "--out", path.join(w, "watch-out")], code: "INBOX_NOT_A_FOLDER", exit: 2 },
      { what: "--stack naming no file", argv: (w) => [path.join(w, "images"), "--stack", path.join(w, "no-such.yaml")], exit: 2 },
      { what: "--stack with malformed YAML", argv: (w) => [path.join(w, "images"), "--stack", path.join(w, "malformed.yaml")], exit: 2 },
      { what: "--stack with a duplicate key", argv: (w) => [path.join(w, "images"), "--stack", path.join(w, "duplicate.yaml")], exit: 2 },
    ];
    for (const { what, argv, code, exit } of cases) {
      it(`${what}: exit ${exit}, one ${code ?? "coded"} line, no stack trace`, async function () {
        const stdout = new Capture();
        const stderr = new Capture();

        const exitCode = await cliMain(argv(work), { stdout, stderr, cwd: work });

        assertOneCodedLine(exitCode, stderr.text, code);
        assert.equal(exitCode, exit, stderr.text);
      });
    }

    it("a folder holding only a link that leads nowhere: the link reported, then INPUT_NONE, exit 2, before any emulator starts", async function () {
      const stdout = new Capture();
      const stderr = new Capture();
      const out = path.join(work, "never-created");

      const exitCode = await cliMain([path.join(work, "only-dangling"), "--out", out], { stdout, stderr, cwd: work });

      assert.equal(exitCode, 2);
      const lines = stderr.text.trim().split("\n");
      assert.equal(lines.length, 2, stderr.text);
      assert.match(lines[0], /^\[INPUT_DANGLING_LINK\] ".*gone\.jpg" is a symbolic link that leads nowhere/);
      assert.match(lines[1], /^\[INPUT_NONE\] /);
      assert.doesNotMatch(stdout.text, /emulators on/);
      assert.equal(existsSync(out), false, "the run folder was created although nothing ran");
    });
  });

  describe("npm run preview (local/preview/cli.ts)", function () {
    const cases: Array<{ what: string; argv: (work: string) => string[]; code: string }> = [
      { what: "no --stack", argv: () => [], code: "USAGE_INVALID" },
      { what: "an unknown option", argv: () => ["--stack", "dev", "--jsn"], code: "USAGE_INVALID" },
      { what: "--timeout 0", argv: () => ["--stack", "dev", "--timeout", "0"], code: "USAGE_INVALID" },
      { what: "--timeout abc", argv: () => ["--stack", "dev", "--timeout", "abc"], code: "USAGE_INVALID" },
      { what: "a missing --policy-pack-config file", argv: (w) => ["--stack", "dev", "--policy-pack-config", path.join(w, "missing.json")], code: "POLICY_CONFIG_INVALID" },
      { what: "--policy-pack-config that is not JSON", argv: (w) => ["--stack", "dev", "--policy-pack-config", path.join(w, "bad.json")], code: "POLICY_CONFIG_INVALID" },
      { what: "--policy-pack-config with an unknown level", argv: (w) => ["--stack", "dev", "--policy-pack-config", path.join(w, "bad-level.json")], code: "POLICY_CONFIG_INVALID" },
      { what: "--policy-pack-config holding an array", argv: (w) => ["--stack", "dev", "--policy-pack-config", path.join(w, "array.json")], code: "POLICY_CONFIG_INVALID" },
      { what: "--cwd naming no folder", argv: (w) => ["--stack", "dev", "--cwd", path.join(w, "missing")], code: "USAGE_INVALID" },
      { what: "a stack with no stack file", argv: (w) => ["--stack", "nope", "--cwd", path.join(w, "project")], code: "STACK_NOT_FOUND" },
      { what: "a stack file with malformed YAML", argv: (w) => ["--stack", "malformed", "--cwd", path.join(w, "project")], code: "PROJECT_INVALID" },
      { what: "a stack file with a duplicate key", argv: (w) => ["--stack", "duplicate", "--cwd", path.join(w, "project")], code: "PROJECT_INVALID" },
    ];
    for (const { what, argv, code } of cases) {
      it(`${what}: exit 2, one [${code}] line, no stack trace`, async function () {
        const written = { stdout: "", stderr: "" };
        const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
        process.stdout.write = ((chunk: string | Uint8Array) => ((written.stdout += chunk.toString()), true)) as typeof process.stdout.write;
        process.stderr.write = ((chunk: string | Uint8Array) => ((written.stderr += chunk.toString()), true)) as typeof process.stderr.write;
        let exitCode: number;
        try {
          exitCode = await previewMain(["node", "preview.ts", ...argv(work)]);
        } finally {
          process.stdout.write = originals.stdout;
          process.stderr.write = originals.stderr;
        }

        assertOneCodedLine(exitCode, written.stderr, code);
        assert.equal(exitCode, 2);
      });
    }
  });

  describe("npm run bench (bench/index.ts option parsing)", function () {
    const cases: Array<{ what: string; argv: (work: string) => string[] }> = [
      { what: "--only naming no benchmark", argv: () => ["--only", "nope"] },
      { what: "an unknown option", argv: () => ["--quik"] },
      { what: "--json in a folder that does not exist", argv: (w) => ["--json", path.join(w, "missing", "out.json")] },
    ];
    for (const { what, argv } of cases) {
      it(`${what}: exit 2, one [USAGE_INVALID] line, no stack trace, nothing run`, async function () {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "..", "bench", "index.ts"), ...argv(work)], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));

        const exitCode = await new Promise<number | null>((resolve) => child.once("close", resolve));

        assertOneCodedLine(exitCode ?? -1, stderr, "USAGE_INVALID");
        assert.equal(exitCode, 2);
        assert.equal(stdout, "", "a benchmark ran");
      });
    }
  });
});
