import assert from "node:assert/strict";
import sharp from "sharp";
import { animatedFormats, encodeAnimatedRenditions, prepareWatermark, processImage, processingOptionsSchema, renderAnimatedRenditions, validateImage } from "../../../functions/core";
import { sampleAnimated } from "../../../local/sampleImages";
import { assertColourNear, optionsWith, rejectsWith } from "./helpers";

/** RGB(A) of pixel (x, y) of one frame of an animated output. */
async function framePixel(image: Buffer, page: number, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image, { page }).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + info.channels)];
}

/** Red, green, blue frames with the given delays (ms). */
async function animatedGif(delay: number[], width: number, height: number): Promise<Buffer> {
  const colours = ["#ff0000", "#00ff00", "#0000ff"];
  const frames = await Promise.all(delay.map((_, i) => sharp({ create: { width, height, channels: 3, background: colours[i % 3] } }).png().toBuffer()));
  return sharp(frames, { join: { animated: true } }).gif({ delay, loop: 0 }).toBuffer();
}

/** 200 x 100 frames of plain grey (one level per frame) with a black-and-white checkerboard in the right 60 px. */
async function framesWithDetailOnTheRight(greys: number[]): Promise<Buffer> {
  const [width, height] = [200, 100];
  const frames = await Promise.all(
    greys.map((grey) => {
      const raw = Buffer.alloc(width * height * 3, grey);
      for (let y = 0; y < height; y++) {
        for (let x = 140; x < width; x++) raw.fill((Math.floor(x / 4) + Math.floor(y / 4)) % 2 ? 255 : 0, (y * width + x) * 3, (y * width + x) * 3 + 3);
      }
      return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
    }),
  );
  return sharp(frames, { join: { animated: true } }).gif({ delay: greys.map(() => 100), loop: 0 }).toBuffer();
}

const keep = (overrides: Parameters<typeof optionsWith>[0] = {}) => optionsWith({ animated: "keep", ...overrides });

