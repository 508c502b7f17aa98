import assert from "node:assert/strict";
import sharp from "sharp";
import { encodeEffects, encodeRenditions, processImage, validateImage } from "../../../functions/core";
import { ANIMATED_FRAME_COLOURS, sampleAnimated, sampleHugeHeaderPng, samplePhoto, samplePhotoWithGps, sampleRandomBytes, sampleSvg, sampleTruncated } from "../../../local/sampleImages";
import { assertColourNear, optionsWith, pixelAt, rejectsWith } from "./helpers";

describe("processImage", () => {
  it("produces every rendition in every format, plus the placeholder, with correct manifest fields", async () => {
    const input = await samplePhoto({ width: 1600, height: 1200, seed: 60 });
    // Every format kept: this photo's WebP at 1600 px is larger than its JPEG (#14.7 would drop it).
    const options = optionsWith({ optimize: { keepLarger: true } });

    const { info, outputs, placeholder } = await processImage(input, options);

    assert.deepEqual([info.format, info.width, info.height, info.bytes], ["jpeg", 1600, 1200, input.length]);
    assert.deepEqual(
      outputs.map(({ name, format, width, height }) => `${name}.${format} ${width}x${height}`),
      ["thumb.webp 320x240", "thumb.jpeg 320x240", "medium.webp 1024x768", "medium.jpeg 1024x768", "large.webp 1600x1200", "large.jpeg 1600x1200"],
    );
    for (const output of outputs) {
      const metadata = await sharp(output.data).metadata();
      assert.deepEqual([metadata.format, metadata.width, metadata.height], [output.format, output.width, output.height], output.name);
    }
    assert.ok(placeholder && placeholder.bytes < 1024);
  });

  it("gives the same outputs as the workflow steps' parts (Resize ∥ ApplyFilters) do", async () => {
    const input = await samplePhoto({ width: 900, height: 600, seed: 61 });
    const options = optionsWith({ renditions: ["thumb:320", "medium:640"], filters: ["sepia", "placeholder"], filterWidth: 400 });

    const inProcess = await processImage(input, options);
    await validateImage(input, options);
    const viaSteps = [...(await encodeRenditions(input, options)).files, ...(await encodeEffects(input, options)).files];

    const shape = (list: typeof viaSteps) => list.map(({ name, format, width, height }) => ({ name, format, width, height }));
    assert.deepEqual(shape(inProcess.outputs), shape(viaSteps));
    assert.equal(inProcess.outputs.length, (2 + 1) * 2);
  });

  const sizes = (outputs: { name: string; format: string; width: number; height: number }[]) =>
    outputs.filter((o) => o.format === "webp").map(({ name, width, height }) => `${name} ${width}x${height}`);

  it("renders effects at filterWidth whether a rendition is larger, smaller or absent, and the placeholder at 32 px", async () => {
    const input = await samplePhoto({ width: 800, height: 600, seed: 62 });

    const cases: [string[], string[]][] = [
      [["thumb:160", "medium:640"], ["thumb 160x120", "medium 640x480", "blur 400x300"]],
      [["medium:640", "thumb:160"], ["medium 640x480", "thumb 160x120", "blur 400x300"]],
      [["thumb:160"], ["thumb 160x120", "blur 400x300"]],
      [["large:1200"], ["large 800x600", "blur 400x300"]],
    ];
    for (const [renditions, expected] of cases) {
      const { outputs, placeholder } = await processImage(input, optionsWith({ renditions, filters: ["blur", "placeholder"], filterWidth: 400, formats: ["webp"] }));
      assert.deepEqual(sizes(outputs), expected, renditions.join(", "));
      assert.deepEqual([placeholder?.width, placeholder?.height], [32, 24], renditions.join(", "));
    }
  });

  it("never enlarges effects or the placeholder past the source", async () => {
    const small = await samplePhoto({ width: 300, height: 200, seed: 63 });
    const tiny = await samplePhoto({ width: 20, height: 15, seed: 64 });

    const fromSmall = await processImage(small, optionsWith({ renditions: ["large:2048"], filters: ["sepia", "placeholder"], filterWidth: 1024, formats: ["webp"] }));
    const fromTiny = await processImage(tiny, optionsWith({ renditions: ["thumb:320"], filters: ["placeholder"], formats: ["webp"] }));

    assert.deepEqual(sizes(fromSmall.outputs), ["large 300x200", "sepia 300x200"]);
    assert.deepEqual([fromSmall.placeholder?.width, fromSmall.placeholder?.height], [32, 21]);
    assert.deepEqual(sizes(fromTiny.outputs), ["thumb 20x15"]);
    assert.deepEqual([fromTiny.placeholder?.width, fromTiny.placeholder?.height], [20, 15]);
  });

  it("makes no placeholder and no effects when none is configured", async () => {
    const result = await processImage(await samplePhoto({ width: 200, height: 100, seed: 65 }), optionsWith({ renditions: ["thumb:100"], filters: [], formats: ["webp"] }));

    assert.deepEqual(sizes(result.outputs), ["thumb 100x50"]);
    assert.equal("placeholder" in result, false);
    assert.equal("previews" in result, false);
  });

  it("writes no EXIF or GPS to any output", async () => {
    const { outputs } = await processImage(await samplePhotoWithGps(800, 600), optionsWith({ filters: ["grayscale"], formats: ["jpeg", "webp", "avif"] }));

    for (const output of outputs) assert.equal((await sharp(output.data).metadata()).exif, undefined, `${output.name}.${output.extension}`);
  });

  it("renders the first frame of an animation by default", async () => {
    const { info, outputs } = await processImage(await sampleAnimated("webp", 3, 120, 80), optionsWith({ formats: ["webp"] }));

    assert.equal(info.frames, 3);
    const metadata = await sharp(outputs[0].data).metadata();
    assert.equal(metadata.pages ?? 1, 1, "a still image comes out");
    assertColourNear(await pixelAt(outputs[0].data, 60, 40), ANIMATED_FRAME_COLOURS[0], 8, "first frame");
  });

  it("rejects an animation when animated is reject", async () => {
    await rejectsWith(processImage(await sampleAnimated("gif", 3), optionsWith({ animated: "reject" })), "TOO_MANY_FRAMES");
  });

  it("turns every kind of bad input into its error code", async () => {
    const photo = await samplePhoto({ width: 400, height: 300, seed: 62 });
    const cases = [
      { input: Buffer.alloc(0), code: "EMPTY_INPUT" },
      { input: sampleRandomBytes(), code: "CORRUPT_IMAGE" },
      { input: sampleTruncated(photo), code: "CORRUPT_IMAGE" },
      { input: sampleHugeHeaderPng(), code: "TOO_MANY_PIXELS" },
      { input: sampleSvg(), code: "UNSUPPORTED_FORMAT" },
    ] as const;

    for (const { input, code } of cases) await rejectsWith(processImage(input, optionsWith()), code);
  });

  describe("which rendition the effects, the placeholder and the previews are cut from", () => {
    // Lossless input: a level resized in one step equals the same level reached through the cascade,
    // so outputs from the same level are byte-equal, and outputs from another level are not.
    let photo: Buffer;
    let twoColours: Buffer;

    before(async () => {
      photo = await samplePhoto({ width: 800, height: 600, seed: 66, format: "png" });
      twoColours = await sharp({ create: { width: 800, height: 600, channels: 3, background: "#3366cc" } })
        .composite([{ input: { create: { width: 320, height: 600, channels: 3, background: "#e0a020" } }, left: 0, top: 0 }])
        .png()
        .toBuffer();
    });

    const run = (input: Buffer, renditions: string[], extra: Parameters<typeof optionsWith>[0] = {}) =>
      processImage(input, optionsWith({ renditions, formats: ["webp"], filters: ["sharpen", "placeholder"], filterWidth: 400, ...extra }));
    const effect = (result: Awaited<ReturnType<typeof run>>) => result.outputs.find((output) => output.name === "sharpen")!.data;

    it("effects come from the smallest rendition at least filterWidth wide (500 px for 400 here)", async () => {
      const cascade = await run(photo, ["large:800", "small:60", "mid:500", "thumb:120"]);
      const fromMid = await run(photo, ["mid:500"]);
      const fromLarge = await run(photo, ["large:800"]);

      assert.ok(effect(cascade).equals(effect(fromMid)), "the same pixels as from the 500 px level");
      assert.ok(!effect(cascade).equals(effect(fromLarge)), "not those from the 800 px level (the test can tell them apart)");
      assert.deepEqual(sizes(cascade.outputs).at(-1), "sharpen 400x300");
    });

    it("the placeholder comes from the smallest rendition at least 32 px on a side", async () => {
      const cascade = await run(photo, ["large:800", "small:20", "thumb:40"], { filters: ["placeholder"] });
      const fromThumb = await run(photo, ["thumb:40"], { filters: ["placeholder"] });
      const fromLarge = await run(photo, ["large:800"], { filters: ["placeholder"] });

      assert.equal(cascade.placeholder?.dataUri, fromThumb.placeholder?.dataUri);
      assert.notEqual(cascade.placeholder?.dataUri, fromLarge.placeholder?.dataUri);
      assert.deepEqual([cascade.placeholder?.width, cascade.placeholder?.height], [32, 24]);
    });

    it("previews come from the smallest rendition at least 100 px on a side, else the largest", async () => {
      const previews = async (renditions: string[]) => (await run(twoColours, renditions, { filters: [], placeholders: ["thumbhash", "blurhash", "color"] })).previews;

      const cascade = await previews(["large:800", "small:60", "thumb:120"]);
      assert.deepEqual(cascade, await previews(["large:800", "thumb:120"]));
      assert.notEqual(cascade?.thumbhash, (await previews(["large:800"]))?.thumbhash);
      // The 60/40 % split: the larger blue part (#3366cc, binned) is the dominant colour.
      assert.equal(cascade?.color, "#3868c8");

      const allSmall = await previews(["small:60", "tiny:40"]);
      assert.deepEqual(allSmall, await previews(["small:60"]));
      assert.notEqual(allSmall?.thumbhash, (await previews(["tiny:40"]))?.thumbhash);
    });
  });
});
