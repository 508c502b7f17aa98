import assert from "node:assert/strict";
import sharp from "sharp";
import { PipelineError } from "../../../functions/core/errors";
import { processingOptionsSchema } from "../../../functions/core/options";
import { loadWatermark } from "../../../functions/steps/watermark";
import { memoryPorts } from "../../../local/memoryPorts";

const markPng = (colour: string) => sharp({ create: { width: 20, height: 10, channels: 4, background: colour } }).png().toBuffer();

describe("the watermark's source", () => {
  it("is read from the uploads store once per warm container, then served from memory", async () => {
    const ports = memoryPorts();
    await ports.objects.put("uploads", "brand/cached-mark.png", await markPng("#ff0000"), "image/png");
    const options = processingOptionsSchema.parse({ watermark: { source: "uploads:brand/cached-mark.png", opacity: 1 } });
    let reads = 0;
    const get = ports.objects.get.bind(ports.objects);
    ports.objects.get = (...args: Parameters<typeof get>) => {
      reads += 1;
      return get(...args);
    };

    const first = await loadWatermark(ports, options);
    const second = await loadWatermark(ports, options);

    assert.equal(reads, 1);
    assert.equal(second, first);
    assert.deepEqual([first?.width, first?.height, [...first!.data.subarray(0, 4)]], [20, 10, [255, 0, 0, 255]]);
  });

  it("is nothing when no watermark is configured", async () => {
    assert.equal(await loadWatermark(memoryPorts(), processingOptionsSchema.parse({})), undefined);
  });

  it("fails with CONFIG_INVALID naming the source when the uploads object is missing, and is tried again by the next job", async () => {
    const ports = memoryPorts();
    const options = processingOptionsSchema.parse({ watermark: { source: "uploads:brand/later-mark.png" } });

    await assert.rejects(loadWatermark(ports, options), (error: unknown) => error instanceof PipelineError && error.code === "CONFIG_INVALID" && error.message.includes("uploads:brand/later-mark.png"));
    await ports.objects.put("uploads", "brand/later-mark.png", await markPng("#00ff00"), "image/png");
    assert.equal((await loadWatermark(ports, options))?.width, 20);
  });

  it("reads a file: source from the repo in a local run", async () => {
    const options = processingOptionsSchema.parse({ watermark: { source: "file:tests/fixtures/watermark/mark.png" } });

    const prepared = await loadWatermark(memoryPorts(), options);

    assert.deepEqual([prepared?.width, prepared?.height], [64, 32]);
  });

  it("fails with CONFIG_INVALID when a file: source is neither bundled nor in the repo", async () => {
    const options = processingOptionsSchema.parse({ watermark: { source: "file:brand/no-such-mark.png" } });

    await assert.rejects(loadWatermark(memoryPorts(), options), (error: unknown) => error instanceof PipelineError && error.code === "CONFIG_INVALID");
  });
});