describe("animated: keep", () => {
  it("renders each rendition as an animated WebP and, in JPEG's place, an animated GIF with every frame in order", async () => {
    const gif = await animatedGif([100, 200, 300], 120, 80);

    const outputs = await renderAnimatedRenditions(gif, keep({ renditions: ["thumb:60", "large:400"] }));

    assert.deepEqual(
      outputs.map(({ name, format, width, height, frames, extension, contentType }) => [name, format, width, height, frames, extension, contentType]),
      [
        ["thumb", "webp", 60, 40, 3, "webp", "image/webp"],
        ["thumb", "gif", 60, 40, 3, "gif", "image/gif"],
        ["large", "webp", 120, 80, 3, "webp", "image/webp"],
        ["large", "gif", 120, 80, 3, "gif", "image/gif"],
      ],
    );
    for (const output of outputs) {
      const metadata = await sharp(output.data).metadata();
      assert.equal(metadata.format, output.format);
      assert.equal(metadata.pages, 3, `${output.name}.${output.extension} keeps 3 frames`);
      assert.deepEqual(metadata.delay, [100, 200, 300], "frame delays are kept");
      assertColourNear(await framePixel(output.data, 0, 10, 10), { r: 255, g: 0, b: 0 }, 12, `${output.name}.${output.extension} frame 0`);
      assertColourNear(await framePixel(output.data, 1, 10, 10), { r: 0, g: 255, b: 0 }, 12, `${output.name}.${output.extension} frame 1`);
      assertColourNear(await framePixel(output.data, 2, 10, 10), { r: 0, g: 0, b: 255 }, 12, `${output.name}.${output.extension} frame 2`);
    }
  });

  it("keeps an animated WebP upload animated too", async () => {
    const webp = await sampleAnimated("webp", 2, 100, 100);

    const outputs = await renderAnimatedRenditions(webp, keep({ renditions: ["thumb:50"], formats: ["webp"] }));

    assert.deepEqual(outputs.map(({ format, width, height, frames }) => [format, width, height, frames]), [["webp", 50, 50, 2]]);
    assertColourNear(await framePixel(outputs[0].data, 1, 25, 25), { r: 0, g: 255, b: 0 }, 12, "frame 1");
  });

  it("leaves AVIF out (sharp writes no AVIF sequences), and writes WebP when AVIF is the only format", () => {
    assert.deepEqual(animatedFormats(["avif", "webp", "jpeg"]), ["webp", "gif"]);
    assert.deepEqual(animatedFormats(["jpeg"]), ["gif"]);
    assert.deepEqual(animatedFormats(["avif"]), ["webp"]);
  });

  it("crops cover renditions at the centre of every frame by default and reports the box in source pixels", async () => {
    const gif = await sampleAnimated("gif", 2, 200, 100);

    const [card] = await renderAnimatedRenditions(gif, keep({ renditions: ["card:50x50:cover"], formats: ["webp"] }));

    assert.deepEqual([card.width, card.height, card.frames], [50, 50, 2]);
    assert.deepEqual(card.crop, { left: 50, top: 0, width: 100, height: 100, position: "centre" });
  });

  for (const position of ["attention", "entropy"] as const) {
    it(`crops by ${position} where the first frame's detail is, cutting every frame at that window`, async () => {
      const gif = await framesWithDetailOnTheRight([120, 160]);

      const [card] = await renderAnimatedRenditions(gif, keep({ renditions: [`card:50x50:cover:${position}`], formats: ["webp"] }));

      assert.deepEqual([card.width, card.height, card.frames], [50, 50, 2]);
      assert.deepEqual(card.crop, { left: 100, top: 0, width: 100, height: 100, position });
      // The window's left edge is plain background, which differs by frame: each frame is cut, in order.
      assertColourNear(await framePixel(card.data, 0, 1, 2), { r: 120, g: 120, b: 120 }, 12, "frame 0");
      assertColourNear(await framePixel(card.data, 1, 1, 2), { r: 160, g: 160, b: 160 }, 12, "frame 1");
    });
  }

  it("crops at the upload's focal point, and by attention when the upload has none", async () => {
    const gif = await framesWithDetailOnTheRight([120, 160]);
    const options = keep({ renditions: ["card:50x50:cover:focal"], formats: ["webp"] });

    const [onFocal] = await renderAnimatedRenditions(gif, options, undefined, { x: 0.05, y: 0.5 });
    const [without] = await renderAnimatedRenditions(gif, options);

    assert.deepEqual(onFocal.crop, { left: 0, top: 0, width: 100, height: 100, position: "focal" });
    assert.deepEqual(without.crop, { left: 100, top: 0, width: 100, height: 100, position: "attention" });
  });

  it("pads contain renditions to the box on every frame, transparently", async () => {
    const gif = await sampleAnimated("gif", 2, 200, 100);

    const [box] = await renderAnimatedRenditions(gif, keep({ renditions: ["box:80x80:contain"], formats: ["webp"] }));

    assert.deepEqual([box.width, box.height, box.frames], [80, 80, 2]);
    assert.equal((await framePixel(box.data, 1, 40, 2))[3], 0, "the padding above the picture is transparent");
    assertColourNear(await framePixel(box.data, 1, 40, 40), { r: 0, g: 255, b: 0 }, 12, "the picture sits in the middle of frame 1");
  });

  it("puts the watermark on every frame", async () => {
    const gif = await sampleAnimated("gif", 3, 200, 100);
    const white = await sharp({ create: { width: 40, height: 20, channels: 4, background: "#ffffff" } }).png().toBuffer();
    const options = keep({ renditions: ["large:200"], formats: ["webp"], watermark: { source: "uploads:mark.png", position: "southeast", opacity: 1, margin: 10, scale: 0.2, minWidth: 100 } });
    const mark = await prepareWatermark(white, options.watermark!);

    const [large] = await renderAnimatedRenditions(gif, options, mark);

    for (const page of [0, 1, 2]) {
      assertColourNear(await framePixel(large.data, page, 180, 80), { r: 255, g: 255, b: 255 }, 12, `the mark on frame ${page}`);
    }
    assertColourNear(await framePixel(large.data, 2, 20, 20), { r: 0, g: 0, b: 255 }, 12, "frame 2 away from the mark");
  });

  it("processImage keeps the animation and takes the placeholder and previews from the first frame", async () => {
    const gif = await sampleAnimated("gif", 3, 120, 80);

    const { info, outputs, placeholder, previews } = await processImage(gif, keep({ renditions: ["thumb:60"], formats: ["webp"], placeholders: ["color"] }));

    assert.equal(info.animated, true);
    assert.deepEqual(outputs.map(({ name, frames }) => [name, frames]), [["thumb", 3]]);
    const [r, g, b] = [1, 3, 5].map((at) => parseInt(previews!.color!.slice(at, at + 2), 16));
    assert.ok(r > 230 && g < 30 && b < 30, `the dominant colour of frame 0 is red, got ${previews?.color}`);
    const { data } = await sharp(Buffer.from(placeholder!.dataUri.split(",")[1], "base64")).raw().toBuffer({ resolveWithObject: true });
    assertColourNear([...data.subarray(0, 3)], { r: 255, g: 0, b: 0 }, 20, "the placeholder is the first frame");
  });

  it("renders the first frame only by default (first-frame)", async () => {
    const gif = await sampleAnimated("gif", 3, 120, 80);

    const { outputs } = await processImage(gif, optionsWith({ renditions: ["thumb:60"], formats: ["webp"] }));

    assert.equal(outputs[0].frames, undefined);
    assert.equal((await sharp(outputs[0].data).metadata()).pages, undefined, "a still WebP has no pages");
  });
});

