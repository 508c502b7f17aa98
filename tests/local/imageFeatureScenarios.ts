import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import type { Cloud } from "../../components/config";
import { processingOptionsSchema } from "../../functions/core/options";
import type { LocalFlavour } from "../../local/flavour";
import { MemoryNotifier } from "../../local/memoryPorts";
import { startFlavour } from "../../local/runtime";
import { sampleAnimated, samplePhoto } from "../../local/sampleImages";
import { jobOf, manifestOf } from "./flavourScenarios";

/**
 * HEIC input, a cover crop, previews and markup through a whole local flavour: real
 * emulators, the real engine and handlers. Run by aws/flavour.test.ts and azure/flavour.test.ts.
 */

const FEATURES = processingOptionsSchema.parse({
  renditions: ["thumb:48", "card:40x40:cover:attention"],
  filters: ["placeholder"],
  placeholders: ["thumbhash", "color"],
  markup: true,
});

const heicFixture = (): Buffer => readFileSync(path.join(__dirname, "..", "fixtures", "heic", "irot-p3.heic"));

export function describeImageFeatureScenarios(cloud: Cloud): void {
  describe(`the local ${cloud} flavour with HEIC, crops, previews and markup`, function () {
    this.timeout(120_000);
    let flavour: LocalFlavour;

    before(async function () {
      flavour = await startFlavour(cloud, { processing: FEATURES, notifier: new MemoryNotifier(), retryDelayMs: 10 });
    });

    after(async function () {
      await flavour?.stop();
    });

    it("turns an iPhone-style HEIC into upright renditions, its cover crop and previews in the manifest", async function () {
      const event = await flavour.upload("phone/IMG_0001.HEIC", heicFixture(), "image/heic");

      await flavour.execute(event);

      const record = await jobOf(flavour, event);
      assert.equal(record.status, "succeeded", JSON.stringify(record.error));
      const manifest = await manifestOf(flavour, record);
      assert.deepEqual([manifest.source.format, manifest.source.width, manifest.source.height], ["heif", 64, 96]);
      assert.deepEqual(
        manifest.outputs.map(({ key, width, height }) => [key, width, height]),
        // Flat colour blocks: a graphic, so lossless WebP and PNG are stored, smaller than the lossy files (#14.7).
        [
          ["phone/IMG_0001.HEIC/thumb.webp", 48, 72],
          ["phone/IMG_0001.HEIC/thumb.png", 48, 72],
          ["phone/IMG_0001.HEIC/card.webp", 40, 40],
          ["phone/IMG_0001.HEIC/card.png", 40, 40],
        ],
      );
      assert.deepEqual(manifest.skipped.map(({ name, format, reason }) => `${name} ${format} ${reason}`), ["thumb webp larger-than-lossless", "thumb jpeg larger-than-lossless", "card webp larger-than-lossless", "card jpeg larger-than-lossless"]);
      const card = manifest.outputs.find((entry) => entry.key.endsWith("card.png"))!;
      assert.equal(card.crop?.position, "attention");
      assert.deepEqual([card.crop?.width, card.crop?.height], [64, 64]);
      const thumb = await flavour.ports.objects.get("renditions", "phone/IMG_0001.HEIC/thumb.png");
      const { data, info } = await sharp(thumb).raw().toBuffer({ resolveWithObject: true });
      const topRight = (2 * info.width + info.width - 3) * info.channels;
      assert.ok(data[topRight + 1] > 200 && data[topRight] < 60, "the green block is top-right: the HEIC's rotation was applied");
      assert.ok(manifest.previews?.thumbhash && manifest.previews.color, "previews are in the manifest");
      assert.deepEqual(manifest.responsive?.map((set) => set.name), ["original", "card"]);
    });

    it("crops a photo to cover, recording the crop box in source pixels", async function () {
      const event = await flavour.upload("shop/wide.jpg", await samplePhoto({ width: 200, height: 100, seed: 51 }));

      await flavour.execute(event);

      const manifest = await manifestOf(flavour, await jobOf(flavour, event));
      const card = manifest.outputs.find((entry) => entry.key === "shop/wide.jpg/card.webp");
      assert.deepEqual([card?.width, card?.height], [40, 40]);
      assert.equal(card?.crop?.height, 100);
      assert.equal(card?.crop?.width, 100);
      assert.ok(card!.crop!.left >= 0 && card!.crop!.left <= 100, JSON.stringify(card?.crop));
      assert.equal(manifest.responsive?.[1].srcset.jpeg, "card.jpg 40w");
    });
  });

  describe(`the local ${cloud} flavour with an upload narrower than its renditions (#14.7)`, function () {
    this.timeout(120_000);
    let flavour: LocalFlavour;

    before(async function () {
      flavour = await startFlavour(cloud, { processing: NARROW, notifier: new MemoryNotifier(), retryDelayMs: 10 });
    });

    after(async function () {
      await flavour?.stop();
    });

    it("stores one file per format for the renditions it is too narrow for, and the manifest and markup serve them all from it", async function () {
      const event = await flavour.upload("shop/small.jpg", await smoothPhoto(300, 200));

      await flavour.execute(event);

      const record = await jobOf(flavour, event);
      assert.equal(record.status, "succeeded", JSON.stringify(record.error));
      const manifest = await manifestOf(flavour, record);
      assert.deepEqual(manifest.outputs.map(({ key, width, height }) => `${key} ${width}x${height}`), ["shop/small.jpg/thumb.webp 300x200", "shop/small.jpg/thumb.jpg 300x200"]);
      assert.deepEqual(manifest.skipped.map(({ name, format, reason, servedBy }) => `${name} ${format} ${reason} → ${servedBy}`), [
        "medium webp same-as-smaller-rendition → shop/small.jpg/thumb.webp",
        "medium jpeg same-as-smaller-rendition → shop/small.jpg/thumb.jpg",
      ]);
      const stored = (await flavour.ports.objects.list("renditions", "shop/small.jpg/")).items.map((item) => item.key);
      assert.deepEqual(stored, ["shop/small.jpg/manifest.json", "shop/small.jpg/thumb.jpg", "shop/small.jpg/thumb.webp"]);
      const [original] = manifest.responsive ?? [];
      assert.deepEqual([original?.renditions, original?.srcset], [["thumb", "medium"], { webp: "thumb.webp 300w", jpeg: "thumb.jpg 300w" }]);
      assert.match(original?.picture ?? "", /<img src="thumb\.jpg" srcset="thumb\.jpg 300w" sizes="100vw" width="300" height="200" /);
    });
  });

  describe(`the local ${cloud} flavour with animations kept and a watermark`, function () {
    this.timeout(120_000);
    let flavour: LocalFlavour;

    before(async function () {
      flavour = await startFlavour(cloud, { processing: ANIMATED_AND_MARKED, notifier: new MemoryNotifier(), retryDelayMs: 10 });
    });

    after(async function () {
      await flavour?.stop();
    });

    it("keeps an animated GIF animated (WebP where smaller, and GIF for JPEG), with the mark from the repo on every frame of the large rendition only", async function () {
      const event = await flavour.upload("clips/wave.gif", await sampleAnimated("gif", 3, 160, 80), "image/gif");

      await flavour.execute(event);

      const record = await jobOf(flavour, event);
      assert.equal(record.status, "succeeded", JSON.stringify(record.error));
      const manifest = await manifestOf(flavour, record);
      assert.deepEqual(
        manifest.outputs.map(({ key, format, width, height, frames, animated }) => [key, format, width, height, frames, animated]),
        // Three flat frames at 40 px: the GIF's palette beats WebP's frame headers, so thumb's WebP is not stored (#14.7).
        [
          ["clips/wave.gif/thumb.gif", "gif", 40, 20, 3, true],
          ["clips/wave.gif/large.webp", "webp", 160, 80, 3, true],
          ["clips/wave.gif/large.gif", "gif", 160, 80, 3, true],
        ],
      );
      assert.deepEqual(manifest.skipped.map(({ name, format, reason, servedBy }) => `${name} ${format} ${reason} → ${servedBy}`), ["thumb webp larger-than-gif → clips/wave.gif/thumb.gif"]);
      const large = await flavour.ports.objects.get("renditions", "clips/wave.gif/large.gif");
      assert.equal((await sharp(large).metadata()).pages, 3);
      for (const page of [0, 2]) {
        const { data, info } = await sharp(large, { page }).raw().toBuffer({ resolveWithObject: true });
        // The fixture mark (64x32, white inside a black border) at half the width, 4 px from the bottom-right corner: x 76..155, y 36..75.
        const at = (x: number, y: number) => (y * info.width + x) * info.channels;
        assert.ok(data[at(100, 45)] > 200 && data[at(100, 45) + 1] > 200 && data[at(100, 45) + 2] > 200, `frame ${page}: the mark's white is there`);
        assert.ok(data[at(20, 10) + 1] < 60 || data[at(20, 10)] < 60, `frame ${page}: the top-left stays the frame's colour`);
      }
      const thumb = await flavour.ports.objects.get("renditions", "clips/wave.gif/thumb.gif");
      const { data } = await sharp(thumb).raw().toBuffer({ resolveWithObject: true });
      assert.ok(data[0] > 200 && data[1] < 60, "thumb (40 px, under minWidth) is unmarked red");
    });
  });
}

const ANIMATED_AND_MARKED = processingOptionsSchema.parse({
  renditions: ["thumb:40", "large:400"],
  filters: [],
  animated: "keep",
  watermark: { source: "file:tests/fixtures/watermark/mark.png", position: "southeast", opacity: 1, margin: 4, scale: 0.5, minWidth: 100 },
});

/** Renditions the narrow upload is narrower than; WebP and JPEG. */
const NARROW = processingOptionsSchema.parse({ renditions: ["thumb:320", "medium:1024"], formats: ["webp", "jpeg"], filters: [], markup: true });

/** Smooth colour gradients: a photo (not a graphic) whose WebP is smaller than its JPEG. */
async function smoothPhoto(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set([Math.floor((x * 255) / width), Math.floor((y * 255) / height), Math.floor(((x + y) * 255) / (width + height))], (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}
