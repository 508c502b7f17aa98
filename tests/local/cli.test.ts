import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { sampleTruncated, samplePhoto } from "../../local/sampleImages";
import { EXIT, main } from "../../local/cli";
import { exitCodeFor } from "../../local/report";
import type { JobRow } from "../../local/runtime";
import { Capture } from "../helpers/capture";

/** A stream that keeps what is written to it. */
function io(cwd: string, signal?: AbortSignal) {
  return { stdout: new Capture(), stderr: new Capture(), cwd, signal };
}

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

const STACK_FRAME = /^\s+at /m;

describe("the local CLI (npm start)", function () {
  this.timeout(120_000);
  let work: string;
  let images: string;

  before(async function () {
    work = await mkdtemp(path.join(tmpdir(), "image-pipeline-cli-"));
    images = path.join(work, "images");
    await mkdir(path.join(images, "nested"), { recursive: true });
    const photo = await samplePhoto({ width: 160, height: 120, seed: 41 });
    await writeFile(path.join(images, "photo.jpg"), photo);
    await writeFile(path.join(images, "nested", "corrupt.jpg"), sampleTruncated(await samplePhoto({ width: 400, height: 300, seed: 42 })));
    await writeFile(path.join(images, "notes.txt"), "not an image at all\n");
  });

  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  it("runs a folder (recursed, every file uploaded), prints the table, copies outputs and events, and exits 0 when only images were bad", async function () {
    const out = path.join(work, "out-aws");
    const streams = io(work);

    const code = await main([images, "--out", out, "--concurrency", "2", "--no-progress"], streams);

    assert.equal(code, EXIT.ok, streams.stderr.text);
    const table = streams.stdout.text;
    assert.match(table, /photo\.jpg\s+succeeded\s+\d+/);
    assert.match(table, /nested\/corrupt\.jpg\s+failed.*CORRUPT_IMAGE/);
    assert.match(table, /notes\.txt\s+failed.*(UNSUPPORTED_FORMAT|CORRUPT_IMAGE)/);
    assert.match(table, /3 images: 1 succeeded, 2 failed/);
    const manifest = JSON.parse(await readFile(path.join(out, "renditions", "photo.jpg", "manifest.json"), "utf8")) as { outputs: { key: string }[] };
    for (const output of manifest.outputs) assert.ok(existsSync(path.join(out, "renditions", ...output.key.split("/"))), `${output.key} was not copied`);
    const events = (await readFile(path.join(out, "events.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { type: string });
    assert.deepEqual(events.map((event) => event.type).sort(), ["image.failed", "image.failed", "image.processed"]);
    assert.match(table, /event image\.processed photo\.jpg/);
  });

  it("runs the same folder on the Azure flavour with the same outcome", async function () {
    const out = path.join(work, "out-azure");
    const streams = io(work);

    const code = await main([images, "--cloud", "azure", "--out", out, "--no-progress"], streams);

    assert.equal(code, EXIT.ok, streams.stderr.text);
    assert.match(streams.stdout.text, /3 images: 1 succeeded, 2 failed/);
    assert.ok(existsSync(path.join(out, "renditions", "photo.jpg", "manifest.json")));
  });

  it("says in one line that a path does not exist, and exits 2", async function () {
    const streams = io(work);

    const code = await main([path.join(work, "no-such-folder")], streams);

    assert.equal(code, EXIT.usage);
    assert.match(streams.stderr.text, /^\[INPUT_NOT_FOUND\] No such file or folder: ".*no-such-folder"/);
    assert.doesNotMatch(streams.stderr.text, STACK_FRAME);
  });

  for (const [cloud, flag] of [["aws", "--port-s3"], ["aws", "--port-dynamo"], ["azure", "--port-blob"]] as const) {
    it(`says which port is taken when ${flag} is in use (${cloud}), without a stack trace, and exits 3`, async function () {
      const { port, server } = await occupiedPort();
      const streams = io(work);
      try {
        const code = await main([images, "--cloud", cloud, flag, String(port), "--out", path.join(work, "unused"), "--no-progress"], streams);

        assert.equal(code, EXIT.environment);
        assert.match(streams.stderr.text, new RegExp(`^\\[EMULATOR_PORT_IN_USE\\] Port ${port} .*`));
        assert.equal(streams.stderr.text.trim().split("\n").length, 1, streams.stderr.text);
        assert.doesNotMatch(streams.stderr.text, STACK_FRAME);
      } finally {
        server.close();
      }
    });
  }

  it("rejects a bad option value with exit code 2", async function () {
    const streams = io(work);

    const code = await main(["--concurrency", "0"], streams);

    assert.equal(code, EXIT.usage);
    assert.match(streams.stderr.text, /--concurrency must be a whole number from 1 to 64/);
  });

  it("exits 1 when a job failed for a reason other than the image, or was lost", function () {
    const row = (status: JobRow["status"], errorCode?: string): JobRow => ({ key: "k", jobId: "j", status, renditions: 0, errorCode });

    assert.equal(exitCodeFor([row("succeeded"), row("failed", "CORRUPT_IMAGE"), row("failed", "TOO_MANY_PIXELS")]), 0);
    assert.equal(exitCodeFor([row("succeeded"), row("failed", "STORAGE_UNAVAILABLE")]), 1);
    assert.equal(exitCodeFor([row("failed", "INTERNAL")]), 1);
    assert.equal(exitCodeFor([row("failed", "NOT_FOUND")]), 1);
    assert.equal(exitCodeFor([row("lost", "LOST")]), 1);
  });

  it("in --watch mode, processes a file dropped into the inbox, then stops cleanly on Ctrl-C", async function () {
    const inbox = path.join(work, "inbox");
    const out = path.join(work, "out-watch");
    const controller = new AbortController();
    const streams = io(work, controller.signal);
    const running = main(["--watch", "--inbox", inbox, "--out", out], streams);
    await waitFor(() => /watching inbox/.test(streams.stdout.text), 30_000);

    await writeFile(path.join(inbox, "dropped.jpg"), await samplePhoto({ width: 96, height: 64, seed: 43 }));
    await waitFor(() => /dropped\.jpg\s+succeeded/.test(streams.stdout.text), 30_000);
    controller.abort();
    const code = await running;

    assert.equal(code, EXIT.ok, streams.stderr.text);
    assert.match(streams.stdout.text, /stopped: 1 image: 1 succeeded/);
    assert.ok(existsSync(path.join(out, "renditions", "dropped.jpg", "manifest.json")));
    assert.ok((await readdir(inbox)).includes("dropped.jpg"), "the inbox file was removed");
  });

  it("in --watch mode, erases a file removed from the inbox and says so", async function () {
    const inbox = path.join(work, "inbox-erase");
    const out = path.join(work, "out-watch-erase");
    const controller = new AbortController();
    const streams = io(work, controller.signal);
    const running = main(["--watch", "--inbox", inbox, "--out", out], streams);
    await waitFor(() => /watching inbox-erase/.test(streams.stdout.text), 30_000);

    await writeFile(path.join(inbox, "short-lived.jpg"), await samplePhoto({ width: 96, height: 64, seed: 44 }));
    await waitFor(() => /short-lived\.jpg\s+succeeded/.test(streams.stdout.text), 30_000);
    await rm(path.join(inbox, "short-lived.jpg"));
    await waitFor(() => /short-lived\.jpg\s+erased/.test(streams.stdout.text), 30_000);
    controller.abort();
    const code = await running;

    assert.equal(code, EXIT.ok, streams.stderr.text);
    assert.match(streams.stdout.text, /short-lived\.jpg {2}erased \(\d+ renditions, 0 work objects, 1 job records\)/);
    assert.match(streams.stdout.text, /event image\.deleted short-lived\.jpg/);
    assert.equal(existsSync(path.join(out, "renditions", "short-lived.jpg")), false);
  });

  it("runs as `npx tsx local/cli.ts` and exits 2 for a missing path", async function () {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "..", "local", "cli.ts"), "/no/such/path"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));

    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));

    assert.equal(code, EXIT.usage, stderr);
    assert.match(stderr, /\[INPUT_NOT_FOUND\] No such file or folder: "\/no\/such\/path"/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
