import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accessLogBucketPolicy } from "./iam";
import { SecureBucket } from "./storage";

/**
 * S3 server access logging: every request to the pipeline's buckets (who uploaded, read or
 * deleted what, from where) lands in a dedicated log bucket of the same account and region.
 * The log bucket is private, TLS-only, SSE-S3 encrypted (server access logs cannot be delivered
 * to a bucket whose default encryption is SSE-KMS), versioned, and expires logs after
 * `retentionDays`; it does not log itself (that would loop), and has no Object Lock (not allowed
 * for a log destination): https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
 */

/** Log objects of each source bucket go under `<prefix><source>/`. */
export const ACCESS_LOG_PREFIX = "s3-access/";

export interface AccessLogsArgs {
  /** The buckets whose requests are logged, by a short name used in the log prefix. */
  sources: Record<string, { bucket: pulumi.Input<string>; arn: pulumi.Input<string> }>;
  /** Days log objects are kept (and their noncurrent versions). */
  retentionDays: number;
  accountId: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  region?: pulumi.Input<string>;
}

export class AccessLogs extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: AccessLogsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:AccessLogs", name, {}, opts);
    const { sources, retentionDays, accountId, tags, region } = args;
    const regional = region ? { region } : {};

    const sourceArns = pulumi.all(Object.values(sources).map((source) => source.arn));
    const document = pulumi.all([sourceArns, accountId]);
    const logBucket = new SecureBucket(
      `${name}-bucket`,
      {
        tags,
        region,
        versioning: true,
        retentionDays,
        expireAfterDays: retentionDays,
        // No kmsKeyArn on purpose: SSE-S3 is the only default encryption log delivery supports.
        policy: (bucketArn) => document.apply(([arns, account]) => JSON.stringify(accessLogBucketPolicy(bucketArn, ACCESS_LOG_PREFIX, arns, account))),
      },
      { parent: this },
    );

    for (const [source, { bucket }] of Object.entries(sources)) {
      new aws.s3.BucketLogging(
        `${name}-${source}`,
        {
          bucket,
          targetBucket: logBucket.bucketName,
          targetPrefix: `${ACCESS_LOG_PREFIX}${source}/`,
          // Date-partitioned keys keep Athena queries over a day or a month cheap.
          targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: "EventTime" } },
          ...regional,
        },
        // Delivery must be allowed before logging is switched on.
        { parent: this, dependsOn: [logBucket.policy] },
      );
    }

    this.bucketName = logBucket.bucketName;
    this.arn = logBucket.arn;
    this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
  }
}
