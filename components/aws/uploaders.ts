import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument } from "./iam";

/**
 * Who may upload besides the deployer: an IAM role that the configured
 * principals (`uploaders`) may assume, allowed to put objects into the uploads
 * bucket and nothing else. Its ARN is the stack output `uploadersGrant`.
 */

/** The role's only permission: new objects in the uploads bucket (and the key that encrypts them). */
export function uploaderPolicy(uploadsBucketArn: string, kmsKeyArn?: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "PutUploads", Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${uploadsBucketArn}/*`] },
      // An upload encrypted with a customer key needs both (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-express-UsingKMSEncryption.html).
      ...(kmsKeyArn ? [{ Sid: "EncryptUploads", Effect: "Allow" as const, Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [kmsKeyArn] }] : []),
    ],
  };
}

export interface UploaderTrustPolicy {
  Version: "2012-10-17";
  Statement: { Effect: "Allow"; Principal: { AWS: string[] }; Action: "sts:AssumeRole" }[];
}

/** Only the listed principals may assume the role. */
export function uploaderTrustPolicy(principalArns: readonly string[]): UploaderTrustPolicy {
  return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: [...principalArns] }, Action: "sts:AssumeRole" }] };
}

export interface UploaderAccessArgs {
  /** IAM principal ARNs allowed to assume the role (config `uploaders`). */
  principalArns: readonly string[];
  uploadsBucketArn: pulumi.Input<string>;
  kmsKeyArn?: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class UploaderAccess extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: UploaderAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:aws:UploaderAccess", name, {}, opts);
    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: JSON.stringify(uploaderTrustPolicy(args.principalArns)), tags: args.tags }, { parent: this });
    new aws.iam.RolePolicy(
      `${name}-put-uploads`,
      { role: role.id, policy: pulumi.all([args.uploadsBucketArn, args.kmsKeyArn]).apply(([bucketArn, keyArn]) => JSON.stringify(uploaderPolicy(bucketArn, keyArn))) },
      { parent: this },
    );
    this.roleArn = role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
