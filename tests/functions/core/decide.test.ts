import assert from "node:assert/strict";
import sharp from "sharp";
import { decideAcrossRenditions, decideVariants, isGraphicLike, processImage, type Candidate, type ChosenImage, type SkippedVariant } from "../../../functions/core";
import { parseProcessingOptions } from "../../../functions/settings";
import { optionsWith } from "./helpers";

/** A photo-like image: a colour gradient with grain (a deterministic noise). */
async function gradientWithNoise(width: number, height: number, amount = 24): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const grain = (random() - 0.5) * amount;
      raw[i] = Math.max(0, Math.min(255, (x / width) * 255 + grain));
      raw[i + 1] = Math.max(0, Math.min(255, (y / height) * 255 + grain));
      raw[i + 2] = Math.max(0, Math.min(255, 128 + grain));
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** A flat-colour logo on a transparent background: red and blue bars with hard edges. */
async function stripedLogo(): Promise<Buffer> {
  const bars = Array.from({ length: 30 }, (_, i) => `<rect x="${20 + i * 19}" y="40" width="9" height="320" fill="${i % 2 ? "#d02030" : "#2050c0"}"/>`).join("");
  return sharp({ create: { width: 600, height: 400, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: Buffer.from(`<svg width="600" height="400" shape-rendering="crispEdges">${bars}</svg>`) }])
    .png()
    .toBuffer();
}

/** 48x32 of pure noise: nothing for WebP's prediction to find, so it ends larger than the JPEG. */
async function tinyNoise(): Promise<Buffer> {
  const raw = Buffer.alloc(48 * 32 * 3);
  let seed = 11;
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor((seed = (seed * 1103515245 + 12345) % 2147483648) / 65536) % 256;
  return sharp(raw, { raw: { width: 48, height: 32, channels: 3 } }).png().toBuffer();
}

const describeOutputs = (outputs: { name: string; format: string; slot: string; chosen: string; lossless: boolean }[]) =>
  outputs.map(({ name, format, slot, chosen, lossless }) => `${name} ${format}${lossless ? " lossless" : ""} as ${slot}: ${chosen}`);
const describeSkipped = (skipped: { name: string; format: string; lossless: boolean; reason: string }[]) =>
  skipped.map(({ name, format, lossless, reason }) => `${name} ${format}${lossless ? " lossless" : ""}: ${reason}`);

