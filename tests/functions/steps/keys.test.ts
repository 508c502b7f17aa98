import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import path from "node:path";
import { WORK_PREFIX } from "../../../functions/aws/contract";
import { manifestKey, outputKey, outputPrefix, sourceKeyOf } from "../../../functions/steps";
import { seededRandom } from "../../../local/sampleImages";

/** Seeded (mulberry32), so a failing key can be reproduced from the seed. */
const random = seededRandom;

/** Pieces that hostile and unlucky keys are made of: dots, empty segments, escapes, unicode, percent signs, the work area. */
const PIECES = ["", ".", "..", "...", "!", "!!", ".!", "work", "Work", "cat", "cat.jpg", "cat.png", ".jpg", "..jpg", "%", "%2F", "%2e%2e", " ", "é", "日本語", "😀", "a b", "~", "+", "sha256-", "manifest.json", "thumb.webp"];

function generatedKey(next: () => number): string {
  const segments = 1 + Math.floor(next() * 5);
  const parts: string[] = [];
  for (let s = 0; s < segments; s++) {
    const pieces = Math.floor(next() * 3);
    let segment = "";
    for (let p = 0; p < pieces; p++) segment += PIECES[Math.floor(next() * PIECES.length)];
    parts.push(segment);
  }
  return parts.join("/");
}

/** Every distinct key a test set holds, each with its prefix. */
function prefixesOf(keys: Iterable<string>): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const key of keys) byKey.set(key, outputPrefix(key));
  return byKey;
}

const bytes = (text: string) => Buffer.byteLength(text, "utf8");
/** The longest output file name the keys leave room for: 63 bytes. */
const LONGEST_NAME = "r".repeat(58);

/** What both stores require of an output key, and what keeps it inside the renditions area. */
function assertValidOutputKey(key: string, sourceKey: string): void {
  const why = `output key ${JSON.stringify(key)} of ${JSON.stringify(sourceKey)}`;
  const segments = key.split("/");
  assert.ok(bytes(key) <= 1024, `${why}: at most 1,024 UTF-8 bytes (S3)`);
  assert.ok(key.length <= 1024, `${why}: at most 1,024 characters (Azure)`);
  assert.ok(segments.length <= 254, `${why}: at most 254 segments (Azure)`);
  for (const segment of segments) {
    assert.notEqual(segment, "", `${why}: no empty segment`);
    assert.ok(!segment.endsWith("."), `${why}: no segment ends with a dot (Azure), so none is "." or ".."`);
  }
  assert.ok(!key.startsWith(WORK_PREFIX), `${why}: never in the work area`);
  assert.equal(path.posix.join("renditions", key), `renditions/${key}`, `${why}: resolving it changes nothing`);
}

