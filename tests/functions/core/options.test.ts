import assert from "node:assert/strict";
import sharp from "sharp";
import { DECODABLE_INPUT_FORMATS, INPUT_FORMATS, processingOptionsSchema, type InputFormat } from "../../../functions/core/options";

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
});