describe("Optimize decides (#14.7)", () => {
  it("drops a photo's WebP where it came out larger than the JPEG, and keeps the smaller one", async () => {
    const input = await gradientWithNoise(640, 480);

    const { outputs, skipped } = await processImage(input, optionsWith({ renditions: ["thumb:160", "medium:480"], filters: [] }));

    assert.deepEqual(describeOutputs(outputs), ["thumb webp as webp: smallest", "thumb jpeg as jpeg: fallback", "medium jpeg as jpeg: fallback"]);
    assert.deepEqual(describeSkipped(skipped), ["medium webp: larger-than-jpeg"]);
    const mediumJpeg = outputs.find((o) => o.name === "medium" && o.format === "jpeg");
    assert.ok(mediumJpeg && skipped[0].bytes > mediumJpeg.data.length, `${skipped[0].bytes} > ${mediumJpeg?.data.length}`);
  });

  it("searches mozjpeg's progressive scans only with optimize.jpegScanSearch, for a JPEG no larger than without", async () => {
    const input = await gradientWithNoise(640, 480);
    const jpegOf = async (jpegScanSearch: boolean) =>
      (await processImage(input, optionsWith({ renditions: ["medium:480"], filters: [], formats: ["jpeg"], optimize: { jpegScanSearch } }))).outputs.find((o) => o.format === "jpeg")!.data;

    const [plain, searched] = [await jpegOf(false), await jpegOf(true)];

    assert.notDeepEqual(plain, searched);
    assert.ok(searched.length <= plain.length, `${searched.length} <= ${plain.length}`);
    assert.deepEqual((await sharp(searched).metadata()).isProgressive, true);
  });

  it("quantises the JPEG by mozjpeg's trellis only with optimize.jpegTrellis, for a smaller file", async () => {
    const input = await gradientWithNoise(640, 480);
    const jpegOf = async (jpegTrellis: boolean) =>
      (await processImage(input, optionsWith({ renditions: ["medium:480"], filters: [], formats: ["jpeg"], optimize: { jpegTrellis } }))).outputs.find((o) => o.format === "jpeg")!.data;

    const [plain, trellis] = [await jpegOf(false), await jpegOf(true)];

    assert.ok(trellis.length < plain.length, `${trellis.length} < ${plain.length}`);
    assert.deepEqual([(await sharp(plain).metadata()).isProgressive, (await sharp(trellis).metadata()).isProgressive], [true, true]);
  });

  it("encodes WebP at webpEffort: more effort, a smaller file of the same size in pixels", async () => {
    const input = await gradientWithNoise(640, 480);
    const webpOf = async (webpEffort: number) =>
      (await processImage(input, optionsWith({ renditions: ["medium:480"], filters: [], formats: ["webp", "jpeg"], webpEffort, optimize: { keepLarger: true } }))).outputs.find((o) => o.format === "webp")!;

    const [fast, thorough] = [await webpOf(0), await webpOf(6)];

    assert.ok(thorough.data.length < fast.data.length, `${thorough.data.length} < ${fast.data.length}`);
    assert.deepEqual([fast.width, fast.height], [thorough.width, thorough.height]);
  });

  it("gives a flat-colour logo with alpha lossless WebP and PNG, smaller than the lossy files, alpha kept", async () => {
    const input = await stripedLogo();

    const { outputs, skipped } = await processImage(input, optionsWith({ renditions: ["full:600"], filters: [] }));

    assert.deepEqual(describeOutputs(outputs), ["full webp lossless as webp: lossless-smaller", "full png lossless as jpeg: lossless-smaller"]);
    assert.deepEqual(describeSkipped(skipped), ["full webp: larger-than-lossless", "full jpeg: larger-than-lossless"]);
    for (const output of outputs) {
      const metadata = await sharp(output.data).metadata();
      assert.deepEqual([metadata.format, metadata.hasAlpha, output.contentType], [output.format, true, `image/${output.format}`]);
    }
    const png = outputs.find((o) => o.format === "png");
    assert.deepEqual((await sharp(png?.data).ensureAlpha().raw().toBuffer()).subarray(0, 4), Buffer.from([0, 0, 0, 0]), "the corner stays transparent");
  });

  it("leaves out WebP when a tiny noisy image's WebP is larger than its JPEG, unless optimize.keepLarger", async () => {
    const input = await tinyNoise();
    // The JPEG at its smallest (mozjpeg's scan search on), so the noise's WebP is clearly the larger file.
    const options = { renditions: ["thumb:160"], filters: [], formats: ["avif", "webp", "jpeg"] as ("avif" | "webp" | "jpeg")[], avifEffort: 0, optimize: { jpegScanSearch: true } };

    const dropped = await processImage(input, optionsWith(options));
    const kept = await processImage(input, optionsWith({ ...options, optimize: { keepLarger: true, jpegScanSearch: true } }));

    assert.deepEqual(describeOutputs(dropped.outputs), ["thumb avif as avif: smallest", "thumb jpeg as jpeg: fallback"]);
    assert.deepEqual(describeSkipped(dropped.skipped), ["thumb webp: larger-than-jpeg"]);
    assert.deepEqual(describeOutputs(kept.outputs), ["thumb avif as avif: smallest", "thumb webp as webp: kept-larger", "thumb jpeg as jpeg: fallback"]);
    assert.deepEqual(kept.skipped, []);
  });

  it("tells a graphic from a photo by how much of it its most common colours cover", async () => {
    const photo = await sharp(await gradientWithNoise(320, 240)).raw().toBuffer({ resolveWithObject: true });
    const logo = await sharp(await stripedLogo()).raw().toBuffer({ resolveWithObject: true });

    assert.equal(await isGraphicLike({ data: photo.data, width: 320, height: 240, channels: 3 }), false);
    assert.equal(await isGraphicLike({ data: logo.data, width: 600, height: 400, channels: 4 }), true);
  });
});

