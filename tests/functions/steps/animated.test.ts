import assert from "node:assert/strict";
import sharp from "sharp";
import { processingOptionsSchema, type ProcessingOptions } from "../../../functions/core/options";
import { runStep, type StepOutputs, type Manifest, type OptimizeResult, type ValidatedJob } from "../../../functions/steps";
import { memoryPorts } from "../../../local/memoryPorts";
import { sampleAnimated } from "../../../local/sampleImages";

async function runSteps(body: Buffer, options: ProcessingOptions, sourceKey = "clips/wave.gif", metadata?: Record<string, string>) {
  const ports = memoryPorts();
  await ports.objects.put("uploads", sourceKey, body, "image/gif");
  if (metadata) ports.objects.setMetadata("uploads", sourceKey, metadata);
  const { etag, versionId } = await ports.objects.head("uploads", sourceKey);
  const validated = (await runStep("validate", { sourceKey, sourceEtag: etag, sourceVersion: versionId, runId: "run-1" }, ports, options)) as ValidatedJob;
  const processed = [(await runStep("resize", validated, ports, options)) as StepOutputs, (await runStep("applyFilters", validated, ports, options)) as StepOutputs];
  const optimized = (await runStep("optimize", { ...validated, processed }, ports, options)) as OptimizeResult;
  const manifest = JSON.parse((await ports.objects.get("renditions", optimized.manifestKey)).toString()) as Manifest;
  return { ports, processed, manifest };
}

describe("the workflow steps with animated: keep", () => {
  it("write animated WebP and GIF renditions from Resize, list them with their frames in the manifest, and keep effects and the placeholder still", async () => {
    // The still effect's sizes below hold with mozjpeg's scan search on (its JPEG a little smaller than the PNG).
    const options = processingOptionsSchema.parse({ animated: "keep", renditions: ["thumb:120", "card:80x80:cover"], formats: ["avif", "webp", "jpeg"], filters: ["placeholder", "grayscale"], markup: true, optimize: { jpegScanSearch: true } });

    const { ports, processed, manifest } = await runSteps(await sampleAnimated("gif", 3, 240, 160), options);

    assert.deepEqual(
      processed[0].outputs.map(({ name, format, slot, chosen }) => [name, format, slot, chosen]),
      [
        ["thumb", "webp", "webp", "smallest"],
        ["thumb", "gif", "jpeg", "fallback"],
        ["card", "webp", "webp", "smallest"],
        ["card", "gif", "jpeg", "fallback"],
      ],
      "Resize wrote the animated renditions itself, the GIF in JPEG's slot, each WebP smaller than its GIF (#14.7)",
    );
    assert.equal(manifest.source.animated, true);
    assert.deepEqual(
      manifest.outputs.map(({ key, format, width, height, frames, animated }) => [key, format, width, height, frames, animated]),
      [
        ["clips/wave.gif/thumb.webp", "webp", 120, 80, 3, true],
        ["clips/wave.gif/thumb.gif", "gif", 120, 80, 3, true],
        ["clips/wave.gif/card.webp", "webp", 80, 80, 3, true],
        ["clips/wave.gif/card.gif", "gif", 80, 80, 3, true],
        ["clips/wave.gif/effect-grayscale.webp", "webp", 240, 160, undefined, undefined],
        ["clips/wave.gif/effect-grayscale.jpg", "jpeg", 240, 160, undefined, undefined],
      ],
    );
    assert.deepEqual(
      manifest.skipped.filter((file) => file.slot === "avif").map(({ name, reason }) => [name, reason]),
      [["grayscale", "larger-than-jpeg"]],
      "the still effect's AVIF is decided like any other (#14.7); the animation has none",
    );
    for (const entry of manifest.outputs) assert.equal((await ports.objects.get("renditions", entry.key)).length, entry.bytes, entry.key);
    assert.equal((await sharp(await ports.objects.get("renditions", "clips/wave.gif/thumb.gif")).metadata()).pages, 3);
    assert.deepEqual(manifest.outputs.find((entry) => entry.name === "card")?.crop, { left: 40, top: 0, width: 160, height: 160, position: "centre" });
    assert.ok(manifest.placeholder?.dataUri.startsWith("data:image/webp"), "the placeholder is a still of the first frame");
    const original = manifest.responsive?.[0];
    assert.deepEqual(original?.srcset, { webp: "thumb.webp 120w", jpeg: "thumb.gif 120w" });
    assert.equal(
      original?.picture,
      '<picture><source type="image/webp" srcset="thumb.webp 120w" sizes="100vw"><img src="thumb.gif" srcset="thumb.gif 120w" sizes="100vw" width="120" height="80" alt="" loading="lazy" decoding="async" style="background:url(' +
        manifest.placeholder?.dataUri +
        ') center/cover no-repeat"></picture>',
    );
  });

  it("crop an animation at the upload's focal metadata, as a still's crop", async () => {
    const options = processingOptionsSchema.parse({ animated: "keep", renditions: ["card:80x80:cover:focal"], formats: ["webp"], filters: [] });

    const { manifest } = await runSteps(await sampleAnimated("gif", 3, 240, 160), options, "clips/wave.gif", { focal: "0.95,0.5" });

    assert.deepEqual(manifest.outputs.map(({ name, frames, crop }) => [name, frames, crop]), [["card", 3, { left: 80, top: 0, width: 160, height: 160, position: "focal" }]]);
  });

  it("put the animated WebP in AVIF's slot when AVIF is the only format, so the markup still has its <img>", async () => {
    const options = processingOptionsSchema.parse({ animated: "keep", renditions: ["thumb:60"], formats: ["avif"], filters: [], markup: true });

    const { manifest } = await runSteps(await sampleAnimated("gif", 3, 120, 80), options);

    assert.deepEqual(manifest.outputs.map(({ key, format, slot, frames }) => [key, format, slot, frames]), [["clips/wave.gif/thumb.webp", "webp", "avif", 3]]);
    assert.deepEqual(manifest.responsive?.[0].srcset, { avif: "thumb.webp 60w" });
    assert.match(manifest.responsive?.[0].picture ?? "", /^<picture><img src="thumb\.webp" srcset="thumb\.webp 60w" sizes="100vw" width="60" height="40" /);
  });

  it("render the first frame as before with the default first-frame", async () => {
    const options = processingOptionsSchema.parse({ renditions: ["thumb:60"], formats: ["webp"], filters: [] });

    const { ports, manifest } = await runSteps(await sampleAnimated("gif", 3, 120, 80), options);

    assert.deepEqual(manifest.outputs.map(({ key, frames }) => [key, frames]), [["clips/wave.gif/thumb.webp", undefined]]);
    assert.equal((await sharp(await ports.objects.get("renditions", "clips/wave.gif/thumb.webp")).metadata()).pages, undefined, "a still WebP");
  });
});
