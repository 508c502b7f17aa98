import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import type { Cloud } from "../../components/config";
import { processingOptionsSchema } from "../../functions/core/options";
import type { LocalFlavour } from "../../local/flavour";
import { MemoryNotifier } from "../../local/memoryPorts";
import { startFlavour } from "../../local/runtime";
import { samplePhoto } from "../../local/sampleImages";
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
        [
          ["phone/IMG_0001.HEIC/thumb.webp", 48, 72],
          ["phone/IMG_0001.HEIC/thumb.jpg", 48, 72],
          ["phone/IMG_0001.HEIC/card.webp", 40, 40],
          ["phone/IMG_0001.HEIC/card.jpg", 40, 40],
        ],
      );
      const card = manifest.outputs.find((entry) => entry.key.endsWith("card.jpg"))!;
      assert.equal(card.crop?.position, "attention");
      assert.deepEqual([card.crop?.width, card.crop?.height], [64, 64]);
      const thumb = await flavour.ports.objects.get("renditions", "phone/IMG_0001.HEIC/thumb.jpg");
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
}
