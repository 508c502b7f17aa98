import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
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

describe("validateImage's messages, as users read them", () => {
  /** The code, message and details of the rejection. */
  async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
    let caught: { code: string; message: string; details: Record<string, unknown> } | undefined;
    await assert.rejects(promise, (error: { code: string; message: string; details: Record<string, unknown> }) => ((caught = error), true));
    return { code: caught!.code, message: caught!.message, details: caught!.details };
  }

  it("an empty or too large upload", async () => {
    assert.deepEqual(await rejection(validateImage(Buffer.alloc(0), optionsWith())), {
      code: "EMPTY_INPUT",
      message: "The upload is empty (0 bytes); upload the image file again.",
      details: { bytes: 0 },
    });
    assert.deepEqual(await rejection(validateImage(Buffer.alloc(11, 1), optionsWith({ limits: { maxBytes: 10 } }))), {
      code: "TOO_LARGE",
      message: "The upload is 11 bytes, over the limit of 10 bytes (limits.maxBytes); upload a smaller file or raise the limit.",
      details: { bytes: 11, limit: 10 },
    });
  });

  it("an SVG, a HEIC or a BMP that is not accepted", async () => {
    const heic = readFileSync(path.join(__dirname, "..", "..", "fixtures", "heic", "irot-p3.heic"));
    const bmp = Buffer.concat([Buffer.from("BM"), Buffer.alloc(60)]);
    const options = optionsWith({ limits: { formats: ["jpeg", "png"] } });

    assert.deepEqual(await rejection(validateImage(sampleSvg(), options)), {
      code: "UNSUPPORTED_FORMAT",
      message: 'The upload is SVG, which is not accepted (limits.formats: jpeg, png); rasterise it to PNG, or add "svg" to limits.formats if you trust its source.',
      details: { format: "svg", allowed: ["jpeg", "png"] },
    });
    assert.deepEqual(await rejection(validateImage(heic, options)), {
      code: "UNSUPPORTED_FORMAT",
      message: 'The upload is HEIC, which is not accepted (limits.formats: jpeg, png); convert it to JPEG, or add "heif" to limits.formats.',
      details: { format: "heif", allowed: ["jpeg", "png"] },
    });
    assert.deepEqual(await rejection(validateImage(bmp, options)), {
      code: "UNSUPPORTED_FORMAT",
      message: "The upload is BMP, which this pipeline cannot decode; convert it to JPEG, PNG, WebP or AVIF.",
      details: { format: "bmp", allowed: ["jpeg", "png"] },
    });
  });

  it("an AVIF, told apart from HEIC, accepted by default and named when it is not", async () => {
    const avif = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#336699" } }).avif().toBuffer();

    assert.deepEqual([(await validateImage(avif, optionsWith())).format], ["avif"]);
    assert.deepEqual(await rejection(validateImage(avif, optionsWith({ limits: { formats: ["jpeg", "heif"] } }))), {
      code: "UNSUPPORTED_FORMAT",
      message: "The upload is avif, which is not an accepted format (limits.formats: jpeg, heif); convert it to one of those.",
      details: { format: "avif", allowed: ["jpeg", "heif"] },
    });
  });

  it("bytes that are no image, naming the accepted formats", async () => {
    const { code, message } = await rejection(validateImage(sampleRandomBytes(), optionsWith({ limits: { formats: ["jpeg", "png"] } })));

    assert.equal(code, "CORRUPT_IMAGE");
    assert.equal(message, "The upload is not a recognisable image (no known format signature); it is damaged or not an image. Accepted formats: jpeg, png.");
  });

  it("too many frames, or any animation when animations are rejected", async () => {
    const gif = await sampleAnimated("gif", 3);

    assert.deepEqual(await rejection(validateImage(gif, optionsWith({ limits: { maxFrames: 2 } }))), {
      code: "TOO_MANY_FRAMES",
      message: "The image has 3 frames or pages, over the limit of 2 (limits.maxFrames); upload a shorter animation or a single image.",
      details: { frames: 3, limit: 2 },
    });
    assert.equal(
      (await rejection(validateImage(gif, optionsWith({ animated: "reject" })))).message,
      'The image is animated (3 frames) and animated images are rejected (animated: "reject"); upload a still image or set animated to "first-frame".',
    );
  });

  it("a decompression bomb, by the size its header claims", async () => {
    assert.deepEqual(await rejection(validateImage(sampleHugeHeaderPng(60000, 60000), optionsWith())), {
      code: "TOO_MANY_PIXELS",
      message: "The image is 60000x60000 (3600000000 pixels), over the limit of 100000000 pixels (limits.maxPixels); downscale it before uploading or raise the limit.",
      details: { width: 60000, height: 60000, pixels: 3600000000, limit: 100000000 },
    });
  });
});
