import * as assert from "node:assert/strict";
import { apiAuthMode, cdnEnabled, configFromStackValues, loadConfig } from "../../components/config";
import { isPipelineError } from "../../functions/core/errors";

const refusedWith = (pattern: RegExp) => (error: unknown) => isPipelineError(error) && error.code === "CONFIG_INVALID" && pattern.test(error.message);

describe("the delivery config block", () => {
  it("has these defaults", () => {
    assert.deepEqual(loadConfig({}).delivery, { priceClass: "PriceClass_100", maxAgeSeconds: 31536000, frontDoorTier: "Standard", corsOrigins: [], rateLimit: 50, burstLimit: 100 });
  });

  it("puts a CDN in front of renditions by default on AWS and not on Azure (Front Door's base fee)", () => {
    assert.equal(cdnEnabled(loadConfig({ cloud: "aws" })), true);
    assert.equal(cdnEnabled(loadConfig({ cloud: "azure" })), false);
  });

  it("follows an explicit cdn setting on either cloud", () => {
    assert.equal(cdnEnabled(loadConfig({ cloud: "aws", delivery: { cdn: false } })), false);
    assert.equal(cdnEnabled(loadConfig({ cloud: "azure", delivery: { cdn: true } })), true);
  });

  it("reads the block as `pulumi config set --path` stores it", () => {
    const config = configFromStackValues({ "image-pipeline:delivery": '{"cdn":true,"corsOrigins":["https://gallery.example.com"],"rateLimit":20}' });
    assert.equal(config.delivery.cdn, true);
    assert.deepEqual(config.delivery.corsOrigins, ["https://gallery.example.com"]);
    assert.equal(config.delivery.rateLimit, 20);
  });

  it("takes https origins and http only for loopback pages", () => {
    assert.deepEqual(loadConfig({ delivery: { corsOrigins: ["https://a.example.com", "https://b.example.com:8443", "http://127.0.0.1:3000", "http://localhost:5173"] } }).delivery.corsOrigins.length, 4);
  });

  it("refuses an origin with a path, a wildcard, or plain http, naming the entry", () => {
    assert.throws(() => loadConfig({ delivery: { corsOrigins: ["https://a.example.com/app"] } }), refusedWith(/image-pipeline:delivery\.corsOrigins\[0\]: must be an origin/));
    assert.throws(() => loadConfig({ delivery: { corsOrigins: ["*"] } }), refusedWith(/image-pipeline:delivery\.corsOrigins\[0\]/));
    assert.throws(() => loadConfig({ delivery: { corsOrigins: ["https://ok.example.com", "http://gallery.example.com"] } }), refusedWith(/image-pipeline:delivery\.corsOrigins\[1\]/));
  });

  it("refuses a certificate outside us-east-1, which CloudFront cannot use", () => {
    assert.throws(
      () => loadConfig({ delivery: { domain: "img.example.com", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666" } }),
      refusedWith(/image-pipeline:delivery\.certificateArn: must be an ACM certificate ARN in us-east-1/),
    );
    assert.equal(
      loadConfig({ delivery: { domain: "img.example.com", certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666" } }).delivery.certificateArn,
      "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666",
    );
  });

  it("refuses a custom domain on AWS without its certificate, and a certificate without a domain", () => {
    assert.throws(() => loadConfig({ cloud: "aws", delivery: { domain: "img.example.com" } }), refusedWith(/image-pipeline:delivery\.certificateArn: is needed for the domain "img\.example\.com": an ACM certificate for it, issued in us-east-1\./));
    assert.throws(
      () => loadConfig({ delivery: { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666" } }),
      refusedWith(/image-pipeline:delivery\.domain: is needed with certificateArn/),
    );
    assert.equal(loadConfig({ cloud: "azure", delivery: { domain: "img.example.com" } }).delivery.domain, "img.example.com");
  });

  it("refuses a misspelt key with the closest one", () => {
    assert.throws(() => loadConfig({ delivery: { corsOrigin: ["https://a.example.com"] } }), refusedWith(/image-pipeline:delivery\.corsOrigin: unknown key; did you mean "image-pipeline:delivery\.corsOrigins"\?/));
  });

  it("refuses an unknown price class or tier", () => {
    assert.throws(() => loadConfig({ delivery: { priceClass: "PriceClass_50" } }), refusedWith(/image-pipeline:delivery\.priceClass/));
    assert.throws(() => loadConfig({ delivery: { frontDoorTier: "Classic" } }), refusedWith(/image-pipeline:delivery\.frontDoorTier/));
  });
});

describe("the API auth mode the stack is tagged with", () => {
  it("is none without an api block, or with auth none", () => {
    assert.equal(apiAuthMode({}), "none");
    assert.equal(apiAuthMode({ api: { auth: "none" } }), "none");
  });

  it("is jwt when auth is a jwt object", () => {
    assert.equal(apiAuthMode({ api: { auth: { jwt: { issuer: "https://issuer.example.com/" } } } }), "jwt");
  });
});
