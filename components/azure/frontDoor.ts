import * as azure from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";
import type { OutputFormat } from "../../functions/core/options";
import { OUTPUT_TYPES } from "../../functions/core/optimize";
import { NEGOTIABLE_QUERY_PARAMETER } from "../../functions/steps/served";
import { grantRole } from "./roles";

/**
 * Azure Front Door (Standard by default) in front of the private renditions container, and
 * in front of the HTTP API so a WAF rate-limit rule can throttle each client:
 * - renditions: read with Front Door's own user-assigned identity (origin authentication,
 *   https://learn.microsoft.com/azure/frontdoor/origin-authentication-with-managed-identities,
 *   Standard and Premium, preview), which holds Storage Blob Data Reader on that container only,
 *   so the container keeps no anonymous access; Premium could use Private Link instead;
 * - HTTPS only (HTTP redirected), TLS 1.2 on custom domains, renditions cached for `maxAgeSeconds`
 *   keyed by the path and the `v` query parameter;
 * - format negotiation by `Accept`: a `.jpg`/`.jpeg` request from a browser that lists image/avif
 *   (or image/webp) is redirected (307) to that rendition's URL, so each format has its own cache entry.
 */

/** The API's path prefix (the Function App's route prefix). */
export const API_ROUTE_PREFIX = "api";
/** OAuth requests to Blob Storage must name service version 2017-11-09 or later: https://learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory */
export const STORAGE_SERVICE_VERSION = "2024-11-04";
/** The query parameter rendition URLs carry to name one run's output (same as CloudFront's). */
export const VERSION_QUERY_PARAMETER = "v";
const NEGOTIATION_ORDER: readonly OutputFormat[] = ["avif", "webp"];
/** Front Door caches at most 366 days: https://learn.microsoft.com/azure/frontdoor/front-door-rules-engine-actions */
const MAX_CACHE_SECONDS = 366 * 24 * 3600;

export interface RenditionsFrontDoorArgs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  subscriptionId: pulumi.Input<string>;
  /** `https://<account>.blob.core.windows.net/` */
  blobEndpoint: pulumi.Input<string>;
  renditionsContainerName: pulumi.Input<string>;
  /** The renditions container's resource id: the identity's read role is scoped to it. */
  renditionsContainerId: pulumi.Input<string>;
  /** The Function App's host name (`<app>.azurewebsites.net`), for the API route. */
  apiHostName: pulumi.Input<string>;
  tier: "Standard" | "Premium";
  formats: readonly OutputFormat[];
  maxAgeSeconds: number;
  /** Requests per second per client IP the WAF lets through to the API (counted per minute). */
  rateLimit: number;
  domain?: string;
  tags: Record<string, string>;
}

export class RenditionsFrontDoor extends pulumi.ComponentResource {
  readonly profile: azure.cdn.Profile;
  /**
   * The profile's Front Door id, the X-Azure-FDID it sends to its origins, so an origin can admit this profile only:
   * https://learn.microsoft.com/azure/frontdoor/origin-security#front-door-identifier
   */
  readonly frontDoorId: pulumi.Output<string>;
  readonly endpoint: azure.cdn.AFDEndpoint;
  /** `https://<endpoint>.azurefd.net` (or the custom domain). */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: RenditionsFrontDoorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:azure:FrontDoor", name, {}, opts);
    const { resourceGroupName, location, subscriptionId, blobEndpoint, renditionsContainerName, renditionsContainerId, apiHostName, tier, formats, maxAgeSeconds, rateLimit, domain, tags } = args;
    const parent = { parent: this };
    const profileName = `${name}-profile`;

    // Exists with its read role before Front Door first fetches a rendition.
    const identity = new azure.managedidentity.UserAssignedIdentity(`${name}-identity`, { resourceGroupName, location, tags }, parent);
    const reader = grantRole(`${name}-renditions-reader`, { principalId: identity.principalId, principalType: "ServicePrincipal", role: "storageBlobDataReader", scope: renditionsContainerId, subscriptionId }, parent);

    this.profile = new azure.cdn.Profile(
      profileName,
      {
        resourceGroupName,
        location: "global",
        sku: { name: tier === "Premium" ? "Premium_AzureFrontDoor" : "Standard_AzureFrontDoor" },
        identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
        originResponseTimeoutSeconds: 60,
        tags,
      },
      { parent: this, dependsOn: [reader] },
    );
    const profile = { resourceGroupName, profileName: this.profile.name };
    // An output of azure-native's cdn.Profile (https://www.pulumi.com/registry/packages/azure-native/api-docs/cdn/profile/), known once the profile exists.
    this.frontDoorId = this.profile.frontDoorId;

    this.endpoint = new azure.cdn.AFDEndpoint(`${name}-endpoint`, { ...profile, location: "global", enabledState: "Enabled", tags }, parent);

