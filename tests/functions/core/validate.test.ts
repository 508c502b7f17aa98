import assert from "node:assert/strict";
import sharp from "sharp";
import { validateImage } from "../../../functions/core";
import {
  sampleAnimated,
  sampleCorruptJpeg,
  sampleHugeHeaderPng,
  sampleOriented,
  samplePhoto,
  sampleRandomBytes,
  sampleSvg,
  sampleTruncated,
} from "../../../local/sampleImages";
import { optionsWith, rejectsWith } from "./helpers";

describe("validateImage", () => {
  let photo: Buffer;

  before(async () => {
    photo = await samplePhoto({ width: 640, height: 480, seed: 7 });
  });

  it("describes a good JPEG from its header", async () => {
    const info = await validateImage(photo, optionsWith());

    assert.deepEqual(info, { format: "jpeg", width: 640, height: 480, hasAlpha: false, frames: 1, bytes: photo.length, space: "srgb" });
  });

  it("reports the size as displayed when EXIF orientation turns the image", async () => {
    const rotated = await sampleOriented(6);

    const info = await validateImage(rotated, optionsWith());

    assert.equal(info.orientation, 6);
    assert.deepEqual([info.width, info.height], [120, 80]);
  });

  it("reads every EXIF orientation from 1 to 8", async () => {
    const found = [];
    for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) found.push((await validateImage(await sampleOriented(orientation), optionsWith())).orientation);

    assert.deepEqual(found, [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("says what each rejection was about in its details", async () => {
    const details = async (promise: Promise<unknown>) => {
      let caught: unknown;
      await assert.rejects(promise, (error: unknown) => ((caught = error), true));
      const { code, details: d } = caught as { code: string; details: Record<string, unknown> };
      return { code, ...d };
    };
    const png = await sharp(photo).png().toBuffer();

    assert.deepEqual(await details(validateImage(Buffer.alloc(0), optionsWith())), { code: "EMPTY_INPUT", bytes: 0 });
    assert.deepEqual(await details(validateImage(png, optionsWith({ limits: { formats: ["jpeg"] } }))), { code: "UNSUPPORTED_FORMAT", format: "png", allowed: ["jpeg"] });
    assert.deepEqual(await details(validateImage(await sampleAnimated("gif", 3), optionsWith({ limits: { maxFrames: 2 } }))), { code: "TOO_MANY_FRAMES", frames: 3, limit: 2 });
    assert.deepEqual(await details(validateImage(await sampleAnimated("webp", 2), optionsWith({ animated: "reject" }))), { code: "TOO_MANY_FRAMES", frames: 2, limit: 1, animated: true });
    assert.deepEqual(await details(validateImage(sampleSvg(), optionsWith())), { code: "UNSUPPORTED_FORMAT", format: "svg", allowed: ["jpeg", "png", "webp", "avif", "gif", "tiff", "heif"] });
  });

  it("names the refused format and the accepted ones in the message", async () => {
    const png = await sharp(photo).png().toBuffer();

    await assert.rejects(validateImage(png, optionsWith({ limits: { formats: ["jpeg", "webp"] } })), /The upload is png, which is not an accepted format \(limits\.formats: jpeg, webp\)/);
  });

  it("rejects zero bytes as EMPTY_INPUT", async () => {
    await rejectsWith(validateImage(Buffer.alloc(0), optionsWith()), "EMPTY_INPUT");
  });

  it("rejects an upload over limits.maxBytes as TOO_LARGE", async () => {
    await rejectsWith(validateImage(photo, optionsWith({ limits: { maxBytes: 1000 } })), "TOO_LARGE");
  });

  it("rejects random bytes as CORRUPT_IMAGE", async () => {
    await rejectsWith(validateImage(sampleRandomBytes(4096), optionsWith()), "CORRUPT_IMAGE");
  });

  it("rejects a JPEG with a broken header as CORRUPT_IMAGE", async () => {
    await rejectsWith(validateImage(photo.subarray(0, 200), optionsWith()), "CORRUPT_IMAGE");
  });

  it("rejects a PNG whose header claims 60000x60000 as TOO_MANY_PIXELS, quickly and without decoding", async function () {
    this.timeout(5000);
    const bomb = sampleHugeHeaderPng(60000, 60000);

    await assert.rejects(validateImage(bomb, optionsWith()), (error: { code: string; details: Record<string, unknown> }) => {
      assert.equal(error.code, "TOO_MANY_PIXELS");
      assert.equal(error.details.width, 60000);
      assert.equal(error.details.height, 60000);
      return true;
    });
  });

  it("rejects an image one pixel over limits.maxPixels as TOO_MANY_PIXELS, naming its size and the limit", async () => {
    await rejectsWith(validateImage(photo, optionsWith({ limits: { maxPixels: 307199 } })), "TOO_MANY_PIXELS");
    await assert.rejects(validateImage(photo, optionsWith({ limits: { maxPixels: 307199 } })), (error: { details: Record<string, unknown>; message: string }) => {
      assert.deepEqual(error.details, { width: 640, height: 480, pixels: 307200, limit: 307199 });
      assert.match(error.message, /640x480 \(307200 pixels\), over the limit of 307199 pixels \(limits\.maxPixels\)/);
      return true;
    });
  });

  it("accepts an image of exactly limits.maxPixels pixels", async () => {
    const info = await validateImage(photo, optionsWith({ limits: { maxPixels: 307200 } }));

    assert.deepEqual([info.width, info.height], [640, 480]);
  });

  it("applies the pixel limit to an EXIF-rotated image too, at the limit and one over", async () => {
    const rotated = await sampleOriented(6);

    assert.equal((await validateImage(rotated, optionsWith({ limits: { maxPixels: 9600 } }))).width, 120);
    await rejectsWith(validateImage(rotated, optionsWith({ limits: { maxPixels: 9599 } })), "TOO_MANY_PIXELS");
  });

  it("accepts an upload of exactly limits.maxBytes and rejects one byte more, naming both", async () => {
    assert.equal((await validateImage(photo, optionsWith({ limits: { maxBytes: photo.length } }))).bytes, photo.length);
    await assert.rejects(validateImage(photo, optionsWith({ limits: { maxBytes: photo.length - 1 } })), (error: { code: string; details: Record<string, unknown>; message: string }) => {
      assert.equal(error.code, "TOO_LARGE");
      assert.deepEqual(error.details, { bytes: photo.length, limit: photo.length - 1 });
      assert.match(error.message, new RegExp(`The upload is ${photo.length} bytes, over the limit of ${photo.length - 1} bytes`));
      return true;
    });
  });

  it("rejects SVG as UNSUPPORTED_FORMAT when svg is not in limits.formats", async () => {
    await rejectsWith(validateImage(sampleSvg(), optionsWith()), "UNSUPPORTED_FORMAT");
  });

  it("accepts SVG when svg is in limits.formats", async () => {
    const info = await validateImage(sampleSvg(200, 100), optionsWith({ limits: { formats: ["svg"] } }));

    assert.deepEqual([info.format, info.width, info.height], ["svg", 200, 100]);
  });

  it("rejects a format missing from limits.formats as UNSUPPORTED_FORMAT", async () => {
    const png = await sharp(photo).png().toBuffer();

    await rejectsWith(validateImage(png, optionsWith({ limits: { formats: ["jpeg"] } })), "UNSUPPORTED_FORMAT");
  });

  it("rejects a BMP, which this build cannot decode, as UNSUPPORTED_FORMAT", async () => {
    const bmp = Buffer.concat([Buffer.from("BM"), Buffer.alloc(60)]);

    await rejectsWith(validateImage(bmp, optionsWith()), "UNSUPPORTED_FORMAT");
  });

  it("counts the frames of an animated GIF", async () => {
    const info = await validateImage(await sampleAnimated("gif", 3), optionsWith());

    assert.deepEqual([info.format, info.frames], ["gif", 3]);
  });

  it("rejects more frames than limits.maxFrames as TOO_MANY_FRAMES", async () => {
    await rejectsWith(validateImage(await sampleAnimated("gif", 3), optionsWith({ limits: { maxFrames: 2 } })), "TOO_MANY_FRAMES");
  });

  it("accepts exactly limits.maxFrames frames", async () => {
    const info = await validateImage(await sampleAnimated("gif", 3), optionsWith({ limits: { maxFrames: 3 } }));

    assert.equal(info.frames, 3);
  });

  it("keeps a still image when animated is reject, and animations when it is first-frame", async () => {
    assert.equal((await validateImage(photo, optionsWith({ animated: "reject" }))).frames, 1);
    assert.equal((await validateImage(await sampleAnimated("webp", 2), optionsWith({ animated: "first-frame" }))).frames, 2);
  });

  it("tells a multi-page TIFF from an animation: pages are not frames of an animation", async () => {
    const page = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();
    const tiff = await sharp([page, page], { join: { animated: true } }).tiff().toBuffer();

    const info = await validateImage(tiff, optionsWith({ animated: "reject" }));

    assert.deepEqual([info.format, info.frames], ["tiff", 2]);
  });

  it("rejects any animation as TOO_MANY_FRAMES when animated is reject", async () => {
    await rejectsWith(validateImage(await sampleAnimated("webp", 2), optionsWith({ animated: "reject" })), "TOO_MANY_FRAMES");
  });

  it("lets a truncated JPEG through, because it reads only the header", async () => {
    const info = await validateImage(sampleTruncated(photo), optionsWith());

    assert.equal(info.format, "jpeg");
  });

  it("lets a JPEG with damaged pixel data through, for Resize to reject", async () => {
    const info = await validateImage(sampleCorruptJpeg(photo), optionsWith());

    assert.equal(info.width, 640);
  });

  it("marks every rejection permanent, so the workflow does not retry it", async () => {
    await assert.rejects(validateImage(sampleRandomBytes(), optionsWith()), (error: { permanent: boolean }) => error.permanent === true);
  });
});
