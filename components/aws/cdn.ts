import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PipelineError } from "../../functions/core/errors";
import { OUTPUT_TYPES } from "../../functions/core/optimize";
import type { OutputFormat } from "../../functions/core/options";
import { PROJECT_ROOT } from "../bundle";
import { tlsOnlyBucketPolicy, type PolicyDocument, type PolicyStatement } from "./iam";

/**
 * CloudFront in front of the (private) renditions bucket: Origin Access Control signs
 * every origin request, so only this distribution may read, and only renditions (never
 * `work/`); HTTPS only; renditions cached for a long, immutable lifetime, keyed by the
 * URI and the `v` query parameter (a reprocess rewrites the same keys, so rendition URLs
 * carry `?v=<job id>` to change with each run); a viewer-request CloudFront Function
 * (functions/edge/negotiateFormat.js) serves AVIF → WebP → JPEG by `Accept`.
 */

/** The CloudFront Function's source, a plain file the tests run too. */
export const NEGOTIATE_FUNCTION_FILE = "functions/edge/negotiateFormat.js";
/** cloudfront-js-2.0: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html */
export const CLOUDFRONT_FUNCTION_RUNTIME = "cloudfront-js-2.0";
/** Viewers negotiate at least TLS 1.2 with a custom certificate: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html */
export const MINIMUM_TLS_POLICY = "TLSv1.2_2021";
/** The query parameter rendition URLs carry to name one run's output (a reprocess rewrites the same keys). */
export const VERSION_QUERY_PARAMETER = "v";
/** Best first; `jpg` is the fallback every browser takes. */
const NEGOTIATION_ORDER: readonly OutputFormat[] = ["avif", "webp", "jpeg"];

