import * as assert from "node:assert/strict";
import { cloudfrontHttpsOnly, cloudfrontPrivateOrigin, s3NoPublicBucketPolicy } from "../../policy/aws";
import { frontDoorMinimumTls, frontDoorPrivateOrigin, frontDoorRouteHttpsOnly, functionAppFrontDoorOnly } from "../../policy/azure";
import { apiAuthInProduction, isProductionTagged } from "../../policy/common";
import { UNKNOWN, violationsOf, type TestResource } from "../helpers/policyHarness";

const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";
const DEV_TAGS = { project: "image-pipeline", stack: "dev", "data-classification": "internal" };
const PROD_TAGS = { project: "image-pipeline", stack: "prod", "data-classification": "internal" };

function distribution(overrides: Record<string, unknown> = {}, name = "ip-cdn"): TestResource {
  return {
    type: DISTRIBUTION,
    name,
    props: {
      origins: [{ originId: "renditions", domainName: "ip-renditions.s3.eu-west-1.amazonaws.com", originAccessControlId: "E1OAC" }],
      defaultCacheBehavior: { targetOriginId: "renditions", viewerProtocolPolicy: "redirect-to-https" },
      viewerCertificate: { cloudfrontDefaultCertificate: true },
      tags: DEV_TAGS,
      ...overrides,
    },
  };
}

