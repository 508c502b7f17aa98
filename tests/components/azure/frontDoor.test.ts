import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { apiRateLimitRule, cacheDuration, RenditionsFrontDoor, renditionRules } from "../../../components/azure/frontDoor";
import { outputValue, setupPulumiMocks, type PulumiMocks } from "../../helpers/pulumiMocks";

const T = {
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  assignment: "azure-native:authorization:RoleAssignment",
  profile: "azure-native:cdn:Profile",
  endpoint: "azure-native:cdn:AFDEndpoint",
  group: "azure-native:cdn:AFDOriginGroup",
  origin: "azure-native:cdn:AFDOrigin",
  route: "azure-native:cdn:Route",
  ruleSet: "azure-native:cdn:RuleSet",
  rule: "azure-native:cdn:Rule",
  domain: "azure-native:cdn:AFDCustomDomain",
  waf: "azure-native:frontdoor:Policy",
  security: "azure-native:cdn:SecurityPolicy",
} as const;
const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
const CONTAINER_ID = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/ipdata/blobServices/default/containers/renditions";
const TAGS = { project: "image-pipeline", stack: "dev-azure", "data-classification": "internal" };

describe("RenditionsFrontDoor", () => {
  let mocks: PulumiMocks;
  let plain: RenditionsFrontDoor;
  let custom: RenditionsFrontDoor;

  before(async () => {
    mocks = await setupPulumiMocks({
      stack: "dev-azure",
      outputs: {
        [T.identity]: (args: pulumi.runtime.MockResourceArgs) => ({ principalId: `principal-of-${args.name}`, clientId: `client-of-${args.name}` }),
        [T.endpoint]: (args: pulumi.runtime.MockResourceArgs) => ({ hostName: `${args.name}-abc123.z01.azurefd.net` }),
        [T.profile]: (args: pulumi.runtime.MockResourceArgs) => ({ frontDoorId: args.name === "ip-fd-profile" ? "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69" : "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6" }),
      },
    });
    const base = {
      resourceGroupName: "ip-rg",
      location: "westeurope",
      subscriptionId: SUBSCRIPTION,
      blobEndpoint: "https://ipdata.blob.core.windows.net/",
      renditionsContainerName: "renditions",
      renditionsContainerId: CONTAINER_ID,
      apiHostName: "ip-func.azurewebsites.net",
      maxAgeSeconds: 31536000,
      rateLimit: 50,
      tags: TAGS,
    };
    plain = new RenditionsFrontDoor("ip-fd", { ...base, tier: "Standard", formats: ["webp", "jpeg"] });
    custom = new RenditionsFrontDoor("cx-fd", { ...base, tier: "Premium", formats: ["avif", "webp", "jpeg"], domain: "img.example.com" });
    await mocks.settle();
  });

  const mine = (type: string, prefix = "ip-fd") => mocks.ofType(type).filter((r) => r.name.startsWith(`${prefix}-`));

  it("is a Standard profile (Premium on request) with its own user-assigned identity", () => {
    const profile = mocks.get(T.profile, "ip-fd-profile").inputs;
    assert.deepEqual(profile.sku, { name: "Standard_AzureFrontDoor" });
    assert.equal(profile.location, "global");
    assert.deepEqual(profile.identity, { type: "UserAssigned", userAssignedIdentities: [mocks.get(T.identity, "ip-fd-identity").id] });
    assert.deepEqual(mocks.get(T.profile, "cx-fd-profile").inputs.sku, { name: "Premium_AzureFrontDoor" });
  });

  it("lets that identity read the renditions container and nothing else", () => {
    const grant = mocks.get(T.assignment, "ip-fd-renditions-reader").inputs;
    assert.equal(grant.principalId, "principal-of-ip-fd-identity");
    assert.equal(grant.scope, CONTAINER_ID);
    assert.equal(grant.roleDefinitionId, `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1`);
    assert.equal(grant.principalType, "ServicePrincipal");
    assert.equal(mine(T.assignment).length, 1);
  });

  it("reads the blob origin with a bearer token from that identity", () => {
    const group = mocks.get(T.group, "ip-fd-renditions").inputs;
    assert.deepEqual(group.authentication, { type: "UserAssignedIdentity", scope: "https://storage.azure.com/.default", userAssignedIdentity: { id: mocks.get(T.identity, "ip-fd-identity").id } });
    const origin = mocks.get(T.origin, "ip-fd-renditions-origin").inputs;
    assert.deepEqual([origin.hostName, origin.originHostHeader, origin.httpsPort, origin.enforceCertificateNameCheck], ["ipdata.blob.core.windows.net", "ipdata.blob.core.windows.net", 443, true]);
    assert.equal(origin.sharedPrivateLinkResource, undefined);
  });

  it("routes renditions over HTTPS only, from the container, cached by path and v", () => {
    const route = mocks.get(T.route, "ip-fd-renditions-route").inputs;
    assert.deepEqual([route.httpsRedirect, route.forwardingProtocol, route.originPath, route.patternsToMatch], ["Enabled", "HttpsOnly", "/renditions", ["/*"]]);
    assert.deepEqual(route.cacheConfiguration, { queryStringCachingBehavior: "IncludeSpecifiedQueryStrings", queryParameters: "v", compressionSettings: { isCompressionEnabled: false } });
    assert.deepEqual(route.ruleSets, [{ id: mocks.get(T.ruleSet, "ip-fd-rules").id }]);
  });

  it("routes /api/* to the Function App over HTTPS, uncached", () => {
    const route = mocks.get(T.route, "ip-fd-api-route").inputs;
    assert.deepEqual([route.httpsRedirect, route.forwardingProtocol, route.patternsToMatch, route.cacheConfiguration], ["Enabled", "HttpsOnly", ["/api/*"], undefined]);
    assert.equal(mocks.get(T.origin, "ip-fd-api-origin").inputs.hostName, "ip-func.azurewebsites.net");
    assert.equal(mocks.get(T.group, "ip-fd-api").inputs.authentication, undefined);
  });

  it("creates one rule per redirect the stack's formats allow, after the storage-and-cache rule", () => {
    const byOrder = mine(T.rule).map((r) => [r.inputs.ruleName, r.inputs.order]).sort((a, b) => Number(a[1]) - Number(b[1]));
    assert.deepEqual(byOrder, [["StorageAndCache", 1], ["WebpForJpg", 2], ["WebpForJpeg", 3]]);
    assert.equal(mine(T.rule, "cx-fd").length, 5);
  });

  it("throttles each client on the API with a WAF rate-limit rule attached to the endpoint", () => {
    const waf = mocks.get(T.waf, "ip-fd-waf").inputs;
    assert.deepEqual(waf.sku, { name: "Standard_AzureFrontDoor" });
    assert.deepEqual(waf.policySettings, { enabledState: "Enabled", mode: "Prevention" });
    assert.deepEqual(waf.customRules, { rules: [apiRateLimitRule(50)] });
    const security = mocks.get(T.security, "ip-fd-security").inputs.parameters;
    assert.equal(security.type, "WebApplicationFirewall");
    assert.deepEqual(security.associations, [{ domains: [{ id: mocks.get(T.endpoint, "ip-fd-endpoint").id }], patternsToMatch: ["/*"] }]);
  });

  it("adds a custom domain at TLS 1.2 with a managed certificate, on both routes", () => {
    assert.equal(mine(T.domain).length, 0);
    const domain = mocks.get(T.domain, "cx-fd-domain");
    assert.deepEqual(domain.inputs.tlsSettings, { certificateType: "ManagedCertificate", minimumTlsVersion: "TLS12" });
    assert.deepEqual(mocks.get(T.route, "cx-fd-renditions-route").inputs.customDomains, [{ id: domain.id }]);
    assert.deepEqual(mocks.get(T.route, "cx-fd-api-route").inputs.customDomains, [{ id: domain.id }]);
  });

  it("tags the profile, endpoint, identity and WAF policy", () => {
    for (const [type, name] of [[T.profile, "ip-fd-profile"], [T.endpoint, "ip-fd-endpoint"], [T.identity, "ip-fd-identity"], [T.waf, "ip-fd-waf"]] as const) {
      assert.deepEqual(mocks.get(type, name).inputs.tags, TAGS, `${type} ${name}`);
    }
  });

  it("exposes each profile's own Front Door id, the X-Azure-FDID its origins see", async () => {
    assert.equal(await outputValue(plain.frontDoorId), "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69");
    assert.equal(await outputValue(custom.frontDoorId), "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6");
  });

  it("gives the URL renditions are served from", async () => {
    assert.equal(await outputValue(plain.url), "https://ip-fd-endpoint-abc123.z01.azurefd.net");
    assert.equal(await outputValue(custom.url), "https://img.example.com");
  });
});

