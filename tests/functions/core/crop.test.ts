import assert from "node:assert/strict";
import sharp from "sharp";
import { parseFocalPoint, processImage, processingOptionsSchema, resizeImage } from "../../../functions/core";
import { decodeIntermediate } from "../../../functions/core/intermediate";
import { sampleOriented, sampleRandomBytes } from "../../../local/sampleImages";
import { assertColourNear, optionsWith, rejectsWith } from "./helpers";

/** 800x400 blue, with a red 100x100 square at x 600-700, y 50-150: the one thing worth looking at. */
async function subjectRight(): Promise<Buffer> {
  const width = 800;
  const height = 400;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(x >= 600 && x < 700 && y >= 50 && y < 150 ? [255, 0, 0] : [0, 0, 200], (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** subjectRight upside down: the red square at y 250-350. */
async function subjectBottomRight(): Promise<Buffer> {
  return sharp(await subjectRight()).flip().png().toBuffer();
}

async function renditionsOf(input: Buffer, renditions: string[], focal?: { x: number; y: number }) {
  const items = await resizeImage(input, optionsWith({ renditions, filters: [] }), focal);
  return new Map(items.map((item) => [item.name, item]));
}

async function redShare(data: Buffer): Promise<number> {
  const pixels = await decodeIntermediate(data);
  let red = 0;
  for (let i = 0; i < pixels.data.length; i += pixels.channels) if (pixels.data[i] > 200 && pixels.data[i + 2] < 60) red++;
  return red / (pixels.width * pixels.height);
}

describe("crops per rendition", () => {
  describe("the short form", () => {
    it("reads name:width[xheight][:fit][:position], defaulting to fit inside at the centre", () => {
      const { renditions } = processingOptionsSchema.parse({ renditions: ["thumb:320", "card:600x400:cover:attention", "box:300x200:contain", "tall:200x900"] });

      assert.deepEqual(renditions, [
        { name: "thumb", width: 320, fit: "inside", position: "centre" },
        { name: "card", width: 600, height: 400, fit: "cover", position: "attention" },
        { name: "box", width: 300, height: 200, fit: "contain", position: "centre" },
        { name: "tall", width: 200, height: 900, fit: "inside", position: "centre" },
      ]);
    });

    it("refuses cover or contain without a height, a position without cover, and an unknown fit", () => {
      const messages = (renditions: string[]) => {
        const parsed = processingOptionsSchema.safeParse({ renditions });
        assert.equal(parsed.success, false);
        return parsed.error!.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
      };

      assert.match(messages(["card:600:cover"])[0], /^renditions\.0\.height: fit "cover" needs a height, e\.g\. "card:600x600:cover"/);
      assert.match(messages(["card:600x400:inside:focal"])[0], /^renditions\.0\.position: position "focal" .* needs fit "cover"/);
      assert.match(messages(["card:600x400:squash"])[0], /^renditions\.0\.fit: /);
      assert.match(messages(["card"])[0], /^renditions\.0\.width: a rendition is "name:width\[xheight\]\[:fit\]\[:position\]" text/);
    });
  });

  it("cover fills width x height and records the centre crop box in source pixels", async () => {
    const items = await renditionsOf(await subjectRight(), ["square:200x200:cover"]);

    const square = items.get("square")!;
    assert.deepEqual([square.width, square.height], [200, 200]);
    assert.deepEqual(square.crop, { left: 200, top: 0, width: 400, height: 400, position: "centre" });
  });

  it("cover at the focal point centres the crop there, within the image; without one it falls back to attention", async () => {
    const input = await subjectRight();

    const focused = (await renditionsOf(input, ["card:200x200:cover:focal"], { x: 0.9, y: 0.5 })).get("card")!;
    const fallback = (await renditionsOf(input, ["card:200x200:cover:focal"])).get("card")!;

    assert.deepEqual(focused.crop, { left: 400, top: 0, width: 400, height: 400, position: "focal" }, "x 0.9 of 800 is 720: the window stops at the right edge");
    assert.equal(fallback.crop?.position, "attention");
    assert.ok((await redShare(fallback.data)) > 0.04, "attention kept the red square");
  });

  it("cover by attention or entropy keeps the subject a centre crop would cut away", async () => {
    const items = await renditionsOf(await subjectRight(), ["centre:100x200:cover", "attention:100x200:cover:attention", "entropy:100x200:cover:entropy"]);

    assert.equal(await redShare(items.get("centre")!.data), 0, "the centre crop (x 300-500) misses the square");
    assert.ok((await redShare(items.get("attention")!.data)) > 0.1);
    assert.ok((await redShare(items.get("entropy")!.data)) > 0.1);
    const box = items.get("attention")!.crop!;
    assert.ok(box.left <= 600 && box.left + box.width >= 700, `the attention box ${JSON.stringify(box)} holds the square`);
  });

  it("contain pads to exactly width x height with transparency, the image centred and never enlarged", async () => {
    const items = await renditionsOf(await subjectRight(), ["box:300x300:contain"]);

    const box = items.get("box")!;
    const pixels = await decodeIntermediate(box.data);
    assert.deepEqual([pixels.width, pixels.height, pixels.channels], [300, 300, 4]);
    assert.equal(pixels.data[3], 0, "the top-left corner is padding");
    const middle = (150 * 300 + 20) * 4;
    assertColourNear([...pixels.data.subarray(middle, middle + 3)], { r: 0, g: 0, b: 200 }, 8, "the image across the middle");
    assert.equal(pixels.data[middle + 3], 255);
    assert.equal(box.crop, undefined);
  });

  it("contain splits odd padding with the extra pixel after the image (bottom, right)", async () => {
    const items = await renditionsOf(await subjectRight(), ["box:300x153:contain", "column:203x100:contain"]);

    const box = await decodeIntermediate(items.get("box")!.data);
    const column = await decodeIntermediate(items.get("column")!.data);
    const alpha = (pixels: Awaited<ReturnType<typeof decodeIntermediate>>, x: number, y: number) => pixels.data[(y * pixels.width + x) * pixels.channels + 3];
    assert.deepEqual([box.width, box.height, column.width, column.height], [300, 153, 203, 100]);
    assert.deepEqual([0, 1, 150, 151, 152].map((y) => alpha(box, 150, y)), [0, 255, 255, 0, 0], "rows: 1 padding, 150 image, 2 padding");
    assert.deepEqual([0, 1, 200, 201, 202].map((x) => alpha(column, x, 50)), [0, 255, 255, 0, 0], "columns: 1 padding, 200 image, 2 padding");
  });

  it("cover at a focal point moves the window across and down, stopping at each edge", async () => {
    const input = await subjectRight();
    const boxes = async (focal: { x: number; y: number }) => {
      const items = await renditionsOf(input, ["tall:100x200:cover:focal", "wide:200x50:cover:focal"], focal);
      return [items.get("tall")!.crop, items.get("wide")!.crop];
    };

    // tall is cut from a 400x200 level (source / 2), wide from a 200x100 level (source / 4).
    assert.deepEqual(await boxes({ x: 0.05, y: 0.1 }), [
      { left: 0, top: 0, width: 200, height: 400, position: "focal" },
      { left: 0, top: 0, width: 800, height: 200, position: "focal" },
    ]);
    assert.deepEqual(await boxes({ x: 0.8125, y: 0.6 }), [
      { left: 550, top: 0, width: 200, height: 400, position: "focal" },
      { left: 0, top: 140, width: 800, height: 200, position: "focal" },
    ]);
    assert.deepEqual(await boxes({ x: 1, y: 1 }), [
      { left: 600, top: 0, width: 200, height: 400, position: "focal" },
      { left: 0, top: 200, width: 800, height: 200, position: "focal" },
    ]);
  });

  it("cover at a focal point keeps what is there: the red square at its focal point, none away from it", async () => {
    const input = await subjectRight();

    const atSquare = (await renditionsOf(input, ["tall:100x200:cover:focal"], { x: 0.8125, y: 0.25 })).get("tall")!;
    const farLeft = (await renditionsOf(input, ["tall:100x200:cover:focal"], { x: 0.05, y: 0.25 })).get("tall")!;

    // The 200x400 source window at x 550-750 holds the whole 100x100 square: an eighth of it.
    assert.ok(Math.abs((await redShare(atSquare.data)) - 0.125) < 0.01, `red share ${await redShare(atSquare.data)}`);
    assert.equal(await redShare(farLeft.data), 0);
  });

  it("cover at the centre ignores a focal point, and centres vertically too", async () => {
    const items = await renditionsOf(await subjectRight(), ["centre:100x200:cover", "wide:200x50:cover"], { x: 0.9, y: 0.9 });

    assert.deepEqual(items.get("centre")!.crop, { left: 300, top: 0, width: 200, height: 400, position: "centre" });
    assert.deepEqual(items.get("wide")!.crop, { left: 0, top: 100, width: 800, height: 200, position: "centre" });
    assert.deepEqual([items.get("wide")!.width, items.get("wide")!.height], [200, 50], "cut to the window's height");
  });

  it("cover by attention or entropy reports how far down the window was moved", async () => {
    const items = await renditionsOf(await subjectBottomRight(), ["attention:200x50:cover:attention", "entropy:200x50:cover:entropy"]);

    for (const name of ["attention", "entropy"]) {
      const crop = items.get(name)!.crop!;
      // The square spans y 250-350 of the source; a 200 px high window holding most of it starts between 150 and 250.
      assert.ok(crop.top >= 150 && crop.top <= 250, `${name}: ${JSON.stringify(crop)}`);
      assert.deepEqual([crop.left, crop.width, crop.height], [0, 800, 200]);
      assert.ok((await redShare(items.get(name)!.data)) > 0.03, `${name} keeps the square`);
    }
  });

  it("reads the upright size of an EXIF-rotated upload for its crops", async () => {
    const items = await renditionsOf(await sampleOriented(6), ["square:40x40:cover"]);

    // Shown 120x80: a 60x40 level, the square's centre window at x 10 (20 in the source).
    const square = items.get("square")!;
    assert.deepEqual([square.width, square.height], [40, 40]);
    assert.deepEqual(square.crop, { left: 20, top: 0, width: 80, height: 80, position: "centre" });
  });

  it("never enlarges an inside box larger than the source", async () => {
    const items = await renditionsOf(await subjectRight(), ["big:1000x1000"]);

    assert.deepEqual([items.get("big")!.width, items.get("big")!.height], [800, 400]);
  });

  it("reports an upload whose header cannot be read for its crops as CORRUPT_IMAGE, saying so", async () => {
    const options = optionsWith({ renditions: ["square:40x40:cover"], filters: [] });

    await rejectsWith(resizeImage(sampleRandomBytes(), options), "CORRUPT_IMAGE");
    await assert.rejects(resizeImage(sampleRandomBytes(), options), /while reading the image header/);
  });

  it("inside with a height fits the box and leaves plain renditions as they were", async () => {
    const items = await renditionsOf(await subjectRight(), ["banner:400x100", "plain:400", "card:120x120:cover"]);

    assert.deepEqual([items.get("banner")!.width, items.get("banner")!.height], [200, 100]);
    assert.deepEqual([items.get("plain")!.width, items.get("plain")!.height], [400, 200]);
    assert.equal(items.get("banner")!.crop, undefined, "inside crops nothing");
    assert.equal(items.get("plain")!.crop, undefined);
    assert.deepEqual([items.get("card")!.width, items.get("card")!.height], [120, 120]);
  });

  it("never enlarges: a cover crop larger than the source is cut from the source at its own size", async () => {
    const items = await renditionsOf(await subjectRight(), ["huge:1000x1000:cover"]);

    const huge = items.get("huge")!;
    assert.deepEqual([huge.width, huge.height], [800, 400]);
    assert.deepEqual(huge.crop, { left: 0, top: 0, width: 800, height: 400, position: "centre" });
  });

  it("processImage gives crops the same sizes, with effects and the placeholder cut from the whole image", async () => {
    const { outputs, placeholder } = await processImage(await subjectRight(), optionsWith({ renditions: ["square:100x100:cover", "wide:400"], filters: ["grayscale", "placeholder"], filterWidth: 300, formats: ["webp"] }));

    assert.deepEqual(outputs.map((o) => [o.name, o.width, o.height]), [["square", 100, 100], ["wide", 400, 200], ["grayscale", 300, 150]]);
    assert.deepEqual([placeholder?.width, placeholder?.height], [32, 16]);
  });

  it("reads a focal point as two fractions, and nothing else", () => {
    assert.deepEqual(parseFocalPoint("0.42,0.31"), { x: 0.42, y: 0.31 });
    assert.deepEqual(parseFocalPoint(" 1 , 0 "), { x: 1, y: 0 });
    assert.deepEqual(parseFocalPoint("0,1"), { x: 0, y: 1 });
    for (const bad of [undefined, "", "0.5", "1.2,0.5", "0.5,1.2", "-0.1,0.5", "a,b", "0.5;0.5", "0.5,0.5x", "0.5,0.5,0.5"]) assert.equal(parseFocalPoint(bad), undefined, String(bad));
  });
});