describe("delivery rules (AWS)", () => {
  describe("aws-cloudfront-https-only", () => {
    it("passes a redirecting distribution on the default certificate in dev, and https-only with TLSv1.2_2021 on a custom one", async () => {
      assert.deepEqual(await violationsOf(cloudfrontHttpsOnly, distribution()), []);
      const custom = distribution({ defaultCacheBehavior: { viewerProtocolPolicy: "https-only" }, viewerCertificate: { acmCertificateArn: CERT, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }, tags: PROD_TAGS });
      assert.deepEqual(await violationsOf(cloudfrontHttpsOnly, custom), []);
    });

    it("refuses allow-all on the default or an ordered behavior", async () => {
      const resource = distribution({ defaultCacheBehavior: { viewerProtocolPolicy: "allow-all" }, orderedCacheBehaviors: [{ pathPattern: "/x/*", viewerProtocolPolicy: "allow-all" }] });
      assert.deepEqual(await violationsOf(cloudfrontHttpsOnly, resource), [
        'The aws.cloudfront.Distribution "ip-cdn" has defaultCacheBehavior.viewerProtocolPolicy "allow-all"; set it to "redirect-to-https" or "https-only".',
        'The aws.cloudfront.Distribution "ip-cdn" has orderedCacheBehaviors[0].viewerProtocolPolicy "allow-all"; set it to "redirect-to-https" or "https-only".',
      ]);
    });

    it("refuses an older TLS policy on a custom certificate", async () => {
      const resource = distribution({ viewerCertificate: { acmCertificateArn: CERT, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2019" } });
      assert.deepEqual(await violationsOf(cloudfrontHttpsOnly, resource), ['The aws.cloudfront.Distribution "ip-cdn" has viewerCertificate.minimumProtocolVersion "TLSv1.2_2019"; set it to "TLSv1.2_2021" or later.']);
    });

    it("refuses the default certificate on a production stack", async () => {
      const [message] = await violationsOf(cloudfrontHttpsOnly, distribution({ tags: PROD_TAGS }));
      assert.match(message ?? "", /uses the default \*\.cloudfront\.net certificate on a production stack, which always allows TLSv1/);
    });

    it("waits for values unknown at preview", async () => {
      assert.deepEqual(await violationsOf(cloudfrontHttpsOnly, distribution({ defaultCacheBehavior: { viewerProtocolPolicy: UNKNOWN }, viewerCertificate: UNKNOWN })), []);
    });
  });

  describe("aws-cloudfront-private-origin", () => {
    it("passes an S3 origin with OAC, and a non-S3 origin without", async () => {
      assert.deepEqual(await violationsOf(cloudfrontPrivateOrigin, distribution()), []);
      assert.deepEqual(await violationsOf(cloudfrontPrivateOrigin, distribution({ origins: [{ originId: "api", domainName: "abc.execute-api.eu-west-1.amazonaws.com" }] })), []);
    });

    it("refuses an S3 origin without OAC", async () => {
      const resource = distribution({ origins: [{ originId: "renditions", domainName: "ip-renditions.s3.eu-west-1.amazonaws.com" }] });
      const [message] = await violationsOf(cloudfrontPrivateOrigin, resource);
      assert.match(message ?? "", /reads the S3 origin "ip-renditions\.s3\.eu-west-1\.amazonaws\.com" \(origins\[0\]\) without originAccessControlId/);
    });

    it("refuses an S3 website endpoint, which needs a public bucket", async () => {
      const resource = distribution({ origins: [{ originId: "site", domainName: "ip-renditions.s3-website-eu-west-1.amazonaws.com" }] });
      const [message] = await violationsOf(cloudfrontPrivateOrigin, resource);
      assert.match(message ?? "", /S3 website endpoint/);
    });
  });

  describe("aws-s3-no-public-bucket-policy", () => {
    const policy = (statements: unknown[]): TestResource => ({ type: "aws:s3/bucketPolicy:BucketPolicy", name: "renditions-policy", props: { bucket: "b", policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) } });

    it("passes TLS-only plus the distribution's read", async () => {
      const statements = [
        { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: ["s3:*"], Resource: ["arn:aws:s3:::b/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } },
        { Sid: "CloudFrontReadsRenditions", Effect: "Allow", Principal: { Service: "cloudfront.amazonaws.com" }, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"], Condition: { StringEquals: { "AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E2" } } },
      ];
      assert.deepEqual(await violationsOf(s3NoPublicBucketPolicy, policy(statements)), []);
    });

    it("refuses public read, with Principal * or AWS *", async () => {
      const statements = [
        { Sid: "PublicRead", Effect: "Allow", Principal: "*", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"] },
        { Effect: "Allow", Principal: { AWS: ["*"] }, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"] },
      ];
      assert.deepEqual(await violationsOf(s3NoPublicBucketPolicy, policy(statements)), [
        'The aws.s3.BucketPolicy "renditions-policy" allows everyone (Principal "*") in statement "PublicRead"; grant a named principal (e.g. cloudfront.amazonaws.com with AWS:SourceArn) instead.',
        'The aws.s3.BucketPolicy "renditions-policy" allows everyone (Principal "*") in statement 2; grant a named principal (e.g. cloudfront.amazonaws.com with AWS:SourceArn) instead.',
      ]);
    });
  });
});

describe("delivery rules (Azure)", () => {
  const route = (props: Record<string, unknown>): TestResource => ({ type: "azure-native:cdn:Route", name: "ip-fd-route", props: { supportedProtocols: ["Http", "Https"], ...props } });

  describe("azure-front-door-https-only", () => {
    it("passes a redirecting, HTTPS-forwarding route", async () => {
      assert.deepEqual(await violationsOf(frontDoorRouteHttpsOnly, route({ httpsRedirect: "Enabled", forwardingProtocol: "HttpsOnly" })), []);
    });

    it("refuses a route without redirect that forwards by the viewer's protocol", async () => {
      assert.deepEqual(await violationsOf(frontDoorRouteHttpsOnly, route({ httpsRedirect: "Disabled", forwardingProtocol: "MatchRequest" })), [
        'The azure-native.cdn.Route "ip-fd-route" has httpsRedirect "Disabled"; set it to "Enabled".',
        'The azure-native.cdn.Route "ip-fd-route" has forwardingProtocol "MatchRequest"; set it to "HttpsOnly".',
      ]);
    });
  });

  describe("azure-front-door-minimum-tls-1-2", () => {
    const domain = (tlsSettings: unknown): TestResource => ({ type: "azure-native:cdn:AFDCustomDomain", name: "ip-fd-domain", props: { hostName: "img.example.com", tlsSettings } });

    it("passes TLS12 and refuses TLS10 or none", async () => {
      assert.deepEqual(await violationsOf(frontDoorMinimumTls, domain({ certificateType: "ManagedCertificate", minimumTlsVersion: "TLS12" })), []);
      assert.deepEqual(await violationsOf(frontDoorMinimumTls, domain({ certificateType: "ManagedCertificate", minimumTlsVersion: "TLS10" })), ['The azure-native.cdn.AFDCustomDomain "ip-fd-domain" has tlsSettings.minimumTlsVersion "TLS10"; set it to "TLS12".']);
      assert.equal((await violationsOf(frontDoorMinimumTls, domain(undefined))).length, 1);
    });
  });

  describe("azure-front-door-private-origin", () => {
    const group = (authentication?: unknown): TestResource => ({ type: "azure-native:cdn:AFDOriginGroup", name: "ip-fd-origins", props: { originGroupName: "renditions", ...(authentication ? { authentication } : {}) } });
    const origin = (props: Record<string, unknown> = {}): TestResource => ({
      type: "azure-native:cdn:AFDOrigin",
      name: "ip-fd-origin",
      props: { originGroupName: "renditions", hostName: "ippipelinedev.blob.core.windows.net", ...props },
      propertyDependencies: { originGroupName: ["ip-fd-origins"] },
    });

    it("passes a blob origin whose group authenticates with a managed identity", async () => {
      const auth = { type: "UserAssignedIdentity", scope: "https://storage.azure.com/.default", userAssignedIdentity: { id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fd" } };
      assert.deepEqual(await violationsOf(frontDoorPrivateOrigin, [group(auth), origin()]), []);
    });

    it("passes a blob origin over Private Link (Premium)", async () => {
      assert.deepEqual(await violationsOf(frontDoorPrivateOrigin, [group(), origin({ sharedPrivateLinkResource: { groupId: "blob", privateLinkLocation: "westeurope" } })]), []);
    });

    it("refuses a blob origin reached anonymously", async () => {
      const [message] = await violationsOf(frontDoorPrivateOrigin, [group(), origin()]);
      assert.match(message ?? "", /reads the blob origin "ippipelinedev\.blob\.core\.windows\.net" with neither Private Link nor a managed identity/);
    });

    it("ignores origins that are not Blob Storage", async () => {
      assert.deepEqual(await violationsOf(frontDoorPrivateOrigin, [group(), origin({ hostName: "app.example.com" })]), []);
    });
  });
});

describe("azure-function-app-front-door-only", () => {
  const FDID = "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69";
  const frontDoorRule = { name: "FrontDoorOnly", action: "Allow", priority: 100, tag: "ServiceTag", ipAddress: "AzureFrontDoor.Backend", headers: { "x-azure-fdid": [FDID] } };
  const profile: TestResource = { type: "azure-native:cdn:Profile", name: "ip-fd-profile", props: { frontDoorId: FDID } };
  const app = (siteConfig: Record<string, unknown>, tags: Record<string, string> = { ...DEV_TAGS, "api-auth": "jwt" }): TestResource => ({
    type: "azure-native:web:WebApp",
    name: "ip-func",
    props: { kind: "functionapp,linux", defaultHostName: "ip-func-a1.azurewebsites.net", tags, siteConfig: { minTlsVersion: "1.2", ...siteConfig } },
  });
  const apiOrigin: TestResource = { type: "azure-native:cdn:AFDOrigin", name: "ip-fd-api-origin", props: { hostName: "ip-func-a1.azurewebsites.net" }, propertyDependencies: { hostName: ["ip-func"] } };
  const locked = { ipSecurityRestrictions: [frontDoorRule], ipSecurityRestrictionsDefaultAction: "Deny" };
  const what = 'The azure-native.web.WebApp "ip-func"';

  it("passes an API app behind Front Door that admits only the service tag with this stack's profile id, unmatched requests denied", async () => {
    assert.deepEqual(await violationsOf(functionAppFrontDoorOnly, [profile, app(locked), apiOrigin]), []);
    // Azure lists its implicit "Deny all" rule in the outputs; a Deny rule admits nobody.
    const withImplicit = { ...locked, ipSecurityRestrictions: [frontDoorRule, { name: "Deny all", action: "Deny", ipAddress: "Any", priority: 2147483647 }] };
    assert.deepEqual(await violationsOf(functionAppFrontDoorOnly, [profile, app(withImplicit), apiOrigin]), []);
  });

  it("refuses an API app behind Front Door that is still open to everyone", async () => {
    const violations = await violationsOf(functionAppFrontDoorOnly, [profile, app({}), apiOrigin]);

    assert.deepEqual(violations, [
      `${what} is a Front Door origin serving the API but lets unmatched requests in (ipSecurityRestrictionsDefaultAction unset); allow only service tag AzureFrontDoor.Backend with headers {"x-azure-fdid": [<the profile's frontDoorId>]} in siteConfig.ipSecurityRestrictions, and set siteConfig.ipSecurityRestrictionsDefaultAction to "Deny".`,
      `${what} is a Front Door origin serving the API but has no Allow rule for AzureFrontDoor.Backend with an X-Azure-FDID header, so any Front Door (or anyone) can reach it; allow only service tag AzureFrontDoor.Backend with headers {"x-azure-fdid": [<the profile's frontDoorId>]} in siteConfig.ipSecurityRestrictions, and set siteConfig.ipSecurityRestrictionsDefaultAction to "Deny".`,
    ]);
  });

  it("refuses the service tag without the X-Azure-FDID header, which every Front Door customer's traffic matches", async () => {
    const tagOnly = { ...locked, ipSecurityRestrictions: [{ ...frontDoorRule, headers: undefined }] };
    const [first, ...rest] = await violationsOf(functionAppFrontDoorOnly, [profile, app(tagOnly), apiOrigin]);

    assert.match(first ?? "", /has no Allow rule for AzureFrontDoor\.Backend with an X-Azure-FDID header/);
    assert.match(rest[0] ?? "", /also allows "AzureFrontDoor\.Backend" \(rule "FrontDoorOnly"\), which skips Front Door/);
  });

  it("refuses a second Allow rule beside Front Door's, and a default action of Allow", async () => {
    const wide = { ipSecurityRestrictions: [frontDoorRule, { name: "office", action: "Allow", ipAddress: "203.0.113.0/24", priority: 200 }], ipSecurityRestrictionsDefaultAction: "Allow" };
    const violations = await violationsOf(functionAppFrontDoorOnly, [profile, app(wide), apiOrigin]);

    assert.equal(violations.length, 2);
    assert.match(violations[0] ?? "", /lets unmatched requests in \(ipSecurityRestrictionsDefaultAction "Allow"\)/);
    assert.match(violations[1] ?? "", /also allows "203\.0\.113\.0\/24" \(rule "office"\), which skips Front Door/);
  });

  it("refuses an X-Azure-FDID that belongs to no Front Door profile of the stack", async () => {
    const foreign = { ...locked, ipSecurityRestrictions: [{ ...frontDoorRule, headers: { "X-Azure-FDID": ["00000000-0000-0000-0000-000000000001"] } }] };
    const violations = await violationsOf(functionAppFrontDoorOnly, [profile, app(foreign), apiOrigin]);

    assert.deepEqual(violations, [
      `${what} admits X-Azure-FDID "00000000-0000-0000-0000-000000000001", which is no Front Door profile of this stack ("${FDID}"); allow only service tag AzureFrontDoor.Backend with headers {"x-azure-fdid": [<the profile's frontDoorId>]} in siteConfig.ipSecurityRestrictions, and set siteConfig.ipSecurityRestrictionsDefaultAction to "Deny".`,
    ]);
  });

  it("finds the app behind Front Door by its host name when no dependency is recorded", async () => {
    const byValue: TestResource = { ...apiOrigin, propertyDependencies: undefined };
    assert.equal((await violationsOf(functionAppFrontDoorOnly, [profile, app({}), byValue])).length, 2);
  });

  it("leaves alone an app no Front Door origin fronts, and a function app that serves no API", async () => {
    assert.deepEqual(await violationsOf(functionAppFrontDoorOnly, [app({})]), []);
    assert.deepEqual(await violationsOf(functionAppFrontDoorOnly, [profile, app({}, DEV_TAGS), apiOrigin]), []);
  });

  it("waits for values unknown at preview", async () => {
    assert.deepEqual(await violationsOf(functionAppFrontDoorOnly, [profile, app({ ipSecurityRestrictions: UNKNOWN, ipSecurityRestrictionsDefaultAction: UNKNOWN }), apiOrigin]), []);
    const unknownId = { ...locked, ipSecurityRestrictions: [{ ...frontDoorRule, headers: { "x-azure-fdid": [UNKNOWN] } }] };
    assert.deepEqual(await violationsOf(functionAppFrontDoorOnly, [{ ...profile, props: { frontDoorId: UNKNOWN } }, app(unknownId), apiOrigin]), []);
  });
});

describe("api-auth-required-in-production", () => {
  const api = (tags: Record<string, string>): TestResource => ({ type: "aws:apigatewayv2/api:Api", name: "ip-api-http", props: { protocolType: "HTTP", tags } });

  it("passes no auth on a dev stack and JWT on a production one", async () => {
    assert.deepEqual(await violationsOf(apiAuthInProduction, api({ ...DEV_TAGS, "api-auth": "none" })), []);
    assert.deepEqual(await violationsOf(apiAuthInProduction, api({ ...PROD_TAGS, "api-auth": "jwt" })), []);
  });

  it("refuses no auth on a stack tagged production, by its stack name or an environment tag", async () => {
    const expected = 'The aws.apigatewayv2.Api "ip-api-http" serves the API without authentication (tag api-auth "none") on a stack tagged production; set image-pipeline:api.auth to {jwt: {...}} (README, "Configuration").';
    assert.deepEqual(await violationsOf(apiAuthInProduction, api({ ...PROD_TAGS, "api-auth": "none" })), [expected]);
    assert.deepEqual(await violationsOf(apiAuthInProduction, api({ ...DEV_TAGS, stack: "gallery-eu", environment: "Production", "api-auth": "none" })), [expected]);
  });

  it("takes the production tags and values from the policy config", async () => {
    const config = { productionTags: ["tier"], productionValues: ["live"] };
    assert.equal((await violationsOf(apiAuthInProduction, api({ ...DEV_TAGS, tier: "live", "api-auth": "none" }), config)).length, 1);
    assert.deepEqual(await violationsOf(apiAuthInProduction, api({ ...PROD_TAGS, "api-auth": "none" }), config), []);
  });

  it("recognizes production tags without case", () => {
    assert.equal(isProductionTagged({ env: "PROD" }), true);
    assert.equal(isProductionTagged({ environment: "staging", stack: "production-2" }), false);
  });
});