export interface RenditionsCdnArgs {
  /** The renditions bucket's regional domain name (`<bucket>.s3.<region>.amazonaws.com`). */
  bucketRegionalDomainName: pulumi.Input<string>;
  /** The formats the pipeline writes (config `formats`): the function only rewrites to these. */
  formats: readonly OutputFormat[];
  priceClass: "PriceClass_100" | "PriceClass_200" | "PriceClass_All";
  maxAgeSeconds: number;
  /** A custom domain, with its ACM certificate in us-east-1. */
  domain?: string;
  certificateArn?: string;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class RenditionsCdn extends pulumi.ComponentResource {
  readonly distribution: aws.cloudfront.Distribution;
  readonly distributionArn: pulumi.Output<string>;
  /** `https://<domain or dxxxx.cloudfront.net>`: rendition URLs are this plus the rendition key. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: RenditionsCdnArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:RenditionsCdn", name, {}, opts);
    const { bucketRegionalDomainName, formats, priceClass, maxAgeSeconds, domain, certificateArn, tags } = args;
    if (domain && !certificateArn) {
      throw new PipelineError("CONFIG_INVALID", `image-pipeline:delivery.domain "${domain}" needs image-pipeline:delivery.certificateArn: an ACM certificate for it in us-east-1.`);
    }
    const parent = { parent: this };

    // OAC signs origin requests with SigV4; the bucket policy admits only this distribution (renditionsBucketPolicy).
    const accessControl = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      { name: `${name}-renditions`.slice(0, 64), description: "image-pipeline renditions (private bucket)", originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" },
      parent,
    );

    const negotiate = new aws.cloudfront.Function(
      `${name}-negotiate`,
      { name: `${name}-negotiate`.slice(0, 64), runtime: CLOUDFRONT_FUNCTION_RUNTIME, comment: "AVIF, WebP or JPEG rendition by Accept", code: negotiateFunctionCode(formats), publish: true, tags },
      parent,
    );

    // Renditions never change under a key the manifest names, so edges and browsers keep them the whole lifetime.
    const cachePolicy = new aws.cloudfront.CachePolicy(
      `${name}-cache`,
      {
        name: `${name}-renditions-cache`.slice(0, 128),
        comment: "Renditions: long, immutable; keyed by the (rewritten) URI and v",
        minTtl: 0,
        defaultTtl: maxAgeSeconds,
        maxTtl: maxAgeSeconds,
        parametersInCacheKeyAndForwardedToOrigin: {
          cookiesConfig: { cookieBehavior: "none" },
          headersConfig: { headerBehavior: "none" },
          queryStringsConfig: { queryStringBehavior: "whitelist", queryStrings: { items: [VERSION_QUERY_PARAMETER] } },
          // Images are already compressed.
          enableAcceptEncodingGzip: false,
          enableAcceptEncodingBrotli: false,
        },
      },
      parent,
    );

    const responseHeaders = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-headers`,
      {
        name: `${name}-renditions-headers`.slice(0, 128),
        comment: "Immutable caching in browsers; HSTS; no MIME sniffing",
        customHeadersConfig: { items: [{ header: "Cache-Control", value: `public, max-age=${maxAgeSeconds}, immutable`, override: true }] },
        securityHeadersConfig: {
          strictTransportSecurity: { accessControlMaxAgeSec: 31536000, includeSubdomains: false, preload: false, override: true },
          contentTypeOptions: { override: true },
        },
      },
      parent,
    );

    const originId = "renditions";
    this.distribution = new aws.cloudfront.Distribution(
      name,
      {
        enabled: true,
        comment: "image-pipeline renditions",
        isIpv6Enabled: true,
        httpVersion: "http2and3",
        priceClass,
        ...(domain ? { aliases: [domain] } : {}),
        origins: [{ originId, domainName: bucketRegionalDomainName, originAccessControlId: accessControl.id }],
        defaultCacheBehavior: {
          targetOriginId: originId,
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          cachePolicyId: cachePolicy.id,
          responseHeadersPolicyId: responseHeaders.id,
          compress: false,
          functionAssociations: [{ eventType: "viewer-request", functionArn: negotiate.arn }],
        },
        restrictions: { geoRestriction: { restrictionType: "none" } },
        // The default *.cloudfront.net certificate always allows TLSv1 whatever is set; a custom certificate takes the modern policy:
        // https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html
        viewerCertificate:
          domain && certificateArn
            ? { acmCertificateArn: certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: MINIMUM_TLS_POLICY }
            : { cloudfrontDefaultCertificate: true },
        tags,
      },
      parent,
    );

    this.distributionArn = this.distribution.arn;
    this.url = domain ? pulumi.output(`https://${domain}`) : pulumi.interpolate`https://${this.distribution.domainName}`;
    this.registerOutputs({ distributionArn: this.distributionArn, url: this.url });
  }
}

/**
 * The function's code for a stack: the source file with its FORMATS line set to the extensions
 * of the formats the pipeline writes, best first.
 *
 * @example negotiateFunctionCode(["webp", "jpeg"]) // ... var FORMATS = ["webp","jpg"]; ...
 */
export function negotiateFunctionCode(formats: readonly OutputFormat[]): string {
  const source = readFileSync(path.join(PROJECT_ROOT, NEGOTIATE_FUNCTION_FILE), "utf8");
  const extensions = NEGOTIATION_ORDER.filter((format) => formats.includes(format)).map((format) => OUTPUT_TYPES[format].extension);
  const line = /^var FORMATS = \[.*\];$/m;
  if (!line.test(source)) throw new Error(`${NEGOTIATE_FUNCTION_FILE} has no "var FORMATS = [...];" line to set.`);
  return source.replace(line, `var FORMATS = ${JSON.stringify(extensions)};`);
}

/**
 * The renditions bucket's policy with a CDN: TLS only, GetObject for this one distribution
 * (OAC: the service principal with `AWS:SourceArn`,
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html),
 * and never the work prefix (intermediates).
 */
export function renditionsBucketPolicy(bucketArn: string, distributionArn: string, workPrefix: string): { Version: PolicyDocument["Version"]; Statement: BucketPolicyStatement[] } {
  const tlsOnly = tlsOnlyBucketPolicy(bucketArn);
  const fromDistribution = { StringEquals: { "AWS:SourceArn": distributionArn } };
  return {
    ...tlsOnly,
    Statement: [
      ...tlsOnly.Statement,
      { Sid: "CloudFrontReadsRenditions", Effect: "Allow", Principal: { Service: "cloudfront.amazonaws.com" }, Action: ["s3:GetObject"], Resource: [`${bucketArn}/*`], Condition: fromDistribution },
      { Sid: "CloudFrontNeverReadsWork", Effect: "Deny", Principal: { Service: "cloudfront.amazonaws.com" }, Action: ["s3:GetObject"], Resource: [`${bucketArn}/${workPrefix}*`] },
    ],
  };
}

/** A bucket policy statement: an identity statement plus its principal. */
export type BucketPolicyStatement = PolicyStatement & { Principal: string | { Service: string } };
