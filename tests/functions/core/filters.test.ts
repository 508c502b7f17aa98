import assert from "node:assert/strict";
import sharp from "sharp";
import { filterImage, decodeIntermediate, PLACEHOLDER_SIZE, type Pixels } from "../../../functions/core";
import { renderEffects, renderPlaceholder, renderPreviews } from "../../../functions/core/filters";
import { sampleAlphaPng, samplePhoto, sampleTruncated } from "../../../local/sampleImages";
import { optionsWith, rejectsWith } from "./helpers";

const everyFilter = optionsWith({ filters: ["grayscale", "sepia", "blur", "sharpen", "normalize", "placeholder"], filterWidth: 256 });

/** A greyscale PNG of `size` x `size` whose pixels are `value(x, y)`. */
async function generatedPng(size: number, value: (x: number, y: number) => number): Promise<Buffer> {
  const data = Buffer.alloc(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = value(x, y);
  return sharp(data, { raw: { width: size, height: size, channels: 1 } }).png().toBuffer();
}

/** A checkerboard of `square`-pixel squares in two greys. */
function checkerboard(size: number, square: number, dark: number, light: number): Promise<Buffer> {
  return generatedPng(size, (x, y) => ((Math.floor(x / square) + Math.floor(y / square)) % 2 === 0 ? dark : light));
}

/** Band 0 of decoded pixels (all the tests below feed grey images, so R = G = B). */
function firstBand(pixels: { data: Buffer; channels: number }): number[] {
  const values: number[] = [];
  for (let i = 0; i < pixels.data.length; i += pixels.channels) values.push(pixels.data[i]);
  return values;
}

function standardDeviation(values: number[]): number {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length);
}

/** Mean squared difference between horizontal neighbours of band 0: how much edge there is. */
function edgeEnergy(pixels: { data: Buffer; width: number; channels: number }): number {
  const values = firstBand(pixels);
  let sum = 0;
  let count = 0;
  for (let i = 0; i + 1 < values.length; i++) {
    if ((i + 1) % pixels.width === 0) continue;
    sum += (values[i + 1] - values[i]) ** 2;
    count++;
  }
  return sum / count;
}

