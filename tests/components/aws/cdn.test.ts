import * as assert from "node:assert/strict";
import { RenditionsCdn, renditionsBucketPolicy } from "../../../components/aws/cdn";
import { isPipelineError } from "../../../functions/core/errors";
import { outputValue, setupPulumiMocks, type PulumiMocks } from "../../helpers/pulumiMocks";

const T = {
  distribution: "aws:cloudfront/distribution:Distribution",
  fn: "aws:cloudfront/function:Function",
  cache: "aws:cloudfront/cachePolicy:CachePolicy",
  headers: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
  oac: "aws:cloudfront/originAccessControl:OriginAccessControl",
} as const;
const TAGS = { project: "image-pipeline", stack: "dev", "data-classification": "internal" };
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";

describe("RenditionsCdn", () => {
  let mocks: PulumiMocks;
  let plain: RenditionsCdn;
  let custom: RenditionsCdn;

  before(async () => {
    mocks = await setupPulumiMocks({ stack: "dev" });
    const base = { bucketRegionalDomainName: "ip-renditions.s3.eu-west-1.amazonaws.com", priceClass: "PriceClass_100" as const, maxAgeSeconds: 31536000, tags: TAGS };
    plain = new RenditionsCdn("ip-cdn", { ...base, formats: ["webp", "jpeg"] });
    custom = new RenditionsCdn("cx-cdn", { ...base, formats: ["avif", "webp", "jpeg"], priceClass: "PriceClass_All", maxAgeSeconds: 86400, domain: "img.example.com", certificateArn: CERT });
    await mocks.settle();
  });

  it("declares one origin access control, function, cache policy, headers policy and distribution each", () => {
    const mine = mocks.customResources().filter((r) => r.name.startsWith("ip-cdn"));
    assert.deepEqual(mine.map((r) => `${r.type} ${r.name}`).sort(), [`${T.oac} ip-cdn-oac`, `${T.fn} ip-cdn-negotiate`, `${T.cache} ip-cdn-cache`, `${T.headers} ip-cdn-headers`, `${T.distribution} ip-cdn`].sort());
  });

  it("signs every origin request with SigV4 (OAC for S3)", () => {
    const oac = mocks.get(T.oac, "ip-cdn-oac").inputs;
    assert.deepEqual([oac.originAccessControlOriginType, oac.signingBehavior, oac.signingProtocol], ["s3", "always", "sigv4"]);
  });

  it("reads the private bucket through that OAC, on its regional endpoint", () => {
    const { origins } = mocks.get(T.distribution, "ip-cdn").inputs;
    assert.deepEqual(origins, [{ originId: "renditions", domainName: "ip-renditions.s3.eu-west-1.amazonaws.com", originAccessControlId: mocks.get(T.oac, "ip-cdn-oac").id }]);
  });

  it("redirects HTTP to HTTPS, serves GET and HEAD only, and runs the negotiation function on viewer requests", () => {
    const behavior = mocks.get(T.distribution, "ip-cdn").inputs.defaultCacheBehavior;
    assert.equal(behavior.viewerProtocolPolicy, "redirect-to-https");
    assert.deepEqual(behavior.allowedMethods, ["GET", "HEAD"]);
    assert.deepEqual(behavior.functionAssociations, [{ eventType: "viewer-request", functionArn: mocks.get(T.fn, "ip-cdn-negotiate").state.arn }]);
    assert.equal(behavior.cachePolicyId, mocks.get(T.cache, "ip-cdn-cache").id);
    assert.equal(behavior.responseHeadersPolicyId, mocks.get(T.headers, "ip-cdn-headers").id);
  });

  it("publishes the function on the cloudfront-js-2.0 runtime with the stack's formats only", () => {
    const fn = mocks.get(T.fn, "ip-cdn-negotiate").inputs;
    assert.equal(fn.runtime, "cloudfront-js-2.0");
    assert.equal(fn.publish, true);
    assert.match(fn.code, /^var FORMATS = \["webp","jpg"\];$/m);
    assert.match(mocks.get(T.fn, "cx-cdn-negotiate").inputs.code, /^var FORMATS = \["avif","webp","jpg"\];$/m);
  });

  it("caches for the configured lifetime, keyed by the URI and the v parameter only", () => {
    const cache = mocks.get(T.cache, "ip-cdn-cache").inputs;
    assert.deepEqual([cache.minTtl, cache.defaultTtl, cache.maxTtl], [0, 31536000, 31536000]);
    assert.deepEqual(cache.parametersInCacheKeyAndForwardedToOrigin, {
      cookiesConfig: { cookieBehavior: "none" },
      headersConfig: { headerBehavior: "none" },
      queryStringsConfig: { queryStringBehavior: "whitelist", queryStrings: { items: ["v"] } },
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });
    assert.equal(mocks.get(T.cache, "cx-cdn-cache").inputs.maxTtl, 86400);
  });

  it("tells browsers the renditions are immutable, with HSTS and nosniff", () => {
    const headers = mocks.get(T.headers, "ip-cdn-headers").inputs;
    assert.deepEqual(headers.customHeadersConfig, { items: [{ header: "Cache-Control", value: "public, max-age=31536000, immutable", override: true }] });
    assert.equal(headers.securityHeadersConfig.strictTransportSecurity.accessControlMaxAgeSec, 31536000);
    assert.deepEqual(headers.securityHeadersConfig.contentTypeOptions, { override: true });
  });

  it("uses the default certificate without a domain, and the custom certificate with TLSv1.2_2021 (SNI) with one", () => {
    assert.deepEqual(mocks.get(T.distribution, "ip-cdn").inputs.viewerCertificate, { cloudfrontDefaultCertificate: true });
    const withDomain = mocks.get(T.distribution, "cx-cdn").inputs;
    assert.deepEqual(withDomain.viewerCertificate, { acmCertificateArn: CERT, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" });
    assert.deepEqual(withDomain.aliases, ["img.example.com"]);
    assert.equal(withDomain.priceClass, "PriceClass_All");
  });

  it("tags the distribution and the function", () => {
    assert.deepEqual(mocks.get(T.distribution, "ip-cdn").inputs.tags, TAGS);
    assert.deepEqual(mocks.get(T.fn, "ip-cdn-negotiate").inputs.tags, TAGS);
  });

  it("gives the URL renditions are served from", async () => {
    assert.equal(await outputValue(custom.url), "https://img.example.com");
    assert.match(await outputValue(plain.url), /^https:\/\//);
  });

  it("refuses a domain without a certificate", () => {
    assert.throws(
      () => new RenditionsCdn("bad-cdn", { bucketRegionalDomainName: "b", formats: ["jpeg"], priceClass: "PriceClass_100", maxAgeSeconds: 60, domain: "img.example.com", tags: TAGS }),
      (error: unknown) => isPipelineError(error) && error.code === "CONFIG_INVALID" && /image-pipeline:delivery\.domain "img\.example\.com" needs image-pipeline:delivery\.certificateArn/.test(error.message),
    );
  });
});

describe("the renditions bucket policy with a CDN", () => {
  const DISTRIBUTION = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE";

  it("keeps TLS only, admits this one distribution to read, and never the work prefix", () => {
    assert.deepEqual(renditionsBucketPolicy("arn:aws:s3:::ip-renditions", DISTRIBUTION, "work/"), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: ["s3:*"],
          Resource: ["arn:aws:s3:::ip-renditions", "arn:aws:s3:::ip-renditions/*"],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        {
          Sid: "CloudFrontReadsRenditions",
          Effect: "Allow",
          Principal: { Service: "cloudfront.amazonaws.com" },
          Action: ["s3:GetObject"],
          Resource: ["arn:aws:s3:::ip-renditions/*"],
          Condition: { StringEquals: { "AWS:SourceArn": DISTRIBUTION } },
        },
        { Sid: "CloudFrontNeverReadsWork", Effect: "Deny", Principal: { Service: "cloudfront.amazonaws.com" }, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::ip-renditions/work/*"] },
      ],
    });
  });
});
