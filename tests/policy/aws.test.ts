import * as assert from "node:assert/strict";
import {
  asyncFunctionErrorAlarm,
  awsResourcePolicies,
  deadLetterQueueAlarm,
  dynamodbPointInTimeRecovery,
  eventTriggerDeadLetter,
  iamNoWildcardActions,
  iamNoWildcardResources,
  lambdaNotPublic,
  lambdaSupportedRuntime,
  lambdaTracingActive,
  lambdaWithinLimits,
  logGroupRetention,
  s3BucketDefaultEncryption,
  s3BucketLifecycle,
  s3BucketPublicAccessBlocked,
  s3BucketTlsOnly,
  s3EncryptionConfigured,
  s3PublicAccessBlockComplete,
  s3UploadsAccessLogging,
  s3UploadsVersioning,
  sfnFailureAlarm,
  sfnLoggingEnabled,
  sfnTracingEnabled,
  snsTopicEncrypted,
  sqsQueueEncrypted,
} from "../../policy/aws";
import { runtimeStatus, supportedRuntimes } from "../../policy/lambdaRuntimes";
import { AWS } from "../../policy/types";
import { diagnosticsOf, UNKNOWN, violationsOf, type TestResource } from "../helpers/policyHarness";

const BUCKET = "aws:s3/bucket:Bucket";
const FUNCTION = "aws:lambda/function:Function";

const uploadsBucket: TestResource = { type: BUCKET, name: "pipeline-uploads", props: { bucket: "pipeline-uploads-1a2b3c4" } };
const renditionsBucket: TestResource = { type: BUCKET, name: "pipeline-renditions", props: { bucket: "pipeline-renditions-5d6e7f8" } };

/** A setting resource of `type` attached to `bucket` through its `bucket` input (as a program does: bucket.id). */
function attached(type: string, bucket: TestResource, props: Record<string, unknown>, name = `${bucket.name}-${type.split(":").pop()}`): TestResource {
  return { type, name, props: { bucket: bucket.props?.bucket, ...props }, propertyDependencies: { bucket: [bucket.name as string] } };
}

const TLS_DENY = {
  Sid: "DenyInsecureTransport",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Resource: ["arn:aws:s3:::pipeline-uploads-1a2b3c4", "arn:aws:s3:::pipeline-uploads-1a2b3c4/*"],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};

function lambda(props: Record<string, unknown>): TestResource {
  return {
    type: FUNCTION,
    name: "pipeline-resize",
    props: { runtime: "nodejs22.x", handler: "index.resize", memorySize: 1024, timeout: 30, tracingConfig: { mode: "Active" }, ...props },
  };
}

const AS_OF = { asOf: "2026-11-21" };