describe("output prefixes", () => {
  describe("examples", () => {
    const cases: Array<[string, string]> = [
      ["photos/cat.jpg", "photos/cat.jpg"],
      ["photos/cat.png", "photos/cat.png"],
      ["photos/cat", "photos/cat"],
      [".jpg", ".jpg"],
      ["..jpg", "..jpg"],
      ["...", "...!"],
      [".", ".!"],
      ["..", "..!"],
      ["../manifest.json", "..!/manifest.json"],
      ["/a.jpg", "!/a.jpg"],
      ["a//b.png", "a/!/b.png"],
      ["photos/", "photos/!"],
      ["cat.", "cat.!"],
      ["wow!", "wow!!"],
      ["work/x.jpg", "work!/x.jpg"],
      ["a/work/x.jpg", "a/work/x.jpg"],
      ["100% café/😀.gif", "100% café/😀.gif"],
    ];
    for (const [key, prefix] of cases) {
      it(`${JSON.stringify(key)} → ${JSON.stringify(prefix)}, and back`, () => {
        assert.equal(outputPrefix(key), prefix);
        assert.equal(sourceKeyOf(prefix), key);
      });
    }

    it("names the outputs and the manifest under the prefix", () => {
      assert.equal(outputKey("..jpg", "rendition", "thumb", "webp"), "..jpg/thumb.webp");
      assert.equal(outputKey("...", "effect", "blur", "jpg"), "...!/effect-blur.jpg");
      assert.equal(manifestKey("../cat.jpg"), "..!/cat.jpg/manifest.json");
    });
  });

  describe("properties over generated keys", () => {
    const next = random(20241129);
    const keys = new Set<string>(PIECES);
    while (keys.size < 5000) keys.add(generatedKey(next));
    const prefixes = prefixesOf(keys);

    it("are one-to-one: distinct keys never share a prefix", () => {
      const owners = new Map<string, string>();
      for (const [key, prefix] of prefixes) {
        const owner = owners.get(prefix);
        assert.equal(owner, undefined, `${JSON.stringify(key)} and ${JSON.stringify(owner)} share ${JSON.stringify(prefix)}`);
        owners.set(prefix, key);
      }
      assert.equal(owners.size, 5000);
    });

    it("are reversible", () => {
      for (const [key, prefix] of prefixes) assert.equal(sourceKeyOf(prefix), key);
    });

    it("give output keys valid on both stores, inside the renditions area", () => {
      for (const [key] of prefixes) {
        assertValidOutputKey(outputKey(key, "rendition", LONGEST_NAME, "webp"), key);
        assertValidOutputKey(manifestKey(key), key);
      }
    });

    it("never give two uploads the same output key, even for uploads named like another's outputs", () => {
      const owners = new Map<string, string>();
      for (const [key] of prefixes) {
        for (const output of [manifestKey(key), outputKey(key, "rendition", "thumb", "webp"), outputKey(key, "effect", "blur", "jpg")]) {
          assert.equal(owners.get(output), undefined, `${JSON.stringify(key)} and ${JSON.stringify(owners.get(output))} both write ${JSON.stringify(output)}`);
          owners.set(output, key);
        }
      }
    });
  });

  describe("keys at the stores' limits", () => {
    // 1,024-byte keys of 1-, 2-, 3- and 4-byte characters, and variants that differ only at the end.
    const atLimit = ["a", "é", "日", "😀"].flatMap((char) => {
      const body = char.repeat(Math.floor(1020 / bytes(char)));
      return ["x", "y", "/", ".", "!"].map((end) => `${body}${end}`);
    });
    const deep = ["a/".repeat(253) + "b.jpg", "a/".repeat(253) + "c.jpg", "a/".repeat(252) + "b.jpg", "/".repeat(253)];
    const around = ["p".repeat(960), "p".repeat(961), "p".repeat(959) + ".", `photos/${"q".repeat(1016)}`];
    const keys = [...atLimit, ...deep, ...around];

    it("are within the limits they test", () => {
      for (const key of keys) assert.ok(bytes(key) <= 1024 && key.split("/").length <= 254, key.slice(0, 20));
    });

    it("still give distinct, valid output keys", () => {
      const prefixes = prefixesOf(keys);
      assert.equal(new Set(prefixes.values()).size, keys.length);
      for (const [key] of prefixes) {
        assertValidOutputKey(outputKey(key, "rendition", LONGEST_NAME, "webp"), key);
        assertValidOutputKey(manifestKey(key), key);
      }
    });

    it("keep a 960-byte prefix as it is and end a longer one with the key's SHA-256", () => {
      assert.equal(outputPrefix("p".repeat(960)), "p".repeat(960));
      assert.equal(outputPrefix("p".repeat(959) + "."), `sha256-${hexOf("p".repeat(959) + ".")}!`);
      assert.equal(sourceKeyOf(outputPrefix("p".repeat(961))), undefined, "a long key's prefix names no key: its manifest does");
    });

    it("count a prefix's bytes as JSON writes it, so control characters, quotes and backslashes cannot swell the workflow's state", () => {
      // 300 control characters: 300 bytes of key, 1,800 in JSON (\u0001 each).
      const controls = "\u0001".repeat(300);
      assert.equal(outputPrefix(`a/${controls}.jpg`), `a/sha256-${hexOf(`a/${controls}.jpg`)}!`);
      // 480 quotes: 960 bytes in JSON, still fits; one more character does not.
      assert.equal(outputPrefix('"'.repeat(480)), '"'.repeat(480));
      assert.equal(outputPrefix('"'.repeat(480) + "x"), `sha256-${hexOf('"'.repeat(480) + "x")}!`);
      for (const key of [controls, '\\'.repeat(700), `photos/${"\t".repeat(500)}/cat.jpg`]) {
        assert.ok(Buffer.byteLength(JSON.stringify(outputPrefix(key))) - 2 <= 960, JSON.stringify(key).slice(0, 40));
      }
    });

    it("keep the leading folders of a long key readable", () => {
      const prefix = outputPrefix(`photos/2024/${"q".repeat(1000)}.jpg`);
      assert.match(prefix, /^photos\/2024\/sha256-[0-9a-f]{64}!$/);
    });

    it("give a key of 254 segments a prefix of at most 253", () => {
      assert.equal(outputPrefix("a/".repeat(253) + "b.jpg").split("/").length, 253);
      assert.equal(outputPrefix("a/".repeat(252) + "b.jpg"), "a/".repeat(252) + "b.jpg", "253 segments stay as they are");
    });
  });

  it("keep the AWS work area at work/, the first segment the prefixes escape", () => {
    assert.equal(WORK_PREFIX, "work/");
  });
});

/** SHA-256 in hex, computed here rather than by the code under test. */
function hexOf(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