    const blobHost = pulumi.output(blobEndpoint).apply((endpoint) => new URL(endpoint).host);
    const renditionsGroup = new azure.cdn.AFDOriginGroup(
      `${name}-renditions`,
      {
        ...profile,
        loadBalancingSettings: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 50 },
        // Front Door sends a bearer token for Blob Storage from its identity: the container stays private.
        authentication: { type: "UserAssignedIdentity", scope: "https://storage.azure.com/.default", userAssignedIdentity: { id: identity.id } },
      },
      parent,
    );
    const renditionsOrigin = new azure.cdn.AFDOrigin(
      `${name}-renditions-origin`,
      { ...profile, originGroupName: renditionsGroup.name, hostName: blobHost, originHostHeader: blobHost, httpsPort: 443, enforceCertificateNameCheck: true, priority: 1, weight: 1000, enabledState: "Enabled" },
      parent,
    );

    const apiGroup = new azure.cdn.AFDOriginGroup(`${name}-api`, { ...profile, loadBalancingSettings: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 50 } }, parent);
    const apiOrigin = new azure.cdn.AFDOrigin(
      `${name}-api-origin`,
      { ...profile, originGroupName: apiGroup.name, hostName: apiHostName, originHostHeader: apiHostName, httpsPort: 443, enforceCertificateNameCheck: true, priority: 1, weight: 1000, enabledState: "Enabled" },
      parent,
    );

    const ruleSet = new azure.cdn.RuleSet(`${name}-rules`, { ...profile, ruleSetName: ruleSetName(name) }, parent);
    const rules = renditionRules(formats, maxAgeSeconds).map(
      (rule, order) => new azure.cdn.Rule(`${name}-rule-${rule.ruleName.toLowerCase()}`, { ...profile, ruleSetName: ruleSet.name, order: order + 1, ...rule }, parent),
    );

    const customDomain = domain
      ? new azure.cdn.AFDCustomDomain(`${name}-domain`, { ...profile, hostName: domain, tlsSettings: { certificateType: "ManagedCertificate", minimumTlsVersion: "TLS12" } }, parent)
      : undefined;
    const domains = customDomain ? { customDomains: [{ id: customDomain.id }] } : {};

    // HTTPS only: HTTP is redirected, origins are reached over HTTPS.
    const https = { supportedProtocols: ["Http", "Https"], httpsRedirect: "Enabled", forwardingProtocol: "HttpsOnly", linkToDefaultDomain: "Enabled", enabledState: "Enabled" };
    new azure.cdn.Route(
      `${name}-renditions-route`,
      {
        ...profile,
        endpointName: this.endpoint.name,
        originGroup: { id: renditionsGroup.id },
        originPath: pulumi.interpolate`/${renditionsContainerName}`,
        patternsToMatch: ["/*"],
        ruleSets: [{ id: ruleSet.id }],
        cacheConfiguration: { queryStringCachingBehavior: "IncludeSpecifiedQueryStrings", queryParameters: VERSION_QUERY_PARAMETER, compressionSettings: { isCompressionEnabled: false } },
        ...https,
        ...domains,
      },
      { parent: this, dependsOn: [renditionsOrigin, ...rules] },
    );
    // The API is never cached (no cacheConfiguration).
    new azure.cdn.Route(
      `${name}-api-route`,
      { ...profile, endpointName: this.endpoint.name, originGroup: { id: apiGroup.id }, patternsToMatch: [`/${API_ROUTE_PREFIX}/*`], ...https, ...domains },
      { parent: this, dependsOn: [apiOrigin] },
    );

    // Per-client throttling of the API: WAF custom rate-limit rules work on Standard and Premium
    // (https://learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-rate-limit-configure).
    const waf = new azure.frontdoor.Policy(
      `${name}-waf`,
      {
        resourceGroupName,
        policyName: wafPolicyName(name),
        location: "Global",
        sku: { name: tier === "Premium" ? "Premium_AzureFrontDoor" : "Standard_AzureFrontDoor" },
        policySettings: { enabledState: "Enabled", mode: "Prevention" },
        customRules: { rules: [apiRateLimitRule(rateLimit)] },
        tags,
      },
      parent,
    );
    new azure.cdn.SecurityPolicy(
      `${name}-security`,
      {
        ...profile,
        parameters: {
          type: "WebApplicationFirewall",
          wafPolicy: { id: waf.id },
          associations: [{ domains: [{ id: this.endpoint.id }, ...(customDomain ? [{ id: customDomain.id }] : [])], patternsToMatch: ["/*"] }],
        },
      },
      parent,
    );

    this.url = domain ? pulumi.output(`https://${domain}`) : pulumi.interpolate`https://${this.endpoint.hostName}`;
    this.registerOutputs({ url: this.url, frontDoorId: this.frontDoorId });
  }
}

/** Rule set names: letters and digits, starting with a letter (1-60). */
function ruleSetName(name: string): string {
  return `negotiate${name.replace(/[^a-zA-Z0-9]/g, "")}`.slice(0, 60);
}

/** WAF policy names: letters and digits, starting with a letter (1-128). */
function wafPolicyName(name: string): string {
  return `waf${name.replace(/[^a-zA-Z0-9]/g, "")}`.slice(0, 128);
}