/** 8 tiny flat frames, red and blue: a GIF's palette says it in fewer bytes than WebP's per-frame headers. */
async function flatBlinker(): Promise<Buffer> {
  const frames = await Promise.all(Array.from({ length: 8 }, (_, i) => sharp({ create: { width: 32, height: 32, channels: 3, background: i % 2 ? "#0000ff" : "#ff0000" } }).png().toBuffer()));
  return sharp(frames, { join: { animated: true } }).gif({ delay: 100 }).toBuffer();
}

/** 3 frames of shifting colour gradients: a GIF dithers them into a large palette image, lossy WebP stays small. */
async function gradientClip(width = 240, height = 160): Promise<Buffer> {
  const frames = await Promise.all(
    Array.from({ length: 3 }, (_, f) => {
      const raw = Buffer.alloc(width * height * 3);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = (y * width + x) * 3;
          raw[i] = Math.floor((x * 255) / width + f * 20) % 256;
          raw[i + 1] = Math.floor((y * 255) / height) % 256;
          raw[i + 2] = Math.floor(((x + y) * 128) / width + f * 30) % 256;
        }
      }
      return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
    }),
  );
  return sharp(frames, { join: { animated: true } }).gif({ delay: 100 }).toBuffer();
}

const describeFiles = (files: { name: string; format: string; slot: string; chosen: string; data: Buffer }[]) => files.map(({ name, format, slot, chosen }) => `${name} ${format} as ${slot}: ${chosen}`);

