import assert from "node:assert/strict";
import { readRights } from "../../../functions/core/exif";

/** A TIFF-structured EXIF block with one IFD0 entry per tag (ASCII values), as cameras write it. */
function exifBlock(entries: { tag: number; type?: number; text: string }[], { little = true, prefix = true, magic = 42 } = {}): Buffer {
  const values = entries.map((e) => Buffer.from(`${e.text}\0`, "latin1"));
  const ifdSize = 2 + entries.length * 12 + 4;
  const tiff = Buffer.alloc(8 + ifdSize + values.reduce((sum, v) => sum + v.length, 0));
  const u16 = (value: number, at: number) => (little ? tiff.writeUInt16LE(value, at) : tiff.writeUInt16BE(value, at));
  const u32 = (value: number, at: number) => (little ? tiff.writeUInt32LE(value, at) : tiff.writeUInt32BE(value, at));
  tiff.write(little ? "II" : "MM", 0, "latin1");
  u16(magic, 2);
  u32(8, 4);
  u16(entries.length, 8);
  let data = 8 + ifdSize;
  entries.forEach((entry, i) => {
    const at = 10 + i * 12;
    const value = values[i]!;
    u16(entry.tag, at);
    u16(entry.type ?? 2, at + 2);
    u32(value.length, at + 4);
    if (value.length <= 4) value.copy(tiff, at + 8);
    else {
      u32(data, at + 8);
      value.copy(tiff, data);
      data += value.length;
    }
  });
  return prefix ? Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]) : tiff;
}

const ARTIST = 0x013b;
const COPYRIGHT = 0x8298;

describe("readRights", () => {
  it("reads Copyright and Artist in either byte order, with or without the Exif prefix", () => {
    const entries = [
      { tag: ARTIST, text: "A. Artist" },
      { tag: COPYRIGHT, text: "(c) 2026 Owner" },
    ];

    for (const options of [{ little: true }, { little: false }, { prefix: false }]) {
      assert.deepEqual(readRights(exifBlock(entries, options)), { artist: "A. Artist", copyright: "(c) 2026 Owner" }, JSON.stringify(options));
    }
  });

  it("reads a value short enough to sit in the entry itself", () => {
    assert.deepEqual(readRights(exifBlock([{ tag: ARTIST, text: "Bo" }, { tag: 0x010f, text: "Make of the camera" }])), { artist: "Bo" });
  });

  it("joins the photographer and editor parts of a Copyright, trimmed", () => {
    assert.deepEqual(readRights(exifBlock([{ tag: COPYRIGHT, text: " Photographer \0 Editor " }])), { copyright: "Photographer; Editor" });
  });

  it("keeps at most 1024 characters", () => {
    assert.equal(readRights(exifBlock([{ tag: ARTIST, text: "x".repeat(2000) }])).artist?.length, 1024);
  });

  it("ignores other tags, other types and empty values", () => {
    assert.deepEqual(readRights(exifBlock([{ tag: 0x010f, text: "Camera make" }, { tag: ARTIST, type: 7, text: "undefined type" }, { tag: COPYRIGHT, text: " " }])), {});
  });

  it("returns nothing, without throwing, for blocks that are not EXIF or are cut short", () => {
    const good = exifBlock([{ tag: ARTIST, text: "A. Artist" }]);

    assert.deepEqual(readRights(undefined), {});
    assert.deepEqual(readRights(Buffer.alloc(13)), {});
    assert.deepEqual(readRights(exifBlock([{ tag: ARTIST, text: "A. Artist" }], { magic: 43 })), {});
    assert.deepEqual(readRights(Buffer.concat([Buffer.from("Exif\0\0XX"), good.subarray(8)])), {});
    assert.deepEqual(readRights(good.subarray(0, 30)), {}, "the entry is cut");
    assert.deepEqual(readRights(good.subarray(0, good.length - 4)), {}, "the value is cut");
  });
});
