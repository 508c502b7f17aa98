import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import { negotiateFunctionCode } from "../../../components/aws/cdn";

// The CloudFront Function runs as the viewer-request handler; events follow
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
type CfRequest = { method: string; uri: string; querystring: Record<string, { value: string }>; headers: Record<string, { value: string }>; cookies: Record<string, { value: string }> };
type CfResult = CfRequest | { statusCode: number; statusDescription: string };

/** Loads a function source as CloudFront does (a script defining `handler`) and returns the handler. */
function load(source: string): (event: unknown) => CfResult {
  const handler = vm.runInNewContext(`${source}\n;handler`, {}) as (event: unknown) => CfResult;
  // Results are built in the script's own context: copy them into this one for deepEqual.
  return (e) => JSON.parse(JSON.stringify(handler(e))) as CfResult;
}

/** A viewer request; `stored` is the URL's `f` (the formats stored beside the JPEG), both by default, none when null. */
function event(uri: string, accept?: string, stored: string | null = "avif-webp") {
  return {
    version: "1.0",
    context: { eventType: "viewer-request" },
    viewer: { ip: "198.51.100.7" },
    request: { method: "GET", uri, querystring: { v: { value: "3f2a" }, ...(stored === null ? {} : { f: { value: stored } }) }, headers: accept === undefined ? {} : { accept: { value: accept } }, cookies: {} },
  };
}

const CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
const OLD_SAFARI = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
const OLD_BROWSER = "image/png,image/*;q=0.8,*/*;q=0.5";

describe("the format-negotiation CloudFront Function", () => {
  const uriOf = (result: CfResult) => (result as CfRequest).uri;

  describe("as written in the source file (all three formats)", () => {
    const handler = load(readFileSync(path.join(__dirname, "../../../functions/edge/negotiateFormat.js"), "utf8"));

    it("serves AVIF to a browser that lists image/avif", () => {
      assert.equal(uriOf(handler(event("/users/u1/cat.jpg/medium.jpg", CHROME))), "/users/u1/cat.jpg/medium.avif");
    });

    it("serves WebP to a browser that lists image/webp but not AVIF", () => {
      assert.equal(uriOf(handler(event("/users/u1/cat.jpg/medium.jpg", OLD_SAFARI))), "/users/u1/cat.jpg/medium.webp");
    });

    it("serves JPEG to a browser that only takes image/*, and to one that sends no Accept", () => {
      assert.equal(uriOf(handler(event("/users/u1/cat.jpg/medium.jpg", OLD_BROWSER))), "/users/u1/cat.jpg/medium.jpg");
      assert.equal(uriOf(handler(event("/users/u1/cat.jpg/medium.jpg"))), "/users/u1/cat.jpg/medium.jpg");
    });

    it("maps a .jpeg request to the .jpg the pipeline writes", () => {
      assert.equal(uriOf(handler(event("/p/dog.png/thumb.JPEG", OLD_BROWSER))), "/p/dog.png/thumb.jpg");
    });

    it("treats q=0 as a refusal", () => {
      assert.equal(uriOf(handler(event("/p/a.jpg/thumb.jpg", "image/avif;q=0,image/webp"))), "/p/a.jpg/thumb.webp");
      assert.equal(uriOf(handler(event("/p/a.jpg/thumb.jpg", "image/avif; q=0.0, image/webp;q=0"))), "/p/a.jpg/thumb.jpg");
    });

    it("leaves other files alone: a WebP asked for by name, the manifest, a top-level object", () => {
      assert.equal(uriOf(handler(event("/p/a.jpg/thumb.webp", CHROME))), "/p/a.jpg/thumb.webp");
      assert.equal(uriOf(handler(event("/p/a.jpg/manifest.json", CHROME))), "/p/a.jpg/manifest.json");
      assert.equal(uriOf(handler(event("/a.jpg", CHROME))), "/a.jpg");
    });

    it("only rewrites the last segment's extension, not the upload key's", () => {
      assert.equal(uriOf(handler(event("/users/u1/cat.jpeg/large.jpg", CHROME))), "/users/u1/cat.jpeg/large.avif");
    });

    it("answers 404 for the intermediates under /work/", () => {
      assert.deepEqual(handler(event("/work/0123abcd/rendition-thumb.raw", CHROME)), { statusCode: 404, statusDescription: "Not Found" });
      assert.deepEqual(handler(event("/work", CHROME)), { statusCode: 404, statusDescription: "Not Found" });
    });

    it("keeps the query string, so the cache key still carries the version", () => {
      const result = handler(event("/p/a.jpg/thumb.jpg", CHROME)) as CfRequest;
      assert.deepEqual(result.querystring, { v: { value: "3f2a" }, f: { value: "avif-webp" } });
    });

    it("rewrites only to a format the URL's f lists as stored beside the JPEG (Optimize may have left one out)", () => {
      assert.equal(uriOf(handler(event("/p/a.jpg/large.jpg", CHROME, "avif"))), "/p/a.jpg/large.avif");
      assert.equal(uriOf(handler(event("/p/a.jpg/large.jpg", CHROME, "webp"))), "/p/a.jpg/large.webp");
      assert.equal(uriOf(handler(event("/p/a.jpg/large.jpg", OLD_SAFARI, "avif"))), "/p/a.jpg/large.jpg");
      assert.equal(uriOf(handler(event("/p/a.jpg/large.jpg", CHROME, "WEBP"))), "/p/a.jpg/large.webp");
    });

    it("serves the JPEG as asked when the URL has no f, or lists nothing the stack writes", () => {
      assert.equal(uriOf(handler(event("/p/a.jpg/large.jpg", CHROME, null))), "/p/a.jpg/large.jpg");
      assert.equal(uriOf(handler(event("/p/a.jpg/large.jpg", CHROME, "jxl"))), "/p/a.jpg/large.jpg");
    });
  });

  describe("as deployed for a stack's formats", () => {
    it("never rewrites to AVIF when the stack writes WebP and JPEG only", () => {
      const handler = load(negotiateFunctionCode(["webp", "jpeg"]));
      assert.equal(uriOf(handler(event("/p/a.jpg/thumb.jpg", CHROME))), "/p/a.jpg/thumb.webp");
    });

    it("serves JPEG to every browser when the stack writes JPEG only", () => {
      const handler = load(negotiateFunctionCode(["jpeg"]));
      assert.equal(uriOf(handler(event("/p/a.jpg/thumb.jpg", CHROME))), "/p/a.jpg/thumb.jpg");
    });

    it("leaves a .jpg request as is when the stack writes no JPEG and the browser takes neither AVIF nor WebP", () => {
      const handler = load(negotiateFunctionCode(["avif", "webp"]));
      assert.equal(uriOf(handler(event("/p/a.jpg/thumb.jpg", OLD_BROWSER))), "/p/a.jpg/thumb.jpg");
      assert.equal(uriOf(handler(event("/p/a.jpg/thumb.jpg", CHROME))), "/p/a.jpg/thumb.avif");
    });

    it("writes the extensions best first, whatever the config's order", () => {
      assert.match(negotiateFunctionCode(["jpeg", "webp", "avif"]), /^var FORMATS = \["avif","webp","jpg"\];$/m);
    });

    // Function size quota: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-functions
    it("stays within CloudFront Functions' 10 KB code size", () => {
      assert.ok(Buffer.byteLength(negotiateFunctionCode(["avif", "webp", "jpeg"])) < 10 * 1024);
    });
  });
});