describe("Optimize decides for animations (#14.7)", () => {
  it("stores only the GIF when the animated WebP comes out larger, and the WebP again with optimize.keepLarger", async () => {
    const gif = await flatBlinker();

    const dropped = await encodeAnimatedRenditions(gif, keep({ renditions: ["thumb:32"], filters: [] }));
    const kept = await encodeAnimatedRenditions(gif, keep({ renditions: ["thumb:32"], filters: [], optimize: { keepLarger: true } }));

    assert.deepEqual(describeFiles(dropped.files), ["thumb gif as jpeg: fallback"]);
    assert.deepEqual(
      dropped.skipped.map(({ name, format, reason, servedBy }) => `${name} ${format}: ${reason} → ${servedBy.name} ${servedBy.format}`),
      ["thumb webp: larger-than-gif → thumb gif"],
    );
    assert.ok(dropped.skipped[0].bytes > dropped.files[0].data.length, `${dropped.skipped[0].bytes} > ${dropped.files[0].data.length}`);
    assert.equal((await sharp(dropped.files[0].data).metadata()).pages, 8, "the GIF is still animated");
    assert.deepEqual(describeFiles(kept.files), ["thumb webp as webp: kept-larger", "thumb gif as jpeg: fallback"]);
    assert.deepEqual(kept.skipped, []);
  });

  it("stores the WebP, marked smallest, when it is smaller than the GIF", async () => {
    const gif = await gradientClip();

    const { files, skipped } = await encodeAnimatedRenditions(gif, keep({ renditions: ["thumb:120"], filters: [] }));

    assert.deepEqual(describeFiles(files), ["thumb webp as webp: smallest", "thumb gif as jpeg: fallback"]);
    assert.ok(files[0].data.length < files[1].data.length, `${files[0].data.length} < ${files[1].data.length}`);
    assert.deepEqual(skipped, []);
  });

  it("serves renditions an animation is too narrow for from the smallest one's files", async () => {
    const gif = await gradientClip(100, 60);

    const { outputs, skipped } = await processImage(gif, keep({ renditions: ["thumb:160", "large:640"], filters: [] }));

    assert.deepEqual(outputs.map(({ name, format, width, height, frames }) => `${name} ${format} ${width}x${height} ${frames}`), ["thumb webp 100x60 3", "thumb gif 100x60 3"]);
    assert.deepEqual(
      skipped.map(({ name, format, reason, servedBy }) => `${name} ${format}: ${reason} → ${servedBy.name} ${servedBy.format}`),
      ["large webp: same-as-smaller-rendition → thumb webp", "large gif: same-as-smaller-rendition → thumb gif"],
    );
  });
});

describe("animation limits", () => {
  it("refuses a kept animation over limits.maxAnimatedPixels from its header, with TOO_MANY_FRAMES", async () => {
    const gif = await sampleAnimated("gif", 4, 100, 50);

    await rejectsWith(validateImage(gif, keep({ limits: { maxAnimatedPixels: 19_999 } })), "TOO_MANY_FRAMES");
    await assert.rejects(validateImage(gif, keep({ limits: { maxAnimatedPixels: 19_999 } })), { details: { width: 100, height: 50, frames: 4, pixels: 20_000, limit: 19_999 } });
  });

  it("accepts an animation exactly at the limit, and any size when only the first frame is rendered", async () => {
    const gif = await sampleAnimated("gif", 4, 100, 50);

    assert.equal((await validateImage(gif, keep({ limits: { maxAnimatedPixels: 20_000 } }))).animated, true);
    assert.equal((await validateImage(gif, optionsWith({ limits: { maxAnimatedPixels: 1 } }))).frames, 4);
  });

  it("still counts frames against limits.maxFrames with keep", async () => {
    await rejectsWith(validateImage(await sampleAnimated("gif", 3, 20, 20), keep({ limits: { maxFrames: 2 } })), "TOO_MANY_FRAMES");
  });

  it("marks a still image as not animated", async () => {
    const still = await sharp({ create: { width: 20, height: 20, channels: 3, background: "#808080" } }).gif().toBuffer();

    assert.equal((await validateImage(still, keep())).animated, undefined);
  });

  it("validates the animated policy and the pixel x frame limit in the config", () => {
    assert.equal(processingOptionsSchema.parse({}).animated, "first-frame");
    assert.equal(processingOptionsSchema.parse({}).limits.maxAnimatedPixels, 100_000_000);
    assert.equal(processingOptionsSchema.safeParse({ animated: "loop" }).success, false);
    assert.equal(processingOptionsSchema.safeParse({ limits: { maxAnimatedPixels: 0 } }).success, false);
    assert.equal(processingOptionsSchema.safeParse({ limits: { maxAnimatedPixels: 1.5 } }).success, false);
  });
});