describe("decideVariants", () => {
  const candidate = (slot: "jpeg" | "webp" | "avif", format: "jpeg" | "webp" | "avif" | "png", bytes: number, lossless = false): Candidate => ({
    name: "thumb",
    slot,
    format,
    lossless,
    width: 10,
    height: 10,
    data: Buffer.alloc(bytes),
    contentType: `image/${format}`,
    extension: format,
  });

  it("keeps the JPEG slot always, and a WebP/AVIF only when not larger than that slot's file", () => {
    const decision = decideVariants([candidate("avif", "avif", 900), candidate("webp", "webp", 1200), candidate("jpeg", "jpeg", 1000)], { formats: ["avif", "webp", "jpeg"], optimize: { keepLarger: false } });

    assert.deepEqual(decision.chosen.map((c) => `${c.format} ${c.chosen}`), ["avif smallest", "jpeg fallback"]);
    assert.deepEqual(decision.skipped, [{ name: "thumb", slot: "webp", format: "webp", lossless: false, bytes: 1200, reason: "larger-than-jpeg", servedBy: { name: "thumb", format: "jpeg" } }]);
  });

  it("puts a PNG in the JPEG's place when smaller, and then measures the others against the PNG", () => {
    const decision = decideVariants([candidate("webp", "webp", 700), candidate("jpeg", "jpeg", 900), candidate("webp", "webp", 800, true), candidate("jpeg", "png", 600, true)], { formats: ["webp", "jpeg"], optimize: { keepLarger: false } });

    assert.deepEqual(decision.chosen.map((c) => `${c.format} ${c.chosen}`), ["png lossless-smaller"]);
    assert.deepEqual(decision.skipped.map((s) => `${s.format}${s.lossless ? " lossless" : ""} ${s.bytes} ${s.reason} → ${s.servedBy.format}`), [
      "webp lossless 800 larger-than-lossy → png",
      "jpeg 900 larger-than-lossless → png",
      "webp 700 larger-than-png → png",
    ]);
  });

  it("compares nothing with a translucent image's JPEG (it loses the alpha), and nothing without a JPEG", () => {
    const translucent = decideVariants([candidate("webp", "webp", 1200), candidate("jpeg", "jpeg", 1000)], { formats: ["webp", "jpeg"], optimize: { keepLarger: false } }, { translucent: true });
    const noJpeg = decideVariants([candidate("webp", "webp", 1200), candidate("avif", "avif", 1300)], { formats: ["webp", "avif"], optimize: { keepLarger: false } });

    assert.deepEqual(translucent.chosen.map((c) => `${c.format} ${c.chosen}`), ["webp configured", "jpeg fallback"]);
    assert.deepEqual(noJpeg.chosen.map((c) => `${c.format} ${c.chosen}`), ["webp configured", "avif configured"]);
    assert.deepEqual([translucent.skipped, noJpeg.skipped], [[], []]);
  });
});

/** A 300 px photo-like JPEG: fine grain, so not a graphic, and its WebP is smaller than its JPEG. */
const narrowPhoto = () => gradientWithNoise(300, 200, 6);

describe("Optimize decides across renditions (#14.7)", () => {
  it("stores one file per format for renditions an upload is too narrow for, served by the smallest of them", async () => {
    const input = await narrowPhoto();

    const { outputs, skipped } = await processImage(input, optionsWith({ renditions: ["thumb:320", "medium:1024", "large:2048"], filters: [] }));

    assert.deepEqual(outputs.map(({ name, format, width, height }) => `${name} ${format} ${width}x${height}`), ["thumb webp 300x200", "thumb jpeg 300x200"]);
    assert.deepEqual(
      skipped.map(({ name, format, reason, servedBy }) => `${name} ${format}: ${reason} → ${servedBy.name} ${servedBy.format}`),
      ["medium webp: same-as-smaller-rendition → thumb webp", "medium jpeg: same-as-smaller-rendition → thumb jpeg", "large webp: same-as-smaller-rendition → thumb webp", "large jpeg: same-as-smaller-rendition → thumb jpeg"],
    );
    const thumbJpeg = outputs.find((o) => o.format === "jpeg");
    assert.equal(skipped.find((s) => s.name === "large" && s.format === "jpeg")?.bytes, thumbJpeg?.data.length);
  });

  it("keeps every rendition's files with optimize.keepLarger", async () => {
    const input = await narrowPhoto();

    const { outputs, skipped } = await processImage(input, optionsWith({ renditions: ["thumb:320", "medium:1024"], filters: [], optimize: { keepLarger: true } }));

    assert.deepEqual(outputs.map(({ name, format, width }) => `${name} ${format} ${width}`), ["thumb webp 300", "thumb jpeg 300", "medium webp 300", "medium jpeg 300"]);
    assert.deepEqual(skipped, []);
  });

  it("keeps renditions of another shape, and those the upload is wide enough for", async () => {
    const input = await gradientWithNoise(700, 400);

    const { outputs, skipped } = await processImage(input, optionsWith({ renditions: ["thumb:320", "medium:1024", "square:320x320:cover", "square2x:640x640:cover"], filters: [], formats: ["jpeg"] }));

    assert.deepEqual(outputs.map(({ name, width, height }) => `${name} ${width}x${height}`), ["thumb 320x183", "medium 700x400", "square 320x320", "square2x 640x400"]);
    assert.deepEqual(skipped, []);
  });
});