describe("AWS policies", () => {
  describe("aws-s3-public-access-block-complete", () => {
    const block = (flags: Record<string, unknown>): TestResource => ({
      type: AWS.publicAccessBlock[0],
      name: "uploads-public-access",
      props: { bucket: "pipeline-uploads", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, ...flags },
    });

    it("passes a block with all four flags set", async () => {
      assert.deepEqual(await violationsOf(s3PublicAccessBlockComplete, block({})), []);
    });

    for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
      it(`reports ${flag} false, naming the resource and the flag`, async () => {
        assert.deepEqual(await violationsOf(s3PublicAccessBlockComplete, block({ [flag]: false })), [
          `The aws.s3.BucketPublicAccessBlock "uploads-public-access" leaves ${flag} unset or false; set all four flags to true.`,
        ]);
      });
    }

    it("reports flags left unset", async () => {
      const [message] = await violationsOf(s3PublicAccessBlockComplete, { type: AWS.publicAccessBlock[0], name: "pab", props: { bucket: "b" } });
      assert.match(message, /leaves blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets unset or false/);
    });

    it("skips a flag that is unknown at preview instead of failing", async () => {
      assert.deepEqual(await diagnosticsOf(s3PublicAccessBlockComplete, block({ blockPublicAcls: UNKNOWN })), []);
    });
  });

  describe("aws-s3-encryption-configured", () => {
    const sse = (rules: unknown): TestResource => ({ type: AWS.encryption[0], name: "uploads-encryption", props: { bucket: "b", rules } });

    it("passes SSE-S3 and SSE-KMS default encryption", async () => {
      assert.deepEqual(await violationsOf(s3EncryptionConfigured, sse([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }])), []);
      assert.deepEqual(await violationsOf(s3EncryptionConfigured, sse([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:eu-west-1:1:key/k" }, bucketKeyEnabled: true }])), []);
    });

    it("reports a configuration without rules", async () => {
      assert.deepEqual(await violationsOf(s3EncryptionConfigured, sse([])), ['The aws.s3.BucketServerSideEncryptionConfiguration "uploads-encryption" has no encryption rule.']);
    });

    it("reports a rule without a default algorithm", async () => {
      const [message] = await violationsOf(s3EncryptionConfigured, sse([{ bucketKeyEnabled: true }]));
      assert.match(message, /has rule 1 without a default encryption algorithm \(got unset, expected one of AES256, aws:kms, aws:kms:dsse\)\.$/);
    });

    it("reports an inline bucket encryption configuration with an unknown algorithm name", async () => {
      const bucket: TestResource = { type: BUCKET, name: "legacy", props: { serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "DES" } } } } };
      const [message] = await violationsOf(s3EncryptionConfigured, bucket);
      assert.match(message, /^The aws\.s3\.Bucket "legacy" has an inline encryption configuration that has rule 1 without a default encryption algorithm \(got "DES"/);
    });
  });

  describe("aws-s3-bucket-public-access-blocked", () => {
    const block = (bucket: TestResource) => attached(AWS.publicAccessBlock[0], bucket, { blockPublicAcls: true });

    it("passes when every bucket has a public access block", async () => {
      assert.deepEqual(await violationsOf(s3BucketPublicAccessBlocked, [uploadsBucket, block(uploadsBucket), renditionsBucket, block(renditionsBucket)]), []);
    });

    it("reports the bucket that has none", async () => {
      assert.deepEqual(await violationsOf(s3BucketPublicAccessBlocked, [uploadsBucket, block(uploadsBucket), renditionsBucket]), [
        'The aws.s3.Bucket "pipeline-renditions" has no BucketPublicAccessBlock; add one with all four flags set to true.',
      ]);
    });

    it("links by value when no property dependency is recorded", async () => {
      const byValue: TestResource = { type: AWS.publicAccessBlock[0], name: "pab", props: { bucket: "pipeline-uploads-1a2b3c4" } };
      assert.deepEqual(await violationsOf(s3BucketPublicAccessBlocked, [uploadsBucket, byValue]), []);
    });

    it("skips a bucket whose link is unknown at preview rather than reporting it", async () => {
      const unknownLink: TestResource = { type: AWS.publicAccessBlock[0], name: "pab", props: { bucket: UNKNOWN } };
      assert.deepEqual(await diagnosticsOf(s3BucketPublicAccessBlocked, [{ ...uploadsBucket, props: { bucket: UNKNOWN } }, unknownLink]), []);
    });
  });

  describe("aws-s3-bucket-default-encryption", () => {
    it("passes a bucket with an encryption configuration, or an inline one", async () => {
      const sse = attached(AWS.encryption[0], uploadsBucket, { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
      const inline: TestResource = { type: BUCKET, name: "legacy", props: { bucket: "legacy", serverSideEncryptionConfiguration: { rule: {} } } };
      assert.deepEqual(await violationsOf(s3BucketDefaultEncryption, [uploadsBucket, sse, inline]), []);
    });

    it("reports a bucket without one", async () => {
      assert.deepEqual(await violationsOf(s3BucketDefaultEncryption, [renditionsBucket]), [
        'The aws.s3.Bucket "pipeline-renditions" has no BucketServerSideEncryptionConfiguration; add one with SSE-S3 (AES256) or SSE-KMS.',
      ]);
    });
  });

  describe("aws-s3-uploads-access-logging", () => {
    const logBucket: TestResource = { type: BUCKET, name: "pipeline-access-logs-bucket", props: { bucket: "pipeline-access-logs-bucket-9f8e7d6" } };
    const logging = (targetBucket: unknown) => attached(AWS.logging[0], uploadsBucket, { targetBucket, targetPrefix: "s3-access/uploads/" });

    it("passes an uploads bucket that logs its requests into a log bucket, and ignores other buckets", async () => {
      assert.deepEqual(await violationsOf(s3UploadsAccessLogging, [uploadsBucket, logging("pipeline-access-logs-bucket-9f8e7d6"), logBucket, renditionsBucket]), []);
    });

    it("reports an uploads bucket without server access logging", async () => {
      assert.deepEqual(await violationsOf(s3UploadsAccessLogging, [uploadsBucket, logBucket, renditionsBucket]), [
        'The aws.s3.Bucket "pipeline-uploads" holds uploads but has no server access logging; add a BucketLogging with a targetBucket (a dedicated log bucket), or set accessLogging to server.',
      ]);
    });

    it("reports an uploads bucket whose logging names no target bucket", async () => {
      assert.equal((await violationsOf(s3UploadsAccessLogging, [uploadsBucket, logging("")])).length, 1);
    });

    it("accepts a target bucket not known until the deploy (preview)", async () => {
      assert.deepEqual(await violationsOf(s3UploadsAccessLogging, [uploadsBucket, logging(UNKNOWN)]), []);
    });

    it("is mandatory: turning logging off is a stated decision in the policy config", () => {
      assert.equal(s3UploadsAccessLogging.enforcementLevel, "mandatory");
    });
  });

  describe("aws-s3-uploads-versioning", () => {
    const versioning = (status: unknown) => attached(AWS.versioning[0], uploadsBucket, { versioningConfiguration: { status } });

    it("passes an uploads bucket with versioning Enabled and ignores other buckets", async () => {
      assert.deepEqual(await violationsOf(s3UploadsVersioning, [uploadsBucket, versioning("Enabled"), renditionsBucket]), []);
    });

    it("reports an uploads bucket whose versioning is Suspended", async () => {
      assert.deepEqual(await violationsOf(s3UploadsVersioning, [uploadsBucket, versioning("Suspended")]), [
        'The aws.s3.Bucket "pipeline-uploads" holds uploads but its versioning status is "Suspended"; set versioningConfiguration.status to "Enabled".',
      ]);
    });

    it("reports an uploads bucket without versioning", async () => {
      assert.deepEqual(await violationsOf(s3UploadsVersioning, [uploadsBucket]), [
        'The aws.s3.Bucket "pipeline-uploads" holds uploads but has no BucketVersioning; add one with status "Enabled".',
      ]);
    });

    it("recognizes the uploads bucket by a tag value and by the configured pattern", async () => {
      const tagged: TestResource = { type: BUCKET, name: "store-a", props: { bucket: "store-a", tags: { purpose: "uploads" } } };
      assert.equal((await violationsOf(s3UploadsVersioning, [tagged])).length, 1);
      const originals: TestResource = { type: BUCKET, name: "originals", props: { bucket: "originals" } };
      assert.equal((await violationsOf(s3UploadsVersioning, [originals], { uploadsNamePattern: "original" })).length, 1);
      assert.equal((await violationsOf(s3UploadsVersioning, [originals])).length, 0);
    });

    it("accepts inline versioning on the bucket", async () => {
      assert.deepEqual(await violationsOf(s3UploadsVersioning, [{ ...uploadsBucket, props: { ...uploadsBucket.props, versioning: { enabled: true } } }]), []);
    });
  });

  describe("aws-s3-bucket-tls-only", () => {
    const policy = (document: unknown) => attached(AWS.bucketPolicy[0], uploadsBucket, { policy: document });

    it("passes a bucket policy with the TLS deny, given as JSON text or as an object", async () => {
      assert.deepEqual(await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy(JSON.stringify({ Version: "2012-10-17", Statement: [TLS_DENY] }))]), []);
      assert.deepEqual(await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy({ Version: "2012-10-17", Statement: TLS_DENY })]), []);
    });

    it("accepts a boolean false condition value and an { AWS: \"*\" } principal", async () => {
      const statement = { ...TLS_DENY, Principal: { AWS: "*" }, Condition: { Bool: { "aws:SecureTransport": false } } };
      assert.deepEqual(await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy({ Statement: [statement] })]), []);
    });

    it("reports a bucket policy without the TLS deny", async () => {
      const allowOnly = { Statement: [{ Effect: "Allow", Principal: { Service: "logging.s3.amazonaws.com" }, Action: "s3:PutObject", Resource: "arn:aws:s3:::b/*" }] };
      const [message] = await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy(allowOnly)]);
      assert.match(message, /^The aws\.s3\.Bucket "pipeline-uploads" has a bucket policy without a statement denying insecure transport; add \{"Effect":"Deny"/);
    });

    it("reports a bucket without a bucket policy", async () => {
      const [message] = await violationsOf(s3BucketTlsOnly, [renditionsBucket]);
      assert.match(message, /^The aws\.s3\.Bucket "pipeline-renditions" has no bucket policy with a statement denying insecure transport/);
    });

    it("skips a policy document that is unknown at preview", async () => {
      assert.deepEqual(await diagnosticsOf(s3BucketTlsOnly, [uploadsBucket, policy(UNKNOWN)]), []);
    });

    const NOT_TLS_ONLY = /^The aws\.s3\.Bucket "pipeline-uploads" has a bucket policy without a statement denying insecure transport; add /;
    const variants: [string, Record<string, unknown>][] = [
      ["aws:SecureTransport true (denies TLS requests instead)", { Condition: { Bool: { "aws:SecureTransport": "true" } } }],
      ["aws:SecureTransport true as a boolean", { Condition: { Bool: { "aws:SecureTransport": true } } }],
      ["no condition (denies every request)", { Condition: undefined }],
      ["another operator", { Condition: { StringEquals: { "aws:SecureTransport": "false" } } }],
      ["another condition key", { Condition: { Bool: { "aws:ViaAWSService": "false" } } }],
      ["Allow instead of Deny", { Effect: "Allow" }],
      ["one principal instead of everyone", { Principal: { AWS: "arn:aws:iam::123456789012:root" } }],
      ["a service principal", { Principal: { Service: "logging.s3.amazonaws.com" } }],
      ["one action instead of s3:*", { Action: ["s3:GetObject"] }],
      ["another service's actions", { Action: "sqs:*" }],
    ];
    for (const [what, change] of variants) {
      it(`reports a TLS deny with ${what}`, async () => {
        const statement = { ...TLS_DENY, ...change };

        assert.match((await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy({ Statement: [statement] })]))[0] ?? "none", NOT_TLS_ONLY);
      });
    }

    it("reads the condition operator and key case-insensitively, as IAM does, and accepts Action \"*\"", async () => {
      const statement = { ...TLS_DENY, Action: ["*"], Condition: { bool: { "AWS:SecureTransport": ["FALSE"] } } };

      assert.deepEqual(await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy({ Statement: [statement] })]), []);
    });

    it("finds the TLS deny among other statements", async () => {
      const logging = { Effect: "Allow", Principal: { Service: "logging.s3.amazonaws.com" }, Action: "s3:PutObject", Resource: "arn:aws:s3:::b/*" };

      assert.deepEqual(await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy({ Statement: [logging, TLS_DENY] })]), []);
    });

    it("reports a bucket policy that is not JSON or has no statements", async () => {
      assert.match((await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy("{not json")]))[0] ?? "none", NOT_TLS_ONLY);
      assert.match((await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy({ Version: "2012-10-17" })]))[0] ?? "none", NOT_TLS_ONLY);
    });

    it("accepts a TLS deny in the bucket's inline policy, and reports an inline policy without one", async () => {
      const withInline = (document: unknown): TestResource => ({ ...uploadsBucket, props: { ...uploadsBucket.props, policy: JSON.stringify(document) } });
      const allowOnly = { Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] };

      assert.deepEqual(await violationsOf(s3BucketTlsOnly, [withInline({ Statement: [TLS_DENY] })]), []);
      assert.deepEqual(await violationsOf(s3BucketTlsOnly, [withInline(allowOnly)]), [
        'The aws.s3.Bucket "pipeline-uploads" has no bucket policy with a statement denying insecure transport; add {"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}} for the bucket and its objects.',
      ]);
    });

    it("reports each bucket without the TLS deny, and only those", async () => {
      const messages = await violationsOf(s3BucketTlsOnly, [uploadsBucket, policy({ Statement: [TLS_DENY] }), renditionsBucket]);

      assert.equal(messages.length, 1);
      assert.match(messages[0] ?? "", /"pipeline-renditions"/);
    });
  });

  describe("aws-s3-bucket-lifecycle", () => {
    const lifecycle = (statuses: string[]) =>
      attached(AWS.lifecycle[0], uploadsBucket, { rules: statuses.map((status, i) => ({ id: `rule-${i}`, status, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } })) });

    it("passes a bucket with an enabled rule", async () => {
      assert.deepEqual(await violationsOf(s3BucketLifecycle, [uploadsBucket, lifecycle(["Disabled", "Enabled"])]), []);
    });

    it("reports a configuration whose rules are all disabled", async () => {
      assert.deepEqual(await violationsOf(s3BucketLifecycle, [uploadsBucket, lifecycle(["Disabled"])]), [
        'The aws.s3.Bucket "pipeline-uploads" has a lifecycle configuration with no enabled rule; add enabled rules that expire temporary objects and noncurrent versions.',
      ]);
    });

    it("reports a bucket without a lifecycle configuration, and accepts inline enabled rules", async () => {
      const inline: TestResource = { type: BUCKET, name: "legacy", props: { bucket: "legacy", lifecycleRules: [{ enabled: true, expiration: { days: 1 } }] } };
      assert.deepEqual(await violationsOf(s3BucketLifecycle, [renditionsBucket, inline]), [
        'The aws.s3.Bucket "pipeline-renditions" has no BucketLifecycleConfiguration; add enabled rules that expire temporary objects and noncurrent versions.',
      ]);
    });
  });

  describe("aws-lambda-supported-runtime", () => {
    it("passes a supported Node.js runtime", async () => {
      assert.deepEqual(await violationsOf(lambdaSupportedRuntime, lambda({ runtime: "nodejs22.x" }), AS_OF), []);
    });

    it("reports a runtime past its deprecation date, suggesting the supported ones", async () => {
      assert.deepEqual(await violationsOf(lambdaSupportedRuntime, lambda({ runtime: "nodejs20.x" }), AS_OF), [
        'The aws.lambda.Function "pipeline-resize" uses runtime "nodejs20.x", which AWS deprecated on 2026-04-30. Use nodejs22.x or nodejs24.x.',
      ]);
    });

    it("judges deprecation as of the configured date", async () => {
      assert.deepEqual(await violationsOf(lambdaSupportedRuntime, lambda({ runtime: "nodejs20.x" }), { asOf: "2026-01-15" }), []);
    });

    it("reports an old runtime the table no longer lists", async () => {
      const [message] = await violationsOf(lambdaSupportedRuntime, lambda({ runtime: "nodejs16.x" }), AS_OF);
      assert.equal(message, 'The aws.lambda.Function "pipeline-resize" uses runtime "nodejs16.x", which is deprecated or unknown to this policy pack. Use nodejs22.x or nodejs24.x.');
    });

    it("accepts a runtime allowed by policy config, and container images", async () => {
      assert.deepEqual(await violationsOf(lambdaSupportedRuntime, lambda({ runtime: "nodejs26.x" }), { ...AS_OF, additionalRuntimes: ["nodejs26.x"] }), []);
      assert.deepEqual(await violationsOf(lambdaSupportedRuntime, lambda({ runtime: undefined, packageType: "Image", imageUri: "1.dkr.ecr/x:1" }), AS_OF), []);
    });

    it("counts a runtime as deprecated from the first moment of its deprecation day (UTC)", () => {
      assert.deepEqual(runtimeStatus("nodejs22.x", new Date("2027-04-29T23:59:59.999Z")), { supported: true, deprecates: "2027-04-30" });
      assert.deepEqual(runtimeStatus("nodejs22.x", new Date("2027-04-30T00:00:00.000Z")), { supported: false, reason: "deprecated", since: "2027-04-30" });
    });

    it("lists the supported runtimes of one family only, and none once a family is gone", () => {
      assert.deepEqual(supportedRuntimes(new Date("2026-11-21"), "python"), ["python3.12", "python3.13", "python3.14"]);
      assert.deepEqual(supportedRuntimes(new Date("2026-11-21"), "nodejs"), ["nodejs22.x", "nodejs24.x"]);
      assert.deepEqual(supportedRuntimes(new Date("2030-01-01"), "nodejs"), []);
    });

    it("suggests nothing when no runtime of the family is supported any more", async () => {
      assert.deepEqual(await violationsOf(lambdaSupportedRuntime, lambda({ runtime: "nodejs24.x" }), { asOf: "2030-01-01" }), [
        'The aws.lambda.Function "pipeline-resize" uses runtime "nodejs24.x", which AWS deprecated on 2028-04-30.',
      ]);
    });

    it("suggests runtimes of the same family for other languages too", async () => {
      assert.deepEqual(await violationsOf(lambdaSupportedRuntime, lambda({ runtime: "python3.9" }), AS_OF), [
        'The aws.lambda.Function "pipeline-resize" uses runtime "python3.9", which is deprecated or unknown to this policy pack. Use python3.12 or python3.13 or python3.14.',
      ]);
      assert.deepEqual(await violationsOf(lambdaSupportedRuntime, lambda({ runtime: "provided.al2" }), AS_OF), [
        'The aws.lambda.Function "pipeline-resize" uses runtime "provided.al2", which is deprecated or unknown to this policy pack. Use provided.al2023.',
      ]);
    });

    it("computes runtime status from the deprecation table", () => {
      assert.deepEqual(runtimeStatus("nodejs22.x", new Date("2026-11-21")), { supported: true, deprecates: "2027-04-30" });
      assert.deepEqual(runtimeStatus("nodejs22.x", new Date("2027-05-01")), { supported: false, reason: "deprecated", since: "2027-04-30" });
      assert.deepEqual(runtimeStatus("go1.x", new Date("2026-11-21")), { supported: false, reason: "unlisted" });
    });
  });

  describe("aws-lambda-tracing-active", () => {
    it("passes Active tracing", async () => {
      assert.deepEqual(await violationsOf(lambdaTracingActive, lambda({})), []);
    });

    it("reports PassThrough and unset tracing", async () => {
      assert.deepEqual(await violationsOf(lambdaTracingActive, lambda({ tracingConfig: { mode: "PassThrough" } })), [
        'The aws.lambda.Function "pipeline-resize" has tracing mode "PassThrough"; set tracingConfig.mode to "Active".',
      ]);
      assert.deepEqual(await violationsOf(lambdaTracingActive, lambda({ tracingConfig: undefined })), [
        'The aws.lambda.Function "pipeline-resize" has tracing mode unset; set tracingConfig.mode to "Active".',
      ]);
    });

    it("does not crash or report when tracingConfig is unknown at preview", async () => {
      assert.deepEqual(await diagnosticsOf(lambdaTracingActive, lambda({ tracingConfig: UNKNOWN })), []);
    });
  });

  describe("aws-lambda-within-limits", () => {
    it("passes the pipeline's defaults and Lambda's own defaults", async () => {
      assert.deepEqual(await violationsOf(lambdaWithinLimits, lambda({})), []);
      assert.deepEqual(await violationsOf(lambdaWithinLimits, lambda({ timeout: undefined, memorySize: undefined })), []);
    });

    it("reports a timeout above 900 s or below 1 s", async () => {
      assert.deepEqual(await violationsOf(lambdaWithinLimits, lambda({ timeout: 1200 })), ['The aws.lambda.Function "pipeline-resize" has a timeout of 1200 s; Lambda allows 1 to 900 s.']);
      assert.equal((await violationsOf(lambdaWithinLimits, lambda({ timeout: 0 }))).length, 1);
    });

    it("accepts the bounds themselves: 1 and 900 s, 128 and 10240 MB", async () => {
      assert.deepEqual(await violationsOf(lambdaWithinLimits, lambda({ timeout: 1, memorySize: 128 })), []);
      assert.deepEqual(await violationsOf(lambdaWithinLimits, lambda({ timeout: 900, memorySize: 10240 })), []);
    });

    it("reports one step past each bound", async () => {
      assert.deepEqual(await violationsOf(lambdaWithinLimits, lambda({ timeout: 901, memorySize: 10241 })), [
        'The aws.lambda.Function "pipeline-resize" has a timeout of 901 s; Lambda allows 1 to 900 s.',
        'The aws.lambda.Function "pipeline-resize" has 10241 MB of memory; Lambda allows 128 to 10240 MB.',
      ]);
      assert.deepEqual(await violationsOf(lambdaWithinLimits, lambda({ timeout: 0, memorySize: 127 })), [
        'The aws.lambda.Function "pipeline-resize" has a timeout of 0 s; Lambda allows 1 to 900 s.',
        'The aws.lambda.Function "pipeline-resize" has 127 MB of memory; Lambda allows 128 to 10240 MB.',
      ]);
    });

    it("reports memory outside 128-10240 MB", async () => {
      assert.deepEqual(await violationsOf(lambdaWithinLimits, lambda({ memorySize: 12288 })), ['The aws.lambda.Function "pipeline-resize" has 12288 MB of memory; Lambda allows 128 to 10240 MB.']);
      assert.equal((await violationsOf(lambdaWithinLimits, lambda({ memorySize: 64 }))).length, 1);
    });
  });

  describe("aws-lambda-not-public", () => {
    const permission = (props: Record<string, unknown>): TestResource => ({
      type: AWS.lambdaPermission[0],
      name: "resize-invoke",
      props: { action: "lambda:InvokeFunction", function: "pipeline-resize", ...props },
    });

    it("passes a service grant scoped by sourceArn, and an account grant", async () => {
      assert.deepEqual(await violationsOf(lambdaNotPublic, permission({ principal: "events.amazonaws.com", sourceArn: "arn:aws:events:eu-west-1:123456789012:rule/r" })), []);
      assert.deepEqual(await violationsOf(lambdaNotPublic, permission({ principal: "s3.amazonaws.com", sourceAccount: "123456789012" })), []);
      assert.deepEqual(await violationsOf(lambdaNotPublic, permission({ principal: "123456789012" })), []);
    });

    it('reports principal "*"', async () => {
      assert.deepEqual(await violationsOf(lambdaNotPublic, permission({ principal: "*" })), [
        'The aws.lambda.Permission "resize-invoke" lets principal "*" (anyone) invoke the function; name the account or service that calls it.',
      ]);
    });

    it("reports a service principal without sourceArn or sourceAccount", async () => {
      assert.deepEqual(await violationsOf(lambdaNotPublic, permission({ principal: "s3.amazonaws.com" })), [
        'The aws.lambda.Permission "resize-invoke" lets the service s3.amazonaws.com invoke the function on behalf of any account; set sourceArn (the calling resource) or sourceAccount.',
      ]);
    });

    it("reports unauthenticated function URLs", async () => {
      assert.equal((await violationsOf(lambdaNotPublic, permission({ principal: "123456789012", functionUrlAuthType: "NONE" }))).length, 1);
      assert.deepEqual(await violationsOf(lambdaNotPublic, { type: AWS.lambdaFunctionUrl[0], name: "resize-url", props: { functionName: "f", authorizationType: "NONE" } }), [
        'The aws.lambda.FunctionUrl "resize-url" has authorizationType "NONE", which makes the function public; use "AWS_IAM".',
      ]);
      assert.deepEqual(await violationsOf(lambdaNotPublic, { type: AWS.lambdaFunctionUrl[0], name: "resize-url", props: { functionName: "f", authorizationType: "AWS_IAM" } }), []);
    });
  });

  describe("aws-sfn-logging-enabled and aws-sfn-tracing-enabled", () => {
    const machine = (props: Record<string, unknown>): TestResource => ({
      type: AWS.stateMachine[0],
      name: "pipeline-workflow",
      props: {
        definition: "{}",
        roleArn: "arn:aws:iam::123456789012:role/r",
        loggingConfiguration: { level: "ERROR", includeExecutionData: true, logDestination: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/wf:*" },
        tracingConfiguration: { enabled: true },
        ...props,
      },
    });

    it("passes logging at ERROR to a log group and tracing enabled", async () => {
      assert.deepEqual(await violationsOf(sfnLoggingEnabled, machine({})), []);
      assert.deepEqual(await violationsOf(sfnTracingEnabled, machine({})), []);
    });

    it("reports a state machine without logging configuration", async () => {
      assert.deepEqual(await violationsOf(sfnLoggingEnabled, machine({ loggingConfiguration: undefined })), [
        'The aws.sfn.StateMachine "pipeline-workflow" has no logging configuration; set loggingConfiguration with level ALL, ERROR or FATAL and a log group destination.',
      ]);
    });

    it("reports level OFF and a destination without the :* suffix", async () => {
      const messages = await violationsOf(sfnLoggingEnabled, machine({ loggingConfiguration: { level: "OFF", logDestination: "arn:aws:logs:eu-west-1:1:log-group:wf" } }));
      assert.deepEqual(messages, [
        'The aws.sfn.StateMachine "pipeline-workflow" has logging level "OFF"; set loggingConfiguration.level to ALL, ERROR or FATAL.',
        'The aws.sfn.StateMachine "pipeline-workflow" has log destination "arn:aws:logs:eu-west-1:1:log-group:wf", which Step Functions rejects; append ":*" to the log group ARN.',
      ]);
    });

    it("reports a missing destination", async () => {
      const [message] = await violationsOf(sfnLoggingEnabled, machine({ loggingConfiguration: { level: "ALL" } }));
      assert.match(message, /has no log destination; set loggingConfiguration\.logDestination/);
    });

    it("reports tracing disabled or unset", async () => {
      assert.deepEqual(await violationsOf(sfnTracingEnabled, machine({ tracingConfiguration: { enabled: false } })), [
        'The aws.sfn.StateMachine "pipeline-workflow" has tracing disabled; set tracingConfiguration.enabled to true.',
      ]);
      assert.deepEqual(await violationsOf(sfnTracingEnabled, machine({ tracingConfiguration: undefined })), [
        'The aws.sfn.StateMachine "pipeline-workflow" has tracing unset; set tracingConfiguration.enabled to true.',
      ]);
    });
  });

  describe("aws-sns-topic-encrypted", () => {
    it("passes a topic with a KMS key and reports one without", async () => {
      assert.deepEqual(await violationsOf(snsTopicEncrypted, { type: AWS.topic[0], name: "notifications", props: { kmsMasterKeyId: "alias/aws/sns" } }), []);
      assert.deepEqual(await violationsOf(snsTopicEncrypted, { type: AWS.topic[0], name: "notifications", props: {} }), [
        'The aws.sns.Topic "notifications" is not encrypted; set kmsMasterKeyId (e.g. "alias/aws/sns" or the stack\'s KMS key).',
      ]);
      assert.equal((await violationsOf(snsTopicEncrypted, { type: AWS.topic[0], name: "notifications", props: { kmsMasterKeyId: "" } })).length, 1);
    });
  });

  describe("aws-sqs-queue-encrypted", () => {
    const queue = (props: Record<string, unknown>): TestResource => ({ type: AWS.queue[0], name: "dead-letters", props });

    it("passes SQS-managed encryption or a KMS key, and reports a queue with neither", async () => {
      assert.deepEqual(await violationsOf(sqsQueueEncrypted, queue({ sqsManagedSseEnabled: true })), []);
      assert.deepEqual(await violationsOf(sqsQueueEncrypted, queue({ kmsMasterKeyId: "alias/pipeline" })), []);
      assert.deepEqual(await violationsOf(sqsQueueEncrypted, queue({ sqsManagedSseEnabled: false })), [
        'The aws.sqs.Queue "dead-letters" is not encrypted at rest; set sqsManagedSseEnabled to true or kmsMasterKeyId to a KMS key.',
      ]);
    });
  });

  describe("aws-state-machine-failure-alarm", () => {
    const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:pipeline-workflow";
    const machine: TestResource = { type: AWS.stateMachine[0], name: "pipeline-workflow", props: { arn: ARN, id: ARN } };
    const alarm = (props: Record<string, unknown>, name = "pipeline-executions-failed", linked = true): TestResource => ({
      type: AWS.metricAlarm[0],
      name,
      props: { namespace: "AWS/States", metricName: "ExecutionsFailed", dimensions: { StateMachineArn: ARN }, alarmActions: ["arn:aws:sns:eu-west-1:123456789012:alerts"], ...props },
      ...(linked ? { propertyDependencies: { dimensions: ["pipeline-workflow"] } } : {}),
    });

    it("passes a state machine with an ExecutionsFailed alarm that notifies a topic", async () => {
      assert.deepEqual(await violationsOf(sfnFailureAlarm, [machine, alarm({})]), []);
    });

    it("recognizes the alarm by the ARN in its dimensions when no dependency is recorded", async () => {
      assert.deepEqual(await violationsOf(sfnFailureAlarm, [machine, alarm({}, "by-value", false)]), []);
    });

    it("reports a state machine without any ExecutionsFailed alarm, ignoring alarms on other metrics or machines", async () => {
      const other = alarm({ metricName: "ExecutionsTimedOut" }, "timed-out");
      const elsewhere = alarm({ dimensions: { StateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:other" } }, "other-machine", false);

      assert.deepEqual(await violationsOf(sfnFailureAlarm, [machine, other, elsewhere]), [
        'The aws.sfn.StateMachine "pipeline-workflow" has no CloudWatch alarm on ExecutionsFailed; add an aws.cloudwatch.MetricAlarm (namespace AWS/States, metricName ExecutionsFailed, dimensions { StateMachineArn }) with alarmActions.',
      ]);
    });

    it("reports an ExecutionsFailed alarm that notifies nobody (no actions, or actions disabled)", async () => {
      const expected = (name: string) => [
        `The aws.sfn.StateMachine "pipeline-workflow" has an ExecutionsFailed alarm (${name}) that notifies nobody; set alarmActions to an SNS topic with a subscriber, and leave actionsEnabled on.`,
      ];
      assert.deepEqual(await violationsOf(sfnFailureAlarm, [machine, alarm({ alarmActions: [] }, "silent")]), expected("silent"));
      assert.deepEqual(await violationsOf(sfnFailureAlarm, [machine, alarm({ actionsEnabled: false }, "disabled")]), expected("disabled"));
    });

    it("waits for alarm actions and dimensions unknown at preview", async () => {
      assert.deepEqual(await violationsOf(sfnFailureAlarm, [machine, alarm({ alarmActions: UNKNOWN })]), []);
      assert.deepEqual(await violationsOf(sfnFailureAlarm, [machine, alarm({ dimensions: UNKNOWN }, "unknown", false)]), []);
    });

    it("has nothing to say about a stack without state machines", async () => {
      assert.deepEqual(await violationsOf(sfnFailureAlarm, [alarm({ alarmActions: [] }, "lonely", false)]), []);
    });
  });

  describe("aws-async-function-error-alarm", () => {
    const ERASE_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-eraseUpload";
    const TOPIC = "arn:aws:sns:eu-west-1:123456789012:alerts";
    const eraser: TestResource = { type: FUNCTION, name: "pipeline-eraseUpload", props: { name: "pipeline-eraseUpload", arn: ERASE_ARN } };
    const resize: TestResource = { type: FUNCTION, name: "pipeline-resize", props: { name: "pipeline-resize", arn: "arn:aws:lambda:eu-west-1:123456789012:function:pipeline-resize" } };
    const target = (linked = true): TestResource => ({
      type: AWS.eventTarget[0],
      name: "erase-target",
      props: { rule: "erase-rule-1234", arn: ERASE_ARN },
      ...(linked ? { propertyDependencies: { arn: ["pipeline-eraseUpload"] } } : {}),
    });
    const errors = (props: Record<string, unknown>, name = "erase-errors", linked = true): TestResource => ({
      type: AWS.metricAlarm[0],
      name,
      props: { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "pipeline-eraseUpload" }, alarmActions: [TOPIC], ...props },
      ...(linked ? { propertyDependencies: { dimensions: ["pipeline-eraseUpload"] } } : {}),
    });

    it("passes a function an EventBridge rule invokes when an Errors alarm on it notifies a topic", async () => {
      assert.deepEqual(await violationsOf(asyncFunctionErrorAlarm, [eraser, target(), errors({})]), []);
      assert.deepEqual(await violationsOf(asyncFunctionErrorAlarm, [eraser, target(false), errors({}, "by-value", false)]), []);
    });

    it("reports an invoked function without an Errors alarm, ignoring alarms on its other metrics or on other functions", async () => {
      const throttles = errors({ metricName: "Throttles" }, "erase-throttles");
      const elsewhere = errors({ dimensions: { FunctionName: "pipeline-resize" } }, "resize-errors", false);

      assert.deepEqual(await violationsOf(asyncFunctionErrorAlarm, [eraser, target(), throttles, elsewhere]), [
        'The aws.lambda.Function "pipeline-eraseUpload" is invoked by an EventBridge rule and has no CloudWatch alarm on its Errors; add an aws.cloudwatch.MetricAlarm (namespace AWS/Lambda, metricName Errors, dimensions { FunctionName }) with alarmActions.',
      ]);
    });

    it("reports an Errors alarm that notifies nobody (no actions, or actions disabled)", async () => {
      const expected = (name: string) => [
        `The aws.lambda.Function "pipeline-eraseUpload" has an Errors alarm (${name}) that notifies nobody; set alarmActions to an SNS topic with a subscriber, and leave actionsEnabled on.`,
      ];
      assert.deepEqual(await violationsOf(asyncFunctionErrorAlarm, [eraser, target(), errors({ alarmActions: [] }, "silent")]), expected("silent"));
      assert.deepEqual(await violationsOf(asyncFunctionErrorAlarm, [eraser, target(), errors({ actionsEnabled: false }, "disabled")]), expected("disabled"));
    });

    it("leaves alone functions no rule invokes (the steps, which the state machine's alarm covers)", async () => {
      assert.deepEqual(await violationsOf(asyncFunctionErrorAlarm, [resize, eraser]), []);
    });

    it("waits for alarm dimensions and actions unknown at preview", async () => {
      assert.deepEqual(await violationsOf(asyncFunctionErrorAlarm, [eraser, target(), errors({ dimensions: UNKNOWN }, "unknown", false)]), []);
      assert.deepEqual(await violationsOf(asyncFunctionErrorAlarm, [eraser, target(), errors({ alarmActions: UNKNOWN })]), []);
    });
  });

  describe("aws-dead-letter-queue-alarm", () => {
    const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:erase-dead-letters-1a2b";
    const queue: TestResource = { type: AWS.queue[0], name: "erase-dead-letters", props: { name: "erase-dead-letters-1a2b", arn: QUEUE_ARN } };
    const target: TestResource = {
      type: AWS.eventTarget[0],
      name: "erase-target",
      props: { rule: "erase-rule-1234", arn: "arn:aws:lambda:eu-west-1:123456789012:function:p-eraseUpload", deadLetterConfig: { arn: QUEUE_ARN } },
      propertyDependencies: { deadLetterConfig: ["erase-dead-letters"] },
    };
    const failures: TestResource = {
      type: AWS.lambdaInvokeConfig[0],
      name: "erase-failures",
      props: { functionName: "p-eraseUpload", destinationConfig: { onFailure: { destination: QUEUE_ARN } } },
    };
    const depth = (props: Record<string, unknown>, name = "erase-dead-letters-alarm"): TestResource => ({
      type: AWS.metricAlarm[0],
      name,
      props: { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: "erase-dead-letters-1a2b" }, alarmActions: ["arn:aws:sns:eu-west-1:123456789012:alerts"], ...props },
    });
    const missing = ['The aws.sqs.Queue "erase-dead-letters" receives dead letters and has no CloudWatch alarm on its depth; add an aws.cloudwatch.MetricAlarm (namespace AWS/SQS, metricName ApproximateNumberOfMessagesVisible, dimensions { QueueName }, threshold 0) with alarmActions.'];

    it("passes a dead-letter queue whose depth alarm notifies a topic", async () => {
      assert.deepEqual(await violationsOf(deadLetterQueueAlarm, [queue, target, failures, depth({})]), []);
    });

    it("reports a queue an EventBridge target dead-letters into, or a Lambda's failures go to, without a depth alarm", async () => {
      const otherQueue = depth({ dimensions: { QueueName: "trigger-dead-letters-9z8y" } }, "other-queue");
      const otherMetric = depth({ metricName: "NumberOfMessagesSent" }, "sent");

      assert.deepEqual(await violationsOf(deadLetterQueueAlarm, [queue, target, otherQueue, otherMetric]), missing);
      assert.deepEqual(await violationsOf(deadLetterQueueAlarm, [queue, failures]), missing);
    });

    it("reports a depth alarm that notifies nobody", async () => {
      assert.deepEqual(await violationsOf(deadLetterQueueAlarm, [queue, target, depth({ alarmActions: [] }, "silent")]), [
        'The aws.sqs.Queue "erase-dead-letters" has a depth alarm (silent) that notifies nobody; set alarmActions to an SNS topic with a subscriber, and leave actionsEnabled on.',
      ]);
    });

    it("leaves alone queues nothing dead-letters into", async () => {
      assert.deepEqual(await violationsOf(deadLetterQueueAlarm, [queue]), []);
    });
  });

  describe("aws-event-trigger-dead-letter", () => {
    const rule = (name: string, props: Record<string, unknown>): TestResource => ({ type: AWS.eventRule[0], name, props: { name: `${name}-1234`, ...props } });
    const target = (ruleName: string, props: Record<string, unknown>): TestResource => ({
      type: AWS.eventTarget[0],
      name: `${ruleName}-target`,
      props: { rule: `${ruleName}-1234`, arn: "arn:aws:states:eu-west-1:123456789012:stateMachine:p", ...props },
      propertyDependencies: { rule: [ruleName] },
    });
    const uploads = rule("uploads", { eventPattern: '{"source":["aws.s3"]}' });

    it("passes an event-driven target with a dead-letter queue, and a scheduled target without one", async () => {
      const sweep = rule("sweep", { scheduleExpression: "rate(5 minutes)" });
      const resources = [uploads, target("uploads", { deadLetterConfig: { arn: "arn:aws:sqs:eu-west-1:123456789012:dlq" } }), sweep, target("sweep", {})];
      assert.deepEqual(await violationsOf(eventTriggerDeadLetter, resources), []);
    });

    it("reports an event-driven target without a dead-letter queue", async () => {
      assert.deepEqual(await violationsOf(eventTriggerDeadLetter, [uploads, target("uploads", {})]), [
        'The aws.cloudwatch.EventTarget "uploads-target" delivers events of aws.cloudwatch.EventRule "uploads" without a dead-letter queue; set deadLetterConfig.arn to an encrypted SQS queue the rule may send to.',
      ]);
    });

    it("waits when the dead-letter queue is not known yet (preview)", async () => {
      assert.deepEqual(await violationsOf(eventTriggerDeadLetter, [uploads, target("uploads", { deadLetterConfig: { arn: UNKNOWN } })]), []);
    });
  });

  describe("aws-dynamodb-point-in-time-recovery", () => {
    it("passes a table with PITR and reports one without", async () => {
      assert.deepEqual(await violationsOf(dynamodbPointInTimeRecovery, { type: AWS.table[0], name: "jobs", props: { pointInTimeRecovery: { enabled: true } } }), []);
      assert.deepEqual(await violationsOf(dynamodbPointInTimeRecovery, { type: AWS.table[0], name: "jobs", props: { pointInTimeRecovery: { enabled: false } } }), [
        'The aws.dynamodb.Table "jobs" has point-in-time recovery disabled; set pointInTimeRecovery.enabled to true.',
      ]);
      assert.deepEqual(await violationsOf(dynamodbPointInTimeRecovery, { type: AWS.table[0], name: "jobs", props: {} }), [
        'The aws.dynamodb.Table "jobs" has point-in-time recovery unset; set pointInTimeRecovery.enabled to true.',
      ]);
    });
  });

  describe("aws-log-group-retention", () => {
    it("passes a retention and reports none or 0", async () => {
      assert.deepEqual(await violationsOf(logGroupRetention, { type: AWS.logGroup[0], name: "logs", props: { retentionInDays: 14 } }), []);
      assert.deepEqual(await violationsOf(logGroupRetention, { type: AWS.logGroup[0], name: "logs", props: {} }), [
        'The aws.cloudwatch.LogGroup "logs" keeps logs forever (retentionInDays unset); set retentionInDays, e.g. 14.',
      ]);
      assert.equal((await violationsOf(logGroupRetention, { type: AWS.logGroup[0], name: "logs", props: { retentionInDays: 0 } })).length, 1);
    });
  });

  describe("aws-iam-no-wildcard-actions", () => {
    const rolePolicy = (statements: unknown[], asText = true): TestResource => {
      const document = { Version: "2012-10-17", Statement: statements };
      return { type: "aws:iam/rolePolicy:RolePolicy", name: "resize-policy", props: { role: "resize-role", policy: asText ? JSON.stringify(document) : document } };
    };
    const readUploads = { Sid: "ReadUploads", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::uploads/*"] };

    it("passes specific actions, as JSON text or as an object", async () => {
      assert.deepEqual(await violationsOf(iamNoWildcardActions, rolePolicy([readUploads])), []);
      assert.deepEqual(await violationsOf(iamNoWildcardActions, rolePolicy([readUploads], false)), []);
    });

    it('reports "*" and whole-service wildcards, naming the statement', async () => {
      assert.deepEqual(await violationsOf(iamNoWildcardActions, rolePolicy([{ ...readUploads, Action: ["s3:GetObject", "dynamodb:*"] }, { Effect: "Allow", Action: "*", Resource: "*" }])), [
        'The aws.iam.RolePolicy "resize-policy" allows "dynamodb:*" in statement "ReadUploads" of its policy; list the specific actions the function calls.',
        'The aws.iam.RolePolicy "resize-policy" allows "*" in statement 2 of its policy; list the specific actions the function calls.',
      ]);
    });

    it("ignores wildcards in Deny statements", async () => {
      assert.deepEqual(await violationsOf(iamNoWildcardActions, rolePolicy([readUploads, { Effect: "Deny", Action: "s3:*", Resource: "*" }])), []);
    });

    it("reports Allow with NotAction", async () => {
      const [message] = await violationsOf(iamNoWildcardActions, rolePolicy([{ Effect: "Allow", NotAction: "iam:*", Resource: "*" }]));
      assert.equal(message, 'The aws.iam.RolePolicy "resize-policy" uses Allow with NotAction in statement 1 of its policy, which grants every other action; list the allowed actions instead.');
    });

    it("reports a document that is not JSON", async () => {
      assert.deepEqual(await violationsOf(iamNoWildcardActions, { type: "aws:iam/policy:Policy", name: "p", props: { policy: "{not json" } }), [
        'The aws.iam.Policy "p" cannot be checked because its policy is not valid JSON.',
      ]);
    });

    it("checks a role's inline policies", async () => {
      const role: TestResource = { type: "aws:iam/role:Role", name: "resize-role", props: { assumeRolePolicy: "{}", inlinePolicies: [{ name: "all", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }) }] } };
      assert.deepEqual(await violationsOf(iamNoWildcardActions, role), ['The aws.iam.Role "resize-role" allows "s3:*" in statement 1 of its inline policy "all"; list the specific actions the function calls.']);
    });

    it("skips a document unknown at preview, and statements with unknown parts", async () => {
      assert.deepEqual(await diagnosticsOf(iamNoWildcardActions, { type: "aws:iam/rolePolicy:RolePolicy", name: "p", props: { policy: UNKNOWN } }), []);
      assert.deepEqual(await diagnosticsOf(iamNoWildcardActions, rolePolicy([{ Effect: "Allow", Action: ["s3:GetObject"], Resource: [UNKNOWN] }], false)), []);
    });
  });

  describe("aws-iam-no-wildcard-resources", () => {
    const policyWith = (statement: Record<string, unknown>): TestResource => ({
      type: "aws:iam/policy:Policy",
      name: "workflow-policy",
      props: { policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", ...statement }] }) },
    });

    it("passes named resources, and * for actions without resource-level permissions", async () => {
      assert.deepEqual(await violationsOf(iamNoWildcardResources, policyWith({ Action: "s3:GetObject", Resource: "arn:aws:s3:::uploads/*" })), []);
      assert.deepEqual(await violationsOf(iamNoWildcardResources, policyWith({ Action: ["xray:PutTraceSegments", "XRay:PutTelemetryRecords"], Resource: "*" })), []);
      assert.deepEqual(await violationsOf(iamNoWildcardResources, policyWith({ Action: ["logs:CreateLogDelivery", "logs:DescribeLogGroups", "logs:PutResourcePolicy"], Resource: ["*"] })), []);
    });

    it('reports actions that support resource-level permissions used on "*"', async () => {
      assert.deepEqual(await violationsOf(iamNoWildcardResources, policyWith({ Action: ["xray:PutTraceSegments", "s3:GetObject"], Resource: "*" })), [
        'The aws.iam.Policy "workflow-policy" allows "s3:GetObject" on every resource ("*") in statement 1 of its policy; name the bucket, table, topic or function ARNs instead.',
      ]);
    });

    it("reports Allow with NotResource", async () => {
      const [message] = await violationsOf(iamNoWildcardResources, policyWith({ Action: "s3:GetObject", NotResource: "arn:aws:s3:::secret/*" }));
      assert.match(message, /uses Allow with NotResource in statement 1 of its policy/);
    });

    it("accepts further actions listed in policy config", async () => {
      assert.deepEqual(await violationsOf(iamNoWildcardResources, policyWith({ Action: "states:ListStateMachines", Resource: "*" }), { additionalActionsWithoutResourceLevelPermissions: ["states:ListStateMachines"] }), []);
    });
  });

  describe("at preview", () => {
    it("no AWS resource rule fails or reports when every property of its resource is unknown", async () => {
      const types = [...AWS.publicAccessBlock, ...AWS.encryption, ...AWS.bucket, ...AWS.lambdaFunction, ...AWS.lambdaPermission, ...AWS.lambdaFunctionUrl, ...AWS.stateMachine, ...AWS.topic, ...AWS.table, ...AWS.logGroup, ...AWS.iamPolicyDocument, ...AWS.role];
      const keys = ["bucket", "rules", "serverSideEncryptionConfiguration", "runtime", "tracingConfig", "timeout", "memorySize", "principal", "sourceArn", "authorizationType", "loggingConfiguration", "tracingConfiguration", "kmsMasterKeyId", "pointInTimeRecovery", "retentionInDays", "policy", "inlinePolicies", "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
      const props = Object.fromEntries(keys.map((k) => [k, UNKNOWN]));
      for (const policy of awsResourcePolicies) {
        for (const type of types) assert.deepEqual(await diagnosticsOf(policy, { type, name: "r", props }), [], `${policy.name} on ${type}`);
      }
    });
  });
});
