import assert from "node:assert/strict";
import sharp from "sharp";
import { filterImage, decodeIntermediate, PLACEHOLDER_SIZE } from "../../../functions/core";
import { sampleAlphaPng, samplePhoto, sampleTruncated } from "../../../local/sampleImages";
import { optionsWith, rejectsWith } from "./helpers";

const everyFilter = optionsWith({ filters: ["grayscale", "sepia", "blur", "sharpen", "normalize", "placeholder"], filterWidth: 256 });

/** Mean absolute difference between two bands over all pixels. */
function bandGap(pixels: { data: Buffer; channels: number }, a: number, b: number): number {
  let sum = 0;
  const count = pixels.data.length / pixels.channels;
  for (let i = 0; i < count; i++) sum += Math.abs(pixels.data[i * pixels.channels + a] - pixels.data[i * pixels.channels + b]);
  return sum / count;
}

describe("applyFilters", () => {
  let photo: Buffer;

  before(async () => {
    photo = await samplePhoto({ width: 800, height: 600, seed: 50 });
  });

  it("renders one effect per configured filter at filterWidth, named after the filter", async () => {
    const { effects } = await filterImage(photo, everyFilter);

    assert.deepEqual(
      effects.map(({ name, kind, width, height }) => ({ name, kind, width, height })),
      ["grayscale", "sepia", "blur", "sharpen", "normalize"].map((name) => ({ name, kind: "effect", width: 256, height: 192 })),
    );
  });

  it("makes grayscale grey and sepia warm", async () => {
    const { effects } = await filterImage(photo, optionsWith({ filters: ["grayscale", "sepia"], filterWidth: 256 }));
    const [grey, sepia] = await Promise.all(effects.map((effect) => decodeIntermediate(effect.data)));

    assert.ok(bandGap(grey, 0, 1) < 1 && bandGap(grey, 1, 2) < 1, "R = G = B");
    let warm = 0;
    for (let i = 0; i < sepia.data.length; i += sepia.channels) if (sepia.data[i] >= sepia.data[i + 1] && sepia.data[i + 1] >= sepia.data[i + 2]) warm++;
    assert.ok(warm / (sepia.data.length / sepia.channels) > 0.99, "R >= G >= B almost everywhere");
  });

  it("keeps alpha in every effect", async () => {
    const { effects } = await filterImage(await sampleAlphaPng(400, 300), everyFilter);

    for (const effect of effects) {
      const pixels = await decodeIntermediate(effect.data);
      assert.equal(pixels.channels, 4, effect.name);
      assert.ok(pixels.data[3] < 16, `${effect.name}: the corner stays transparent (blur may spread a little alpha)`);
    }
  });

  it("never enlarges an image narrower than filterWidth", async () => {
    const small = await samplePhoto({ width: 120, height: 90, seed: 51 });

    const { effects } = await filterImage(small, optionsWith({ filters: ["blur"], filterWidth: 1024 }));

    assert.deepEqual([effects[0].width, effects[0].height], [120, 90]);
  });

  it("makes a tiny blurred WebP placeholder as a data URI under 1 KB", async () => {
    const { effects, placeholder } = await filterImage(photo, optionsWith({ filters: ["placeholder"] }));

    assert.deepEqual(effects, []);
    assert.ok(placeholder);
    assert.match(placeholder.dataUri, /^data:image\/webp;base64,[A-Za-z0-9+/]+=*$/);
    assert.deepEqual([placeholder.width, placeholder.height], [PLACEHOLDER_SIZE, 24]);
    const bytes = Buffer.from(placeholder.dataUri.split(",")[1], "base64");
    assert.equal(bytes.length, placeholder.bytes);
    assert.ok(placeholder.bytes < 1024, `${placeholder.bytes} bytes`);
    const metadata = await sharp(bytes).metadata();
    assert.deepEqual([metadata.format, metadata.width, metadata.height], ["webp", PLACEHOLDER_SIZE, 24]);
  });

  it("returns nothing when no filter is configured", async () => {
    const result = await filterImage(photo, optionsWith({ filters: [] }));

    assert.deepEqual(result, { effects: [] });
  });

  it("rejects a truncated JPEG as CORRUPT_IMAGE", async () => {
    await rejectsWith(filterImage(sampleTruncated(photo), everyFilter), "CORRUPT_IMAGE");
  });
});
