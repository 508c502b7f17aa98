import assert from "node:assert/strict";
import { negotiatedKeys, renditionsRoute } from "../../../local/serve/renditions";
import { memoryPorts } from "../../../local/memoryPorts";

describe("local/serve/renditions", () => {
  describe("negotiatedKeys", () => {
    it("tries AVIF, then WebP, then the JPEG asked for, as the browser accepts them", () => {
      assert.deepEqual(negotiatedKeys("p/a.jpg/thumb.jpg", "image/avif,image/webp,*/*"), ["p/a.jpg/thumb.avif", "p/a.jpg/thumb.webp", "p/a.jpg/thumb.jpg"]);
      assert.deepEqual(negotiatedKeys("p/a.jpg/thumb.jpeg", "image/webp"), ["p/a.jpg/thumb.webp", "p/a.jpg/thumb.jpeg"]);
      assert.deepEqual(negotiatedKeys("p/a.jpg/thumb.jpg", "*/*"), ["p/a.jpg/thumb.jpg"]);
      assert.deepEqual(negotiatedKeys("p/a.jpg/thumb.jpg", undefined), ["p/a.jpg/thumb.jpg"]);
    });

    it("skips a type listed with q=0 and leaves other requests alone", () => {
      assert.deepEqual(negotiatedKeys("p/thumb.jpg", "image/avif;q=0, image/webp;q=0.8"), ["p/thumb.webp", "p/thumb.jpg"]);
      assert.deepEqual(negotiatedKeys("p/thumb.webp", "image/avif"), ["p/thumb.webp"]);
      assert.deepEqual(negotiatedKeys("p/manifest.json", "image/avif"), ["p/manifest.json"]);
    });
  });

  describe("renditionsRoute", () => {
    it("serves the best existing format with the CDN's caching and Vary: Accept", async () => {
      const ports = memoryPorts();
      await ports.objects.put("renditions", "p/thumb.jpg", Buffer.from("jpeg"), "image/jpeg");
      await ports.objects.put("renditions", "p/thumb.webp", Buffer.from("webp"), "image/webp");
      const app = renditionsRoute(ports.objects);

      const avifWanted = await app.request("/p/thumb.jpg", { headers: { accept: "image/avif,image/webp" } });
      const jpegOnly = await app.request("/p/thumb.jpg", { headers: { accept: "image/jpeg" } });

      assert.equal(avifWanted.status, 200);
      assert.equal(avifWanted.headers.get("content-type"), "image/webp");
      assert.equal(await avifWanted.text(), "webp");
      assert.equal(avifWanted.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.equal(avifWanted.headers.get("vary"), "Accept");
      assert.equal(await jpegOnly.text(), "jpeg");
    });

    it("answers 404 for a missing rendition and for anything under work/", async () => {
      const ports = memoryPorts();
      await ports.objects.put("renditions", "work/job/rendition-thumb.png", Buffer.from("intermediate"), "image/png");
      const app = renditionsRoute(ports.objects);

      assert.equal((await app.request("/p/none.jpg")).status, 404);
      assert.equal((await app.request("/work/job/rendition-thumb.png")).status, 404);
    });
  });
});
