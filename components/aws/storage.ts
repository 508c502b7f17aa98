import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketPolicy } from "./iam";

/**
 * An S3 bucket locked down the same way every time: default encryption
 * (SSE-S3, or SSE-KMS with bucket keys), public access blocked, ACLs disabled
 * (BucketOwnerEnforced), a TLS-only bucket policy, lifecycle rules that keep
 * storage from growing without bound, and optionally versioning and EventBridge
 * notifications. AWS provider v7 style: one resource per bucket setting.
 */

export interface SecureBucketArgs {
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
  /** Keep overwritten and deleted objects as noncurrent versions for `retentionDays`. */
  versioning?: boolean;
  /** Days after which incomplete multipart uploads are aborted and noncurrent versions removed. */
  retentionDays: number;
  /** Prefixes whose objects expire, e.g. `{ "work/": 1 }` for intermediates. */
  expiringPrefixes?: Record<string, number>;
  /** Move objects to STANDARD_IA after this many days; unset = never. */
  infrequentAccessAfterDays?: number;
  /** SSE-KMS with this key instead of SSE-S3. */
  kmsKeyArn?: pulumi.Input<string>;
  /** Send object events to EventBridge (the pipeline's trigger). */
  eventBridge?: boolean;
  /** Current objects expire after this many days (logs); unset = never. */
  expireAfterDays?: number;
  /** The bucket policy document for the bucket's ARN; default: TLS only. */
  policy?: (bucketArn: string) => pulumi.Input<string>;
}

export class SecureBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly bucketName: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly policy: aws.s3.BucketPolicy;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:SecureBucket", name, {}, opts);
    const { tags, region, versioning = false, retentionDays, expiringPrefixes = {}, infrequentAccessAfterDays, kmsKeyArn, eventBridge = false, expireAfterDays, policy } = args;
    const regional = region ? { region } : {};
    const child = { parent: this };

    // No forceDestroy: a stack deletion must never take uploads or renditions with it.
    this.bucket = new aws.s3.Bucket(name, { ...regional, tags }, child);
    const bucket = this.bucket.id;

    const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" }, ...regional }, child);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, ...regional },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket,
        rules: [
          kmsKeyArn
            ? // Bucket keys cut KMS requests (and their cost) by orders of magnitude.
              { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: kmsKeyArn }, bucketKeyEnabled: true }
            : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        ],
        ...regional,
      },
      child,
    );
    const versioningConfig = versioning
      ? new aws.s3.BucketVersioning(`${name}-versioning`, { bucket, versioningConfiguration: { status: "Enabled" }, ...regional }, child)
      : undefined;

    const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
      {
        id: "abort-incomplete-uploads",
        status: "Enabled",
        filter: { prefix: "" },
        abortIncompleteMultipartUpload: { daysAfterInitiation: retentionDays },
      },
    ];
    if (versioning) {
      rules.push({
        id: "expire-noncurrent-versions",
        status: "Enabled",
        filter: { prefix: "" },
        noncurrentVersionExpiration: { noncurrentDays: retentionDays },
        expiration: { expiredObjectDeleteMarker: true },
      });
    }
    for (const [prefix, days] of Object.entries(expiringPrefixes)) {
      rules.push({ id: `expire-${prefix.replace(/[^a-zA-Z0-9-]/g, "") || "all"}`, status: "Enabled", filter: { prefix }, expiration: { days } });
    }
    if (expireAfterDays) {
      rules.push({ id: "expire-current", status: "Enabled", filter: { prefix: "" }, expiration: { days: expireAfterDays } });
    }
    if (infrequentAccessAfterDays) {
      rules.push({
        id: "infrequent-access",
        status: "Enabled",
        filter: { prefix: "" },
        transitions: [{ days: infrequentAccessAfterDays, storageClass: "STANDARD_IA" }],
      });
    }
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket,
        rules,
        // Objects under 128 KB (most thumbnails) stay in STANDARD: IA bills them as 128 KB anyway.
        transitionDefaultMinimumObjectSize: "all_storage_classes_128K",
        ...regional,
      },
      // S3 rejects noncurrent-version rules until versioning is on.
      { parent: this, dependsOn: versioningConfig ? [versioningConfig] : [] },
    );

    this.policy = new aws.s3.BucketPolicy(
      `${name}-policy`,
      { bucket, policy: this.bucket.arn.apply((arn): pulumi.Output<string> => pulumi.output(policy ? policy(arn) : JSON.stringify(tlsOnlyBucketPolicy(arn)))), ...regional },
      // S3 applies bucket settings one at a time; ordering avoids "conflicting conditional operation".
      { parent: this, dependsOn: [publicAccess, ownership] },
    );

    if (eventBridge) {
      new aws.s3.BucketNotification(`${name}-events`, { bucket, eventbridge: true, ...regional }, child);
    }

    this.bucketName = this.bucket.bucket;
    this.arn = this.bucket.arn;
    this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
  }
}