/** `d.hh:mm:ss`, the rules engine's duration format. */
export function cacheDuration(seconds: number): string {
  const capped = Math.min(seconds, MAX_CACHE_SECONDS);
  const days = Math.floor(capped / 86400);
  const rest = capped % 86400;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${days}.${pad(Math.floor(rest / 3600))}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}`;
}

type RuleInputs = Omit<azure.cdn.RuleArgs, "resourceGroupName" | "profileName" | "ruleSetName" | "order"> & { ruleName: string };

/**
 * The renditions' rule set, in order: every request asks Blob Storage for a service version that takes
 * bearer tokens and is cached long (immutable); then a `.jpg`/`.jpeg` request from a browser that lists
 * image/avif or image/webp (and the stack writes it, and the URL's `f` lists it as stored for that image) is
 * redirected to that format's URL, its query string kept. Rules after a matching redirect do not run (Stop).
 */
export function renditionRules(formats: readonly OutputFormat[], maxAgeSeconds: number): RuleInputs[] {
  const rules: RuleInputs[] = [
    {
      ruleName: "StorageAndCache",
      // Every request ("Any" path), stated as a condition rather than an empty list.
      conditions: [{ name: "UrlPath", parameters: { typeName: "DeliveryRuleUrlPathMatchConditionParameters", operator: "Any" } }],
      actions: [
        { name: "ModifyRequestHeader", parameters: { typeName: "DeliveryRuleHeaderActionParameters", headerAction: "Overwrite", headerName: "x-ms-version", value: STORAGE_SERVICE_VERSION } },
        {
          name: "RouteConfigurationOverride",
          parameters: {
            typeName: "DeliveryRuleRouteConfigurationOverrideActionParameters",
            cacheConfiguration: { cacheBehavior: "OverrideAlways", cacheDuration: cacheDuration(maxAgeSeconds), queryStringCachingBehavior: "IncludeSpecifiedQueryStrings", queryParameters: VERSION_QUERY_PARAMETER, isCompressionEnabled: "Disabled" },
          },
        },
        { name: "ModifyResponseHeader", parameters: { typeName: "DeliveryRuleHeaderActionParameters", headerAction: "Overwrite", headerName: "Cache-Control", value: `public, max-age=${maxAgeSeconds}, immutable` } },
      ],
      matchProcessingBehavior: "Continue",
    },
  ];
  for (const format of NEGOTIATION_ORDER.filter((candidate) => formats.includes(candidate))) {
    const extension = OUTPUT_TYPES[format].extension;
    for (const requested of ["jpg", "jpeg"]) {
      rules.push({
        ruleName: `${format === "avif" ? "Avif" : "Webp"}For${requested === "jpg" ? "Jpg" : "Jpeg"}`,
        conditions: [
          { name: "UrlFileExtension", parameters: { typeName: "DeliveryRuleUrlFileExtensionMatchConditionParameters", operator: "Equal", matchValues: [requested], transforms: ["Lowercase"] } },
          { name: "RequestHeader", parameters: { typeName: "DeliveryRuleRequestHeaderConditionParameters", selector: "Accept", operator: "Contains", matchValues: [`image/${format}`], transforms: ["Lowercase"] } },
          // Only when the URL's `f` lists the format as stored beside the JPEG (`f=avif-webp`, functions/steps/served.ts); match values are ORed:
          // https://learn.microsoft.com/azure/frontdoor/rules-match-conditions#query-string
          { name: "QueryString", parameters: { typeName: "DeliveryRuleQueryStringConditionParameters", operator: "Contains", matchValues: [`${NEGOTIABLE_QUERY_PARAMETER}=${format}`, `-${format}`], transforms: ["Lowercase"] } },
        ],
        // url_path has no leading slash; a negative length drops the extension: https://learn.microsoft.com/azure/frontdoor/rule-set-server-variables
        actions: [{ name: "UrlRedirect", parameters: { typeName: "DeliveryRuleUrlRedirectActionParameters", redirectType: "TemporaryRedirect", destinationProtocol: "Https", customPath: `/{url_path:0:-${requested.length}}${extension}` } }],
        matchProcessingBehavior: "Stop",
      });
    }
  }
  return rules;
}

/** Blocks a client IP that sends more than `rateLimit` requests a second (averaged over a minute) to the API. */
export function apiRateLimitRule(rateLimit: number): azure.types.input.frontdoor.CustomRuleArgs {
  return {
    name: "ApiRateLimitPerClient",
    priority: 1,
    enabledState: "Enabled",
    ruleType: "RateLimitRule",
    rateLimitDurationInMinutes: 1,
    rateLimitThreshold: rateLimit * 60,
    // The rate-limit scenario matches the request URI with Contains: https://learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-rate-limit-configure
    matchConditions: [{ matchVariable: "RequestUri", operator: "Contains", matchValue: [`/${API_ROUTE_PREFIX}/`], transforms: ["Lowercase"] }],
    action: "Block",
  };
}
