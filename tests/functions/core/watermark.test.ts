import assert from "node:assert/strict";
import sharp from "sharp";
import { markPlacement, prepareWatermark, processImage, processingOptionsSchema, watermarkPixels, type Pixels, type WatermarkOptions } from "../../../functions/core";
import { optionsWith, pixelAt, rejectsWith } from "./helpers";

/** A black image as the core's pixels. */
async function black(width: number, height: number): Promise<Pixels> {
  const { data, info } = await sharp({ create: { width, height, channels: 3, background: "#000000" } }).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

/** A solid white 100x50 mark. */
const whiteMark = () => sharp({ create: { width: 100, height: 50, channels: 4, background: "#ffffff" } }).png().toBuffer();

const mark = (overrides: Partial<WatermarkOptions> = {}): WatermarkOptions => processingOptionsSchema.parse({ watermark: { source: "uploads:brand/mark.png", ...overrides } }).watermark!;

/** The red value of pixel (x, y) of raw pixels. */
const red = (pixels: Pixels, x: number, y: number) => pixels.data[(y * pixels.width + x) * pixels.channels];

describe("watermark", () => {
  it("sits at the configured corner, scaled to the image's width, with the configured margin and opacity", async () => {
    const prepared = await prepareWatermark(await whiteMark(), mark({ position: "southeast", opacity: 0.5, margin: 16, scale: 0.25, minWidth: 0 }));

    const marked = await watermarkPixels(await black(800, 600), prepared);

    // 0.25 x 800 = 200 px wide, 100 high; 16 px from the right and bottom edges: x 584..783, y 484..583.
    const inside = [red(marked, 584, 484), red(marked, 700, 550), red(marked, 783, 583)];
    for (const value of inside) assert.ok(value >= 125 && value <= 130, `half-opaque white on black is about 128, got ${value}`);
    assert.equal(red(marked, 583, 550), 0, "left of the mark");
    assert.equal(red(marked, 700, 483), 0, "above the mark");
    assert.equal(red(marked, 784, 550), 0, "in the right margin");
    assert.equal(red(marked, 700, 584), 0, "in the bottom margin");
    assert.equal(red(marked, 100, 100), 0, "far from the mark");
    assert.equal(marked.channels, 3, "an opaque image stays without alpha");
  });

  it("leaves the pixels it was given untouched (the cascade goes on from them)", async () => {
    const original = await black(800, 600);

    await watermarkPixels(original, await prepareWatermark(await whiteMark(), mark({ opacity: 1, minWidth: 0 })));

    assert.equal(original.data.findIndex((value) => value !== 0), -1, "still all black");
  });

  it("marks a grey image, which becomes RGB", async () => {
    const { data, info } = await sharp({ create: { width: 400, height: 400, channels: 3, background: "#000000" } }).toColourspace("b-w").raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 1);

    const marked = await watermarkPixels({ data, width: 400, height: 400, channels: 1 }, await prepareWatermark(await whiteMark(), mark({ position: "northwest", opacity: 1, margin: 0, scale: 0.5, minWidth: 0 })));

    assert.equal(marked.channels, 3);
    assert.deepEqual([red(marked, 50, 50), red(marked, 300, 300)], [255, 0]);
  });

  it("keeps the alpha band of an image that has one", async () => {
    const { data, info } = await sharp({ create: { width: 400, height: 400, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).raw().toBuffer({ resolveWithObject: true });

    const marked = await watermarkPixels({ data, width: info.width, height: info.height, channels: 4 }, await prepareWatermark(await whiteMark(), mark({ position: "northwest", opacity: 1, margin: 0, scale: 0.5, minWidth: 0 })));

    assert.equal(marked.channels, 4);
    assert.deepEqual([...marked.data.subarray((50 * 400 + 50) * 4, (50 * 400 + 50) * 4 + 4)], [255, 255, 255, 255], "the mark is opaque on the transparent image");
    assert.equal(marked.data[(300 * 400 + 300) * 4 + 3], 0, "the rest stays transparent");
  });

  it("goes to the north-west corner and the centre when asked", async () => {
    const northwest = await watermarkPixels(await black(400, 400), await prepareWatermark(await whiteMark(), mark({ position: "northwest", opacity: 1, margin: 10, scale: 0.5, minWidth: 0 })));
    assert.deepEqual([red(northwest, 10, 10), red(northwest, 209, 109), red(northwest, 9, 10), red(northwest, 210, 60)], [255, 255, 0, 0]);

    const centre = await watermarkPixels(await black(400, 400), await prepareWatermark(await whiteMark(), mark({ position: "centre", opacity: 1, margin: 10, scale: 0.5, minWidth: 0 })));
    // 200x100 centred: x 100..299, y 150..249.
    assert.deepEqual([red(centre, 100, 150), red(centre, 299, 249), red(centre, 99, 200), red(centre, 200, 250)], [255, 255, 0, 0]);
  });

  it("keeps the mark's own transparency and multiplies it by the opacity", async () => {
    const halfTransparent = await sharp({ create: { width: 100, height: 50, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0.5 } } }).png().toBuffer();

    const marked = await watermarkPixels(await black(400, 400), await prepareWatermark(halfTransparent, mark({ position: "northwest", opacity: 0.5, margin: 0, scale: 0.5, minWidth: 0 })));

    assert.ok(red(marked, 50, 50) >= 60 && red(marked, 50, 50) <= 68, `0.5 x 0.5 of white is about 64, got ${red(marked, 50, 50)}`);
  });

  it("is left out below minWidth", async () => {
    const prepared = await prepareWatermark(await whiteMark(), mark({ opacity: 1, minWidth: 640 }));

    assert.equal(await markPlacement(prepared, 639, 400), undefined);
    const unmarked = await black(639, 400);
    assert.equal(await watermarkPixels(unmarked, prepared), unmarked);
    assert.notEqual(await markPlacement(prepared, 640, 400), undefined);
  });

  it("shrinks to fit an image whose margins leave less room than the scale asks", async () => {
    const prepared = await prepareWatermark(await whiteMark(), mark({ position: "northwest", scale: 1, margin: 20, minWidth: 0 }));

    const placed = await markPlacement(prepared, 200, 60);

    assert.deepEqual([placed?.width, placed?.height, placed?.left, placed?.top], [40, 20, 20, 20]);
  });

  it("refuses a watermark that is not an image, with CONFIG_INVALID", async () => {
    await rejectsWith(prepareWatermark(Buffer.from("not an image at all"), mark()), "CONFIG_INVALID");
  });

  it("validates its config: gravity names, opacity 0-1, a source in the uploads store or the repo", () => {
    const parse = (watermark: unknown) => processingOptionsSchema.safeParse({ watermark }).success;
    assert.deepEqual(mark(), { source: "uploads:brand/mark.png", position: "southeast", opacity: 0.5, margin: 16, scale: 0.2, minWidth: 640 });
    assert.equal(parse({ source: "file:brand/logo.png", position: "northwest" }), true);
    assert.equal(parse({ source: "file:../secrets/logo.png" }), false);
    assert.equal(parse({ source: "file:/etc/logo.png" }), false);
    assert.equal(parse({ source: "file:brand/logo.txt" }), false);
    assert.equal(parse({ source: "https://example.com/logo.png" }), false);
    assert.equal(parse({ source: "uploads:" }), false);
    assert.equal(parse({ source: "uploads:m.png", position: "bottom-right" }), false);
    assert.equal(parse({ source: "uploads:m.png", opacity: 1.5 }), false);
    assert.equal(parse({ source: "uploads:m.png", scale: 0 }), false);
    assert.equal(parse({ source: "uploads:m.png", colour: "red" }), false);
    assert.equal(processingOptionsSchema.parse({}).watermark, undefined);
  });
});

describe("watermark in processImage", () => {
  it("marks renditions and effects at least minWidth wide, never the thumbnail, the placeholder or the previews", async () => {
    const upload = await sharp({ create: { width: 1200, height: 800, channels: 3, background: "#000000" } }).jpeg().toBuffer();
    const options = optionsWith({
      renditions: ["thumb:320", "large:1000"],
      formats: ["jpeg"],
      filters: ["placeholder", "grayscale"],
      filterWidth: 800,
      placeholders: ["color"],
      watermark: { source: "uploads:brand/mark.png", position: "southeast", opacity: 1, margin: 0, scale: 0.5, minWidth: 640 },
    });
    const prepared = await prepareWatermark(await whiteMark(), options.watermark!);

    const { outputs, placeholder, previews } = await processImage(upload, options, undefined, prepared);

    const [thumb, large, grayscale] = outputs;
    assert.deepEqual([thumb.name, large.name, grayscale.name], ["thumb", "large", "grayscale"]);
    assert.ok((await pixelAt(large.data, 990, 660))[0] > 240, "large (1000 px) has the mark in its south-east corner");
    assert.ok((await pixelAt(large.data, 10, 10))[0] < 15, "and is black elsewhere");
    assert.ok((await pixelAt(grayscale.data, 790, 525))[0] > 240, "the grayscale effect (800 px) is marked");
    assert.ok((await pixelAt(thumb.data, 315, 210))[0] < 15, "thumb (320 px, under minWidth) is not");
    const placeholderImage = Buffer.from(placeholder!.dataUri.split(",")[1], "base64");
    const { data } = await sharp(placeholderImage).raw().toBuffer({ resolveWithObject: true });
    assert.ok(Math.max(...data) < 15, "the placeholder is unmarked black");
    assert.equal(previews?.color, "#080808", "the previews come from unmarked pixels");
  });
});