/** Renders one effect of a generated image at the image's own width and decodes it. */
async function effectOf(image: Buffer, filter: "blur" | "sharpen" | "normalize", filterWidth: number) {
  const { effects } = await filterImage(image, optionsWith({ filters: [filter], filterWidth }));
  assert.equal(effects.length, 1);
  return decodeIntermediate(effects[0].data);
}

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

  it("blurs: a checkerboard loses most of its contrast and edges", async () => {
    const board = await checkerboard(256, 8, 64, 192);
    const raw = await sharp(board).raw().toBuffer({ resolveWithObject: true });
    const before = { data: raw.data, width: raw.info.width, channels: raw.info.channels };

    const blurred = await effectOf(board, "blur", 256);

    assert.ok(standardDeviation(firstBand(before)) > 63, "the unblurred board keeps its two greys (std 64)");
    assert.ok(standardDeviation(firstBand(blurred)) < 0.75 * 64, `std ${standardDeviation(firstBand(blurred)).toFixed(1)}`);
    assert.ok(edgeEnergy(blurred) < 0.2 * edgeEnergy(before), `edge energy ${edgeEnergy(blurred).toFixed(0)} vs ${edgeEnergy(before).toFixed(0)}`);
  });

  it("blurs by the same share of the image at any filterWidth (sigma 2 at 256 px, 8 at 1024 px)", async () => {
    // Squares of 1/32 of the width: the same picture at two sizes.
    const small = standardDeviation(firstBand(await effectOf(await checkerboard(256, 8, 64, 192), "blur", 256)));
    const large = standardDeviation(firstBand(await effectOf(await checkerboard(1024, 32, 64, 192), "blur", 1024)));

    assert.ok(small > 20 && small < 48, `256 px: std ${small.toFixed(1)}`);
    assert.ok(Math.abs(small - large) < 4, `256 px: std ${small.toFixed(1)}, 1024 px: std ${large.toFixed(1)}`);
  });

  it("sharpens: a softened checkerboard gets stronger edges, and its flat areas stay flat", async () => {
    const soft = await sharp(await checkerboard(256, 16, 96, 160)).blur(1.5).png().toBuffer();
    const before = await sharp(soft).raw().toBuffer({ resolveWithObject: true });

    const sharpened = await effectOf(soft, "sharpen", 256);

    const beforePixels = { data: before.data, width: before.info.width, channels: before.info.channels };
    assert.ok(edgeEnergy(sharpened) > 1.2 * edgeEnergy(beforePixels), `edge energy ${edgeEnergy(sharpened).toFixed(0)} vs ${edgeEnergy(beforePixels).toFixed(0)}`);
    // The centre of a square is far from any edge: sharpening leaves it as it was.
    const centre = (8 * 256 + 8) * sharpened.channels;
    assert.ok(Math.abs(sharpened.data[centre] - 96) <= 2, `centre ${sharpened.data[centre]}`);
  });

  it("normalizes: a low-contrast gradient (100..140) is stretched to nearly 0..255", async () => {
    const gradient = await generatedPng(256, (x) => 100 + Math.round((x * 40) / 255));

    const values = firstBand(await effectOf(gradient, "normalize", 256));

    const low = Math.min(...values);
    const high = Math.max(...values);
    assert.ok(low <= 16 && high >= 240, `range ${low}..${high}`);
    assert.ok(values[0] < values[128] && values[128] < values[255], "the gradient keeps its direction");
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

/** Solid pixels of one grey value. */
function solid(width: number, height: number, value: number): Pixels {
  return { data: Buffer.alloc(width * height * 3, value), width, height, channels: 3 };
}

/** A checkerboard of 8 px squares in 64 and 192, `width` x `height`. */
async function board(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = (Math.floor(x / 8) + Math.floor(y / 8)) % 2 ? 192 : 64;
  return sharp(data, { raw: { width, height, channels: 1 } }).png().toBuffer();
}

describe("filters in detail", () => {
  it("blurs by the longer side, whichever it is: 512x64 and 64x512 both get sigma 4", async () => {
    for (const [width, height] of [[512, 64], [64, 512]]) {
      const { effects } = await filterImage(await board(width, height), optionsWith({ filters: ["blur"], filterWidth: 512 }));
      const blurred = await decodeIntermediate(effects[0].data);

      // Unblurred the board has std 64; sigma 4 leaves about 10, sigma 0.5 (the short side's) leaves 64.
      assert.ok(standardDeviation(firstBand(blurred)) < 20, `${width}x${height}: std ${standardDeviation(firstBand(blurred)).toFixed(1)}`);
    }
  });

  it("makes the placeholder at quality 50, alpha included: a few hundred bytes", async () => {
    const photo = await sharp(await samplePhoto({ width: 800, height: 600, seed: 50 })).resize(200).raw().toBuffer({ resolveWithObject: true });
    const alpha = await sharp(await sampleAlphaPng(400, 300)).resize(200).raw().toBuffer({ resolveWithObject: true });
    const pixels = ({ data, info }: typeof photo): Pixels => ({ data, width: info.width, height: info.height, channels: info.channels as 3 | 4 });

    // Measured with sharp 0.35: 240 bytes at quality 50 (356 at WebP's default 80); with alpha 462 (654 at full alpha quality).
    assert.ok((await renderPlaceholder(pixels(photo))).bytes < 300);
    assert.ok((await renderPlaceholder(pixels(alpha))).bytes < 560);
  });

  it("computes only the previews asked for", async () => {
    const dark = solid(30, 20, 5);

    assert.deepEqual(Object.keys(await renderPreviews(dark, ["thumbhash"])), ["thumbhash"]);
    assert.deepEqual(Object.keys(await renderPreviews(dark, ["blurhash"])), ["blurhash"]);
    assert.deepEqual(Object.keys(await renderPreviews(dark, ["color"])), ["color"]);
    assert.deepEqual(Object.keys(await renderPreviews(dark, [])), []);
  });

  it("writes the dominant colour as six hex digits, zero-padded", async () => {
    // Grey 5 falls in sharp's first histogram bin, whose centre is 8.
    assert.deepEqual(await renderPreviews(solid(30, 20, 5), ["color"]), { color: "#080808" });
  });

  it("gives BlurHash 4x3 components across a landscape or square image and 3x4 down a portrait one", async () => {
    // The first character is (x - 1) + (y - 1) * 9 in base 83: 21 ("L") for 4x3, 29 ("T") for 3x4; 4 + 2 x 12 characters.
    const landscape = (await renderPreviews(solid(30, 20, 5), ["blurhash"])).blurhash!;
    const square = (await renderPreviews(solid(20, 20, 5), ["blurhash"])).blurhash!;
    const portrait = (await renderPreviews(solid(20, 30, 5), ["blurhash"])).blurhash!;

    assert.deepEqual([landscape[0], square[0], portrait[0]], ["L", "L", "T"]);
    assert.deepEqual([landscape.length, square.length, portrait.length], [28, 28, 28]);
  });

  it("filterImage computes previews even with no filter at all", async () => {
    const result = await filterImage(await board(64, 48), optionsWith({ filters: [], placeholders: ["color"] }));

    assert.deepEqual(result.effects, []);
    assert.equal(result.placeholder, undefined);
    assert.match(result.previews?.color ?? "", /^#[0-9a-f]{6}$/);
  });

  it("says which filter, the placeholder or the previews failed when the pixels cannot be read", async () => {
    const broken: Pixels = { data: Buffer.alloc(10), width: 40, height: 40, channels: 3 };

    await assert.rejects(renderEffects(broken, ["blur"]), /while applying the blur filter/);
    await assert.rejects(renderPlaceholder(broken), /while rendering the placeholder/);
    await assert.rejects(renderPreviews(broken, ["color"]), /while rendering the previews/);
  });
});