describe("the Front Door rule set", () => {
  it("asks storage for a bearer-token service version and caches long and immutable", () => {
    assert.deepEqual(renditionRules(["jpeg"], 86400), [
      {
        ruleName: "StorageAndCache",
        conditions: [{ name: "UrlPath", parameters: { typeName: "DeliveryRuleUrlPathMatchConditionParameters", operator: "Any" } }],
        actions: [
          { name: "ModifyRequestHeader", parameters: { typeName: "DeliveryRuleHeaderActionParameters", headerAction: "Overwrite", headerName: "x-ms-version", value: "2024-11-04" } },
          {
            name: "RouteConfigurationOverride",
            parameters: {
              typeName: "DeliveryRuleRouteConfigurationOverrideActionParameters",
              cacheConfiguration: { cacheBehavior: "OverrideAlways", cacheDuration: "1.00:00:00", queryStringCachingBehavior: "IncludeSpecifiedQueryStrings", queryParameters: "v", isCompressionEnabled: "Disabled" },
            },
          },
          { name: "ModifyResponseHeader", parameters: { typeName: "DeliveryRuleHeaderActionParameters", headerAction: "Overwrite", headerName: "Cache-Control", value: "public, max-age=86400, immutable" } },
        ],
        matchProcessingBehavior: "Continue",
      },
    ]);
  });

  it("redirects a .jpg request to AVIF when Accept lists it and the URL's f lists it as stored, keeping the path", () => {
    const [, avifForJpg] = renditionRules(["avif", "jpeg"], 60);
    assert.deepEqual(avifForJpg, {
      ruleName: "AvifForJpg",
      conditions: [
        { name: "UrlFileExtension", parameters: { typeName: "DeliveryRuleUrlFileExtensionMatchConditionParameters", operator: "Equal", matchValues: ["jpg"], transforms: ["Lowercase"] } },
        { name: "RequestHeader", parameters: { typeName: "DeliveryRuleRequestHeaderConditionParameters", selector: "Accept", operator: "Contains", matchValues: ["image/avif"], transforms: ["Lowercase"] } },
        // f=avif or f=avif-webp; f=webp-avif is never written (best first).
        { name: "QueryString", parameters: { typeName: "DeliveryRuleQueryStringConditionParameters", operator: "Contains", matchValues: ["f=avif", "-avif"], transforms: ["Lowercase"] } },
      ],
      actions: [{ name: "UrlRedirect", parameters: { typeName: "DeliveryRuleUrlRedirectActionParameters", redirectType: "TemporaryRedirect", destinationProtocol: "Https", customPath: "/{url_path:0:-3}avif" } }],
      matchProcessingBehavior: "Stop",
    });
  });

  it("matches a format's redirect to exactly the f values that list it, as the API writes them", () => {
    const rules = renditionRules(["avif", "webp", "jpeg"], 60);
    const redirects = (query: string) =>
      rules
        .filter((r) => r.ruleName.endsWith("ForJpg"))
        .filter((r) => (r.conditions as { name: string; parameters: { matchValues?: string[] } }[]).find((c) => c.name === "QueryString")!.parameters.matchValues!.some((value) => query.toLowerCase().includes(value)))
        .map((r) => r.ruleName);

    assert.deepEqual(redirects("v=4d2c9e&f=avif-webp"), ["AvifForJpg", "WebpForJpg"]);
    assert.deepEqual(redirects("v=4d2c9e&f=avif"), ["AvifForJpg"]);
    assert.deepEqual(redirects("v=4d2c9e&f=webp"), ["WebpForJpg"]);
    assert.deepEqual(redirects("v=4d2c9e"), []);
  });

  it("tries AVIF before WebP, for .jpg and .jpeg, and only formats the stack writes", () => {
    assert.deepEqual(renditionRules(["avif", "webp", "jpeg"], 60).map((r) => r.ruleName), ["StorageAndCache", "AvifForJpg", "AvifForJpeg", "WebpForJpg", "WebpForJpeg"]);
    assert.deepEqual(renditionRules(["jpeg"], 60).map((r) => r.ruleName), ["StorageAndCache"]);
    const jpeg = renditionRules(["webp"], 60).find((r) => r.ruleName === "WebpForJpeg");
    assert.deepEqual(jpeg?.actions, [{ name: "UrlRedirect", parameters: { typeName: "DeliveryRuleUrlRedirectActionParameters", redirectType: "TemporaryRedirect", destinationProtocol: "Https", customPath: "/{url_path:0:-4}webp" } }]);
  });

  it("writes durations as d.hh:mm:ss, capped at Front Door's 366 days", () => {
    assert.equal(cacheDuration(31536000), "365.00:00:00");
    assert.equal(cacheDuration(3661), "0.01:01:01");
    assert.equal(cacheDuration(400 * 86400), "366.00:00:00");
  });

  it("limits each client to rateLimit requests a second on /api/, counted per minute", () => {
    assert.deepEqual(apiRateLimitRule(20), {
      name: "ApiRateLimitPerClient",
      priority: 1,
      enabledState: "Enabled",
      ruleType: "RateLimitRule",
      rateLimitDurationInMinutes: 1,
      rateLimitThreshold: 1200,
      matchConditions: [{ matchVariable: "RequestUri", operator: "Contains", matchValue: ["/api/"], transforms: ["Lowercase"] }],
      action: "Block",
    });
  });
});
