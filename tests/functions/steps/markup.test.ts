import assert from "node:assert/strict";
import sharp from "sharp";
import { decode as decodeBlurhash, isBlurhashValid } from "blurhash";
import { thumbHashToAverageRGBA } from "thumbhash";
import { processingOptionsSchema, type ProcessingOptions, type ProcessingOptionsInput } from "../../../functions/core/options";
import { runStep, servedOutputs, type StepOutputs, type Manifest, type OptimizeResult, type ProcessedJob, type ValidatedJob } from "../../../functions/steps";
import { memoryPorts } from "../../../local/memoryPorts";

/** 1200x800 mostly orange, a blue band on the left third. */
async function photo(): Promise<Buffer> {
  return sharp({ create: { width: 1200, height: 800, channels: 3, background: { r: 240, g: 130, b: 20 } } })
    .composite([{ input: { create: { width: 400, height: 800, channels: 3, background: { r: 20, g: 60, b: 220 } } }, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** Runs Validate → Resize ∥ ApplyFilters → Optimize through the real handlers and returns the manifest. */
async function manifestFor(overrides: ProcessingOptionsInput, metadata?: Record<string, string>, upload?: Buffer): Promise<{ manifest: Manifest; options: ProcessingOptions; ports: ReturnType<typeof memoryPorts> }> {
  const options = processingOptionsSchema.parse(overrides);
  const ports = memoryPorts();
  await ports.objects.put("uploads", "shop/bag.jpg", upload ?? (await photo()), "image/jpeg");
  if (metadata) ports.objects.setMetadata("uploads", "shop/bag.jpg", metadata);
  const { etag } = await ports.objects.head("uploads", "shop/bag.jpg");
  const validated = (await runStep("validate", { sourceKey: "shop/bag.jpg", sourceEtag: etag, runId: "r1" }, ports, options)) as ValidatedJob;
  const processed = [(await runStep("resize", validated, ports, options)) as StepOutputs, (await runStep("applyFilters", validated, ports, options)) as StepOutputs];
  const optimized = (await runStep("optimize", { ...validated, processed }, ports, options)) as OptimizeResult;
  return { manifest: JSON.parse((await ports.objects.get("renditions", optimized.manifestKey)).toString()) as Manifest, options, ports };
}

/** 300x200 of smooth colour gradients: a photo (not a graphic) narrower than most renditions. */
async function narrowPhoto(): Promise<Buffer> {
  const [width, height] = [300, 200];
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set([Math.floor((x * 255) / width), Math.floor((y * 255) / height), Math.floor(((x + y) * 255) / (width + height))], (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

describe("manifest: crops, previews and responsive markup", () => {
  it("carries srcset, sizes and a <picture> snippet per rendition set, with keys relative to the output prefix", async () => {
    const { manifest } = await manifestFor({
      renditions: ["small:300", "big:600", "card:200x200:cover", "card2x:400x400:cover"],
      formats: ["avif", "webp", "jpeg"],
      avifEffort: 0,
      markup: true,
      sizes: "(max-width: 600px) 100vw, 600px",
      // With mozjpeg's scan search on, the 600 px JPEG stays smaller than its PNG: one set mixes both.
      optimize: { jpegScanSearch: true },
    });

    assert.deepEqual(manifest.responsive?.map((set) => [set.name, set.renditions, set.fit, set.width, set.height]), [
      ["original", ["small", "big"], "inside", 600, 400],
      ["card", ["card", "card2x"], "cover", 400, 400],
    ]);
    const [original, card] = manifest.responsive!;
    // Two flat colours: at 300 px the lossless PNG is smaller than the JPEG and takes its place (#14.7).
    assert.deepEqual(original.srcset, { avif: "small.avif 300w, big.avif 600w", webp: "small.webp 300w, big.webp 600w", jpeg: "small.png 300w, big.jpg 600w" });
    assert.deepEqual(manifest.outputs.filter((entry) => entry.name === "small" && entry.slot === "jpeg").map((entry) => [entry.format, entry.chosen]), [["png", "lossless-smaller"]]);
    assert.equal(original.sizes, "(max-width: 600px) 100vw, 600px");
    assert.equal(
      original.picture,
      '<picture><source type="image/avif" srcset="small.avif 300w, big.avif 600w" sizes="(max-width: 600px) 100vw, 600px">' +
        '<source type="image/webp" srcset="small.webp 300w, big.webp 600w" sizes="(max-width: 600px) 100vw, 600px">' +
        '<img src="big.jpg" srcset="small.png 300w, big.jpg 600w" sizes="(max-width: 600px) 100vw, 600px" width="600" height="400" alt="" loading="lazy" decoding="async" ' +
        `style="background:url(${manifest.placeholder!.dataUri}) center/cover no-repeat"></picture>`,
    );
    assert.equal(card.srcset.jpeg, "card.png 200w, card2x.jpg 400w");
    for (const entry of manifest.outputs) assert.ok(entry.key.startsWith("shop/bag.jpg/"), entry.key);
  });

  it("leaves markup and previews out by default", async () => {
    const { manifest } = await manifestFor({ renditions: ["small:300"] });

    assert.equal(manifest.responsive, undefined);
    assert.equal(manifest.previews, undefined);
  });

  it("lists one srcset candidate per width when renditions end equally wide (never enlarged)", async () => {
    const { manifest } = await manifestFor({ renditions: ["a:1600", "b:2000"], formats: ["webp"], markup: true });

    assert.equal(manifest.responsive?.[0].srcset.webp, "a.webp 1200w");
    assert.match(manifest.responsive![0].picture, /^<picture><img src="a\.webp" srcset="a\.webp 1200w" sizes="100vw" width="1200" height="800" /);
  });

  it("serves renditions an upload is too narrow for from the smallest one's files: once in srcset, once per file in the manifest", async () => {
    const overrides = { renditions: ["thumb:320", "medium:1024", "large:2048", "card:200x200:cover"], formats: ["webp", "jpeg"] as ("webp" | "jpeg")[], filters: [], markup: true };

    const { manifest, ports } = await manifestFor(overrides, undefined, await narrowPhoto());

    assert.deepEqual(manifest.outputs.map(({ key, width, height }) => `${key} ${width}x${height}`), [
      "shop/bag.jpg/thumb.webp 300x200",
      "shop/bag.jpg/thumb.jpg 300x200",
      "shop/bag.jpg/card.webp 200x200",
      "shop/bag.jpg/card.jpg 200x200",
    ]);
    assert.deepEqual(manifest.skipped.map(({ name, format, reason, servedBy }) => `${name} ${format} ${reason} → ${servedBy}`), [
      "medium webp same-as-smaller-rendition → shop/bag.jpg/thumb.webp",
      "medium jpeg same-as-smaller-rendition → shop/bag.jpg/thumb.jpg",
      "large webp same-as-smaller-rendition → shop/bag.jpg/thumb.webp",
      "large jpeg same-as-smaller-rendition → shop/bag.jpg/thumb.jpg",
    ]);
    const [original] = manifest.responsive!;
    assert.deepEqual([original.renditions, original.srcset], [["thumb", "medium", "large"], { webp: "thumb.webp 300w", jpeg: "thumb.jpg 300w" }]);
    assert.match(original.picture, /^<picture><source type="image\/webp" srcset="thumb\.webp 300w" sizes="100vw"><img src="thumb\.jpg" srcset="thumb\.jpg 300w" sizes="100vw" width="300" height="200" /);
    assert.deepEqual(
      servedOutputs(manifest).map(({ name, key }) => `${name} ${key}`),
      [
        "thumb shop/bag.jpg/thumb.webp",
        "thumb shop/bag.jpg/thumb.jpg",
        "card shop/bag.jpg/card.webp",
        "card shop/bag.jpg/card.jpg",
        "medium shop/bag.jpg/thumb.webp",
        "medium shop/bag.jpg/thumb.jpg",
        "large shop/bag.jpg/thumb.webp",
        "large shop/bag.jpg/thumb.jpg",
      ],
      "every configured rendition has a file to point at",
    );
    await assert.rejects(ports.objects.get("renditions", "shop/bag.jpg/medium.jpg"), /No object shop\/bag\.jpg\/medium\.jpg/);
  });

  it("keeps each rendition's own files with optimize.keepLarger, one srcset width each", async () => {
    const overrides = { renditions: ["thumb:320", "medium:1024"], formats: ["jpeg"] as "jpeg"[], filters: [], markup: true, optimize: { keepLarger: true } };

    const { manifest } = await manifestFor(overrides, undefined, await narrowPhoto());

    assert.deepEqual(manifest.outputs.map(({ key, width }) => `${key} ${width}`), ["shop/bag.jpg/thumb.jpg 300", "shop/bag.jpg/medium.jpg 300"]);
    assert.deepEqual(manifest.skipped, []);
    assert.equal(manifest.responsive?.[0].srcset.jpeg, "thumb.jpg 300w");
  });

  it("refuses to publish a rendition whose skipped file names no stored file (INTERNAL)", async () => {
    const options = processingOptionsSchema.parse({ renditions: ["thumb:320", "medium:1024"], formats: ["jpeg"], filters: [] });
    const ports = memoryPorts();
    const thumb = { key: "a.jpg/thumb.jpg", name: "thumb", kind: "rendition" as const, format: "jpeg" as const, slot: "jpeg" as const, width: 300, height: 200, bytes: 10, contentType: "image/jpeg", chosen: "fallback" as const };
    const medium = { name: "medium", kind: "rendition" as const, format: "jpeg" as const, slot: "jpeg" as const, bytes: 10, reason: "same-as-smaller-rendition" as const };
    const job = (servedBy: string): ProcessedJob => ({
      jobId: "j1",
      sourceKey: "a.jpg",
      duplicate: false,
      image: { format: "jpeg", width: 300, height: 200, hasAlpha: false, frames: 1, bytes: 1000 },
      processed: [{ outputs: [thumb], skipped: [{ ...medium, servedBy }] }],
    });

    await runStep("optimize", job("a.jpg/thumb.jpg"), ports, options);
    await assert.rejects(runStep("optimize", job("a.jpg/gone.jpg"), ports, options), (error: Error & { code?: string }) => {
      assert.equal(error.code, "INTERNAL");
      assert.match(error.message, /no stored file for rendition medium/);
      return true;
    });
  });

  it("records each cropped rendition's box, choosing it from the upload's focal metadata", async () => {
    const { manifest } = await manifestFor({ renditions: ["square:200x200:cover:focal", "plain:300"], formats: ["jpeg"] }, { focal: "0.1,0.5" });

    const square = manifest.outputs.find((entry) => entry.name === "square")!;
    assert.deepEqual(square.crop, { left: 0, top: 0, width: 800, height: 800, position: "focal" });
    assert.equal(manifest.outputs.find((entry) => entry.name === "plain")!.crop, undefined);
  });

  it("reads the focal metadata whatever the case of its name (blob metadata names are case-insensitive)", async () => {
    const { manifest } = await manifestFor({ renditions: ["square:200x200:cover:focal"], formats: ["jpeg"] }, { Focal: "0.9,0.5" });

    assert.deepEqual(manifest.outputs[0].crop, { left: 400, top: 0, width: 800, height: 800, position: "focal" });
  });

  it("crops by attention when the upload has no focal metadata", async () => {
    const { manifest } = await manifestFor({ renditions: ["square:200x200:cover:focal"], formats: ["jpeg"] });

    assert.equal(manifest.outputs[0].crop?.position, "attention");
  });

  it("carries ThumbHash, BlurHash and the dominant colour, each decoding to the picture's colours", async () => {
    const { manifest } = await manifestFor({ renditions: ["small:300"], placeholders: ["thumbhash", "blurhash", "color"], markup: true });

    const { thumbhash, blurhash, color } = manifest.previews ?? {};
    assert.ok(thumbhash && blurhash && color);
    const average = thumbHashToAverageRGBA(Buffer.from(thumbhash, "base64"));
    // Two thirds orange (240,130,20), one third blue (20,60,220): about (167,107,87).
    assert.ok(Math.abs(average.r * 255 - 167) < 25 && Math.abs(average.b * 255 - 87) < 30, `ThumbHash average ${JSON.stringify(average)}`);
    assert.equal(isBlurhashValid(blurhash).result, true);
    const pixels = decodeBlurhash(blurhash, 3, 1);
    assert.ok(pixels[0] < pixels[2] && pixels[8] > pixels[10], `BlurHash: blue on the left, orange on the right (${[...pixels].join(",")})`);
    assert.match(color, /^#[0-9a-f]{6}$/);
    const [r, g, b] = [1, 3, 5].map((at) => parseInt(color.slice(at, at + 2), 16));
    assert.ok(r > 200 && g > 100 && g < 160 && b < 60, `the dominant colour ${color} is the orange`);
    assert.match(manifest.responsive![0].picture, new RegExp(`style="background:${color} url\\(data:image/webp;base64,`));
  });
});