describe("decideAcrossRenditions", () => {
  type File = ChosenImage & { kind: "rendition" | "effect" };
  const file = (name: string, format: "jpeg" | "webp", width: number, bytes: number, kind: File["kind"] = "rendition"): File => ({
    name,
    kind,
    slot: format,
    format,
    lossless: false,
    chosen: format === "jpeg" ? "fallback" : "smallest",
    width,
    height: width / 2,
    data: Buffer.alloc(bytes),
    contentType: `image/${format}`,
    extension: format,
  });
  const options = (keepLarger = false) =>
    optionsWith({ renditions: ["thumb:320", "medium:1024", "large:2048", "card:200x200:cover"], optimize: { keepLarger } });
  const show = (decision: { files: File[]; skipped: (SkippedVariant & { kind: string })[] }) => [
    decision.files.map((f) => `${f.kind} ${f.name} ${f.format}`),
    decision.skipped.map((s) => `${s.name} ${s.format} ${s.reason} → ${s.servedBy.name} ${s.servedBy.format}`),
  ];

  it("keeps the smaller rendition's file of an exact duplicate, and drops a file another has at least as large in fewer bytes", () => {
    const decision = decideAcrossRenditions(
      [file("thumb", "jpeg", 300, 900), file("medium", "jpeg", 300, 900), file("large", "jpeg", 300, 900), file("thumb", "webp", 300, 800), file("medium", "webp", 300, 790), file("large", "webp", 300, 795)],
      [],
      options(),
    );

    assert.deepEqual(show(decision), [
      ["rendition thumb jpeg", "rendition medium webp"],
      ["medium jpeg same-as-smaller-rendition → thumb jpeg", "large jpeg same-as-smaller-rendition → thumb jpeg", "thumb webp dominated-by-rendition → medium webp", "large webp dominated-by-rendition → medium webp"],
    ]);
  });

  it("keeps a larger picture in more bytes, drops a smaller one in more bytes, and leaves effects and other shapes alone", () => {
    const decision = decideAcrossRenditions(
      [file("thumb", "jpeg", 320, 3000), file("medium", "jpeg", 1024, 2000), file("large", "jpeg", 2048, 9000), file("card", "jpeg", 200, 5000), file("sepia", "jpeg", 1024, 9000, "effect")],
      [],
      options(),
    );

    assert.deepEqual(show(decision), [["rendition medium jpeg", "rendition large jpeg", "rendition card jpeg", "effect sepia jpeg"], ["thumb jpeg dominated-by-rendition → medium jpeg"]]);
  });

  it("points a file skipped earlier at the file that now serves its rendition", () => {
    const earlier: SkippedVariant & { kind: "rendition" } = { name: "medium", kind: "rendition", slot: "webp", format: "webp", lossless: false, bytes: 1000, reason: "larger-than-jpeg", servedBy: { name: "medium", format: "jpeg" } };

    const decision = decideAcrossRenditions([file("thumb", "jpeg", 300, 900), file("medium", "jpeg", 300, 900)], [earlier], options());

    assert.deepEqual(show(decision)[1], ["medium webp larger-than-jpeg → thumb jpeg", "medium jpeg same-as-smaller-rendition → thumb jpeg"]);
  });

  it("keeps everything with optimize.keepLarger", () => {
    const files = [file("thumb", "jpeg", 300, 900), file("medium", "jpeg", 300, 900)];

    const decision = decideAcrossRenditions(files, [], options(true));

    assert.deepEqual(show(decision), [["rendition thumb jpeg", "rendition medium jpeg"], []]);
  });
});

describe("optimize.keepLarger", () => {
  it("is false by default and must be a boolean (CONFIG_INVALID naming the key)", () => {
    assert.equal(parseProcessingOptions("{}", "PIPELINE_OPTIONS").optimize.keepLarger, false);
    assert.throws(() => parseProcessingOptions('{"optimize":{"keepLarger":"yes"}}', "PIPELINE_OPTIONS"), (error: Error & { code?: string }) => {
      assert.equal(error.code, "CONFIG_INVALID");
      assert.match(error.message, /optimize\.keepLarger: /);
      return true;
    });
  });
});
