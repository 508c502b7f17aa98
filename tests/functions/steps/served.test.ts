import * as assert from "node:assert/strict";
import { negotiableFormats } from "../../../functions/steps/served";
import type { ManifestEntry } from "../../../functions/steps/types";

const entry = (key: string, format: string): ManifestEntry =>
  ({ key, name: key.slice(key.lastIndexOf("/") + 1).split(".")[0], kind: "rendition", format, slot: format, chosen: "smallest", width: 10, height: 10, bytes: 10, savedBytes: 0, contentType: `image/${format}` }) as ManifestEntry;

describe("negotiableFormats", () => {
  const outputs = [
    entry("u/cat.jpg/thumb.avif", "avif"),
    entry("u/cat.jpg/thumb.webp", "webp"),
    entry("u/cat.jpg/thumb.jpg", "jpeg"),
    entry("u/cat.jpg/large.webp", "webp"),
    entry("u/cat.jpg/large.jpg", "jpeg"),
    entry("u/cat.jpg/medium.jpg", "jpeg"),
  ];

  it("lists the formats stored beside a JPEG output, best first", () => {
    assert.equal(negotiableFormats({ outputs }, "u/cat.jpg/thumb.jpg"), "avif-webp");
    assert.equal(negotiableFormats({ outputs }, "u/cat.jpg/large.jpg"), "webp");
  });

  it("gives nothing for a JPEG stored alone, or for a file that is not a JPEG", () => {
    assert.equal(negotiableFormats({ outputs }, "u/cat.jpg/medium.jpg"), undefined);
    assert.equal(negotiableFormats({ outputs }, "u/cat.jpg/thumb.webp"), undefined);
  });

  it("does not take the upload's own extension for the rendition's", () => {
    // The upload key ends in .jpg too; only the rendition file's stem counts.
    assert.equal(negotiableFormats({ outputs: [entry("u/cat.jpg/a.webp", "webp")] }, "u/cat.jpg"), undefined);
  });
});
