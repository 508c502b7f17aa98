import assert from "node:assert/strict";
import sharp from "sharp";
import { processingOptionsSchema, type ProcessingOptions } from "../../../functions/core/options";
import { runStep, type Manifest, type StepOutputs, type OptimizeResult, type ValidatedJob } from "../../../functions/steps";
import { pruneStaleOutputs, removeSkippedOutputs } from "../../../functions/steps/prune";
import { memoryPorts } from "../../../local/memoryPorts";

const png = (text: string) => Buffer.from(text);

describe("pruneStaleOutputs", () => {
  it("deletes the upload's outputs the manifest does not name, and nothing else", async () => {
    const ports = memoryPorts();
    for (const key of ["photos/cat.jpg/thumb.webp", "photos/cat.jpg/large.webp", "photos/cat.jpg/manifest.json", "photos/cat.jpg/x.png/thumb.webp", "photos/cat.jpgx/large.webp"]) {
      await ports.objects.put("renditions", key, png(key), "image/webp");
    }

    const deleted = await pruneStaleOutputs("photos/cat.jpg", ["photos/cat.jpg/thumb.webp"], ports.objects);

    assert.deepEqual(deleted, ["photos/cat.jpg/large.webp"]);
    const left = (await ports.objects.list("renditions", "photos/")).items.map((item) => item.key);
    assert.deepEqual(left, ["photos/cat.jpg/manifest.json", "photos/cat.jpg/thumb.webp", "photos/cat.jpg/x.png/thumb.webp", "photos/cat.jpgx/large.webp"]);
  });

  it("reads every page of a long listing", async () => {
    const ports = memoryPorts();
    for (let i = 0; i < 1005; i++) await ports.objects.put("renditions", `a.jpg/old-${String(i).padStart(4, "0")}.webp`, png("x"), "image/webp");

    const deleted = await pruneStaleOutputs("a.jpg", [], ports.objects);

    assert.equal(deleted.length, 1005);
    assert.deepEqual((await ports.objects.list("renditions", "a.jpg/")).items, []);
  });
});

describe("removeSkippedOutputs", () => {
  it("deletes what an older run left at the keys of files this run skipped, never a key an output has", async () => {
    const ports = memoryPorts();
    for (const key of ["cat.jpg/thumb.webp", "cat.jpg/medium.webp", "cat.jpg/medium.jpg"]) await ports.objects.put("renditions", key, png(key), "image/webp");
    const entry = { kind: "rendition" as const, slot: "webp" as const, bytes: 9 };
    const manifest = {
      sourceKey: "cat.jpg",
      outputs: [{ key: "cat.jpg/thumb.webp", name: "thumb", kind: "rendition" as const, format: "webp" as const, slot: "webp" as const, chosen: "lossless-smaller" as const, width: 80, height: 60, bytes: 9, savedBytes: 0, contentType: "image/webp" }],
      skipped: [
        { ...entry, name: "thumb", format: "webp" as const, reason: "larger-than-lossless" as const, servedBy: "cat.jpg/thumb.webp" },
        { ...entry, name: "medium", format: "webp" as const, reason: "same-as-smaller-rendition" as const, servedBy: "cat.jpg/thumb.webp" },
      ],
    };

    const deleted = await removeSkippedOutputs(manifest, ports.objects);

    assert.deepEqual(deleted, ["cat.jpg/medium.webp"]);
    assert.deepEqual((await ports.objects.list("renditions", "cat.jpg/")).items.map((item) => item.key), ["cat.jpg/medium.jpg", "cat.jpg/thumb.webp"]);
  });
});

describe("a reprocess after a renditions change", () => {
  async function run(ports: ReturnType<typeof memoryPorts>, options: ProcessingOptions, generation?: string) {
    const { etag, versionId } = await ports.objects.head("uploads", "cat.jpg");
    const validated = (await runStep("validate", { sourceKey: "cat.jpg", sourceEtag: etag, sourceVersion: versionId, ...(generation ? { generation } : {}), runId: `run-${generation}` }, ports, options)) as ValidatedJob;
    const processed = [(await runStep("resize", validated, ports, options)) as StepOutputs, (await runStep("applyFilters", validated, ports, options)) as StepOutputs];
    const optimized = (await runStep("optimize", { ...validated, processed }, ports, options)) as OptimizeResult;
    await runStep("notifySuccess", { ...validated, processed, optimized }, ports, options);
    return (await ports.objects.list("renditions", "cat.jpg/")).items.map((item) => item.key);
  }

  it("writes the new renditions and removes the ones no longer configured; a plain upload run removes nothing", async () => {
    const ports = memoryPorts();
    const photo = await sharp({ create: { width: 900, height: 600, channels: 3, background: "navy" } }).jpeg().toBuffer();
    await ports.objects.put("uploads", "cat.jpg", photo, "image/jpeg");
    const before = processingOptionsSchema.parse({ renditions: ["thumb:100", "large:800"], filters: [], formats: ["webp"] });
    const after = processingOptionsSchema.parse({ renditions: ["thumb:100", "medium:400"], filters: [], formats: ["webp"] });

    assert.deepEqual(await run(ports, before), ["cat.jpg/large.webp", "cat.jpg/manifest.json", "cat.jpg/thumb.webp"]);
    // The same file uploaded again (a new version) under the new config: an upload run prunes nothing.
    await ports.objects.put("uploads", "cat.jpg", photo, "image/jpeg");
    assert.deepEqual(await run(ports, after), ["cat.jpg/large.webp", "cat.jpg/manifest.json", "cat.jpg/medium.webp", "cat.jpg/thumb.webp"]);
    assert.deepEqual(await run(ports, after, "reprocess-1"), ["cat.jpg/manifest.json", "cat.jpg/medium.webp", "cat.jpg/thumb.webp"]);
  });

  it("leaves no older picture at a rendition's key once the rendition is served by a smaller one's file, and a reprocess keeps that file", async () => {
    const ports = memoryPorts();
    const options = processingOptionsSchema.parse({ renditions: ["thumb:100", "medium:400"], filters: [], formats: ["webp"] });
    await ports.objects.put("uploads", "cat.jpg", await sharp({ create: { width: 900, height: 600, channels: 3, background: "navy" } }).jpeg().toBuffer(), "image/jpeg");
    assert.deepEqual(await run(ports, options), ["cat.jpg/manifest.json", "cat.jpg/medium.webp", "cat.jpg/thumb.webp"]);

    // A narrower picture under the same key: medium comes out as thumb's twin.
    await ports.objects.put("uploads", "cat.jpg", await sharp({ create: { width: 90, height: 60, channels: 3, background: "teal" } }).jpeg().toBuffer(), "image/jpeg");

    assert.deepEqual(await run(ports, options), ["cat.jpg/manifest.json", "cat.jpg/thumb.webp"]);
    assert.deepEqual(await run(ports, options, "reprocess-1"), ["cat.jpg/manifest.json", "cat.jpg/thumb.webp"]);
    const manifest = JSON.parse((await ports.objects.get("renditions", "cat.jpg/manifest.json")).toString()) as Manifest;
    assert.deepEqual(manifest.skipped.filter((entry) => entry.name === "medium").map(({ reason, servedBy }) => `${reason} → ${servedBy}`), [
      // A flat colour is a graphic: medium's lossy WebP lost to its lossless one, which thumb's file now serves.
      "larger-than-lossless → cat.jpg/thumb.webp",
      "same-as-smaller-rendition → cat.jpg/thumb.webp",
    ]);
  });
});
