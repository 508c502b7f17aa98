import assert from "node:assert/strict";
import sharp from "sharp";
import { DECODABLE_INPUT_FORMATS, defaultProcessingOptions, INPUT_FORMATS, parseRenditionText, processingOptionsSchema, type InputFormat } from "../../../functions/core/options";

/** Whether the sharp bundled here decodes `format` from a Buffer, by sharp's own account. */
function sharpDecodes(format: InputFormat): boolean {
  // sharp names AVIF and HEIC both "heif"; the file suffixes it reads say which codecs its libheif has.
  const heif = sharp.format.heif.input;
  switch (format) {
    case "avif":
      return heif.buffer && (heif.fileSuffix ?? []).includes(".avif");
    case "heif":
      return heif.buffer && (heif.fileSuffix ?? []).includes(".heic");
    default:
      return sharp.format[format].input.buffer;
  }
}

describe("processing options", () => {
  it("list as decodable exactly the input formats the bundled sharp decodes", () => {
    assert.deepEqual(INPUT_FORMATS.filter(sharpDecodes), [...DECODABLE_INPUT_FORMATS]);
    assert.deepEqual([...DECODABLE_INPUT_FORMATS], ["jpeg", "png", "webp", "avif", "gif", "tiff", "svg"]);
  });

  it("refuse an input format sharp cannot decode, even where the options are parsed inside a function", () => {
    const parsed = processingOptionsSchema.safeParse({ limits: { formats: ["jpeg", "jp2"] } });

    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues.map((issue) => issue.path), [["limits", "formats", 1]]);
  });

  it("refuse unknown keys, so an option is never silently dropped", () => {
    const parsed = processingOptionsSchema.safeParse({ quality: { jpg: 90 } });

    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues.map((issue) => [issue.code, issue.path]), [["unrecognized_keys", ["quality"]]]);
  });

  it("still read their own parsed form, renditions as objects", () => {
    const parsed = processingOptionsSchema.parse({ renditions: ["thumb:320"] });

    assert.deepEqual(processingOptionsSchema.parse(JSON.parse(JSON.stringify(parsed))), parsed);
  });

  /** Each issue as "path: message" (all of them custom checks), or an empty list when the options parse. */
  function problems(input: unknown): string[] {
    const parsed = processingOptionsSchema.safeParse(input);
    if (parsed.success) return [];
    assert.deepEqual(new Set(parsed.error.issues.map((issue) => issue.code)), new Set(["custom"]));
    return parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  }

  it("refuse an entry listed twice in any list, naming it at its second place", () => {
    assert.deepEqual(problems({ formats: ["webp", "webp"] }), ['formats.1: "webp" is listed twice; list each once']);
    assert.deepEqual(problems({ formats: ["jpeg", "webp", "jpeg"], filters: ["blur", "blur"], placeholders: ["color", "thumbhash", "color"], limits: { formats: ["png", "png"] } }), [
      'formats.2: "jpeg" is listed twice; list each once',
      'filters.1: "blur" is listed twice; list each once',
      'limits.formats.1: "png" is listed twice; list each once',
      'placeholders.2: "color" is listed twice; list each once',
    ]);
    assert.deepEqual(problems({ formats: ["jpeg", "webp", "avif"], filters: ["blur", "sepia"], placeholders: ["color", "blurhash"], limits: { formats: ["png", "jpeg"] } }), []);
  });

  it("refuse two renditions of the same name", () => {
    assert.deepEqual(problems({ renditions: ["thumb:320", "thumb:640"] }), ['renditions: rendition names must be unique; "thumb" appears twice']);
    assert.deepEqual(problems({ renditions: ["thumb:320", "medium:640"] }), []);
  });

  it("say why JPEG 2000 is refused and what to do instead", () => {
    assert.deepEqual(problems({ limits: { formats: ["png", "jp2"] } }), [
      'limits.formats.1: the bundled sharp cannot decode JPEG 2000 (its prebuilt libvips has no OpenJPEG); remove "jp2" and convert such images to PNG or TIFF before uploading',
    ]);
    assert.deepEqual(problems({ limits: { formats: ["heif", "svg"] } }), [], "HEIC (decoded by libheif) and SVG are accepted");
  });

  it("give a rendition that needs a height, or a position without cover, an example that would work", () => {
    assert.deepEqual(problems({ renditions: ["box:300:contain"] }), ['renditions.0.height: fit "contain" needs a height, e.g. "box:300x300:contain"']);
    assert.deepEqual(problems({ renditions: ["thumb:320:inside:attention"] }), [
      'renditions.0.position: position "attention" chooses what a cover crop keeps; it needs fit "cover", e.g. "thumb:320x320:cover:attention"',
    ]);
    assert.deepEqual(problems({ renditions: [{ name: "card", width: 600, height: 400, position: "entropy" }] }), [
      'renditions.0.position: position "entropy" chooses what a cover crop keeps; it needs fit "cover", e.g. "card:600x400:cover:entropy"',
    ]);
    assert.deepEqual(problems({ renditions: ["card:600x400:contain", "crop:600x400:cover:entropy", { name: "plain", width: 100, position: "centre" }] }), []);
  });

  it("read the short form, trimmed, with only the parts given", () => {
    assert.deepEqual(parseRenditionText(" thumb:320 "), { name: "thumb", width: 320 });
    assert.deepEqual(parseRenditionText("card:600x400"), { name: "card", width: 600, height: 400 });
    assert.deepEqual(parseRenditionText("card:600x400:cover:attention"), { name: "card", width: 600, height: 400, fit: "cover", position: "attention" });
    assert.deepEqual(parseRenditionText("box:300x200:contain"), { name: "box", width: 300, height: 200, fit: "contain" });
    assert.deepEqual(parseRenditionText("thumb:320x"), { name: "thumb:320x", width: undefined, form: "invalid" });
    assert.deepEqual(processingOptionsSchema.parse({ renditions: [" thumb:320 "] }).renditions, [{ name: "thumb", width: 320, fit: "inside", position: "centre" }]);
  });

  it("default to three renditions as WebP and JPEG, a placeholder, and the documented limits", () => {
    assert.deepEqual(defaultProcessingOptions(), {
      renditions: [
        { name: "thumb", width: 320, fit: "inside", position: "centre" },
        { name: "medium", width: 1024, fit: "inside", position: "centre" },
        { name: "large", width: 2048, fit: "inside", position: "centre" },
      ],
      filters: ["placeholder"],
      filterWidth: 1024,
      formats: ["webp", "jpeg"],
      quality: { jpeg: 80, webp: 80, avif: 50 },
      avifEffort: 2,
      webpEffort: 4,
      keepMetadata: "none",
      limits: { maxBytes: 52428800, maxPixels: 100000000, maxFrames: 100, maxAnimatedPixels: 100000000, formats: ["jpeg", "png", "webp", "avif", "gif", "tiff", "heif"] },
      animated: "first-frame",
      placeholders: [],
      optimize: { keepLarger: false, jpegScanSearch: false, jpegTrellis: true },
      markup: false,
      sizes: "100vw",
    });
  });
});
