import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineEvent } from "../../functions/ports";
import { JsonLinesNotifier, readEvents } from "../../local/notifier";

function event(jobId: string, type: PipelineEvent["type"] = "image.processed"): PipelineEvent {
  return { type, jobId, sourceKey: `photos/${jobId}.jpg`, time: "2026-01-01T00:00:00.000Z" };
}

describe("JsonLinesNotifier", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "image-pipeline-notifier-test-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("appends each event as one JSON line, creating missing folders", async () => {
    const file = join(dir, "runs", "today", "events.jsonl");
    const notifier = new JsonLinesNotifier({ file });

    await notifier.publish(event("j1"));
    await notifier.publish(event("j2", "image.failed"));

    const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
    assert.equal(lines.length, 2);
    assert.deepEqual(JSON.parse(lines[1]), event("j2", "image.failed"));
  });

  it("keeps publish order when events are published concurrently", async () => {
    const file = join(dir, "events.jsonl");
    const notifier = new JsonLinesNotifier({ file });
    const ids = Array.from({ length: 20 }, (_, index) => `job-${index}`);

    await Promise.all(ids.map((id) => notifier.publish(event(id))));

    assert.deepEqual((await readEvents(file)).map((published) => published.jobId), ids);
  });

  it("prints each event when asked to", async () => {
    const printed: string[] = [];
    const notifier = new JsonLinesNotifier({ file: join(dir, "events.jsonl"), print: true, log: (line) => printed.push(line) });

    await notifier.publish(event("j1"));

    assert.deepEqual(printed.map((line) => JSON.parse(line)), [event("j1")]);
  });

  it("prints nothing by default", async () => {
    const printed: string[] = [];
    const notifier = new JsonLinesNotifier({ file: join(dir, "events.jsonl"), log: (line) => printed.push(line) });

    await notifier.publish(event("j1"));

    assert.deepEqual(printed, []);
  });

  it("reads no events from a file that does not exist yet", async () => {
    assert.deepEqual(await readEvents(join(dir, "none.jsonl")), []);
  });

  it("rejects a publish it could not write, and still writes the next one", async () => {
    const blocker = join(dir, "blocker");
    const notifier = new JsonLinesNotifier({ file: join(blocker, "events.jsonl") });
    await writeFile(blocker, "a file where a folder should be");

    await assert.rejects(notifier.publish(event("j1")), { code: "EEXIST" });
    await rm(blocker);
    await notifier.publish(event("j2"));

    assert.deepEqual((await readEvents(join(blocker, "events.jsonl"))).map((published) => published.jobId), ["j2"]);
  });
});
