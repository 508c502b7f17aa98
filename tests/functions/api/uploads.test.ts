import assert from "node:assert/strict";
import { ownerSegment } from "../../../functions/api/auth";
import { acceptedContentTypes, safeFileName, ticketKey, uploadKey } from "../../../functions/api/uploads";

describe("functions/api/uploads", () => {
  describe("safeFileName", () => {
    for (const [given, expected] of [
      ["cat.jpg", "cat.jpg"],
      ["../../etc/passwd", "passwd"],
      ["..\\..\\windows\\win.ini", "win.ini"],
      ["Ferien 2024/Strand.JPG", "Strand.JPG"],
      [".hidden.png", "hidden.png"],
      ["..", "upload"],
      ["", "upload"],
      ["a/b/", "b"],
      ["Café über.heic", "Cafe_uber.heic"],
      ["x<script>.png", "x_script_.png"],
    ] as const) {
      it(`"${given}" → "${expected}"`, () => {
        assert.equal(safeFileName(given), expected);
      });
    }

    it("cuts a long name to 100 characters, keeping its extension", () => {
      const name = safeFileName(`${"n".repeat(300)}.jpeg`);

      assert.equal(name.length, 100);
      assert.ok(name.endsWith("n.jpeg"));
    });
  });

  it("puts each caller's uploads under a hash of the subject, never the subject itself", () => {
    const key = uploadKey("user/../../admin", "0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11", "a.jpg");

    assert.match(key, /^users\/[0-9a-f]{32}\/0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11\/a\.jpg$/);
    assert.notEqual(ownerSegment("alice"), ownerSegment("bob"));
    assert.equal(ticketKey("alice", "id"), `api/uploads/${ownerSegment("alice")}/id.json`);
  });

  it("accepts the browser content types of the configured formats only", () => {
    assert.deepEqual(acceptedContentTypes(["jpeg", "png"]), ["image/jpeg", "image/png"]);
    assert.deepEqual(acceptedContentTypes(["heif"]), ["image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"]);
  });
});
