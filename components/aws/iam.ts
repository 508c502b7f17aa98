import { OPEN_JOBS_INDEX } from "../../functions/aws/contract";
import type { FunctionHandler } from "../../functions/workflow";

/**
 * IAM policy documents of the AWS pipeline, as pure functions of plain ARNs so
 * tests read them as data. Least privilege: each step function may touch only
 * its own objects, table and topic; `"*"` appears only for the actions AWS does
 * not scope to a resource, listed in {@link UNSCOPED_ACTIONS} with the reason.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export interface TrustPolicyDocument {
  Version: "2012-10-17";
  Statement: { Effect: "Allow"; Principal: { Service: string }; Action: "sts:AssumeRole"; Condition?: Record<string, Record<string, string>> }[];
}

/**
 * Actions that have no resource-level permissions in IAM: the only valid
 * `Resource` is `"*"`. Nothing else in this pipeline gets `"*"`.
 */
export const UNSCOPED_ACTIONS = {
  /** X-Ray trace upload (Lambda active tracing, Step Functions tracing). */
  xray: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
  /** Step Functions' vended-log delivery to CloudWatch Logs. */
  logDelivery: [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
  ],
  /** A Lambda in a VPC creates and removes its network interfaces (as AWSLambdaVPCAccessExecutionRole). */
  vpcNetworkInterfaces: [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
  ],
} as const;

export interface StepPolicyRefs {
  uploadsBucketArn: string;
  renditionsBucketArn: string;
  /** Intermediates' prefix in the renditions bucket, e.g. `work/`. */
  workPrefix: string;
  tableArn: string;
  topicArn: string;
  /** The function's own log group. */
  logGroupArn: string;
  /** Customer-managed key of buckets, table and topic, when configured. */
  kmsKeyArn?: string;
  /** The function runs in a VPC. */
  vpc?: boolean;
}

/** Trust policy letting one AWS service assume the role, optionally only for this account's resources. */
export function assumeRolePolicy(service: string, sourceAccount?: string): TrustPolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        // Confused-deputy guard: the service may assume the role only on behalf of this account.
        ...(sourceAccount ? { Condition: { StringEquals: { "aws:SourceAccount": sourceAccount } } } : {}),
      },
    ],
  };
}

/**
 * The permissions of one step function:
 * - validate: read the upload, create and read its job record;
 * - resize / applyFilters: read the upload, write the final files they encoded (never into the work prefix);
 * - optimize: check the upload is still the key's newest version, write the manifest (never into the
 *   work prefix), delete the keys of files left out (an older run's objects there);
 * - notifySuccess / notifyError: finish the job record, publish on the topic;
 * - sweepStuckJobs: query the open-jobs index, read and finish job records, publish on the topic;
 * - eraseUpload (and the notify steps and the sweep, for a job whose upload went meanwhile): see {@link eraseGrants};
 * - all: write their own logs, traces; use the configured KMS key; VPC interfaces when in a VPC.
 *
 * Readers of a bucket also get `s3:ListBucket` on it: without it S3 answers 403 rather than
 * 404 for a missing key, and a deleted upload would look like a permissions bug.
 */
export function stepFunctionPolicy(handler: FunctionHandler, refs: StepPolicyRefs): PolicyDocument {
  const { uploadsBucketArn, renditionsBucketArn, workPrefix, tableArn, topicArn, logGroupArn, kmsKeyArn, vpc = false } = refs;
  const uploads = `${uploadsBucketArn}/*`;
  const work = `${renditionsBucketArn}/${workPrefix}*`;
  const statements: PolicyStatement[] = [];
  const allow = (Sid: string, Action: string[], Resource: string[]) => statements.push({ Sid, Effect: "Allow", Action, Resource });

  switch (handler) {
    case "validate":
      // A read of the version the event named needs s3:GetObjectVersion (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
      allow("ReadUpload", ["s3:GetObject", "s3:GetObjectVersion"], [uploads]);
      allow("ListUploads", ["s3:ListBucket"], [uploadsBucketArn]);
      allow("CreateJob", ["dynamodb:PutItem", "dynamodb:GetItem"], [tableArn]);
      break;
    case "resize":
    case "applyFilters":
      allow("ReadUpload", ["s3:GetObject", "s3:GetObjectVersion"], [uploads]);
      allow("ListUploads", ["s3:ListBucket"], [uploadsBucketArn]);
      // They encode and write the final files themselves (functions/steps/outputs.ts); nothing goes through the work prefix.
      allow("WriteRenditions", ["s3:PutObject"], [`${renditionsBucketArn}/*`]);
      statements.push({ Sid: "NoRenditionsInWork", Effect: "Deny", Action: ["s3:PutObject"], Resource: [work] });
      break;
    case "optimize":
      // One HEAD of the upload's newest version before the manifest (functions/steps/current.ts); HEAD needs s3:GetObject: https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
      allow("CheckUpload", ["s3:GetObject"], [uploads]);
      // Without s3:ListBucket a deleted upload's HEAD answers 403, not 404 (same page): a delete must read as "gone".
      allow("ListUploads", ["s3:ListBucket"], [uploadsBucketArn]);
      allow("ListRenditions", ["s3:ListBucket"], [renditionsBucketArn]);
      // The manifest, written last (functions/steps/optimize.ts).
      allow("WriteRenditions", ["s3:PutObject"], [`${renditionsBucketArn}/*`]);
      // A skipped file's key is cleared of an older run's object (functions/steps/prune.ts): https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
      allow("ClearSkippedRenditions", ["s3:DeleteObject"], [`${renditionsBucketArn}/*`]);
      // Final objects never land among the short-lived intermediates (they would expire in a day).
      statements.push({ Sid: "NoRenditionsInWork", Effect: "Deny", Action: ["s3:PutObject"], Resource: [work] });
      break;
    case "notifySuccess":
    case "notifyError":
      allow("FinishJob", ["dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem"], [tableArn]);
      allow("Publish", ["sns:Publish"], [topicArn]);
      // A job whose upload was deleted while it ran erases what it made (functions/steps/erase.ts).
      eraseGrants(allow, refs);
      break;
    case "eraseUpload":
      eraseGrants(allow, refs);
      allow("ReadJobs", ["dynamodb:GetItem"], [tableArn]);
      allow("Publish", ["sns:Publish"], [topicArn]);
      break;
    case "sweepStuckJobs":
      allow("ListOpenJobs", ["dynamodb:Query"], [`${tableArn}/index/${OPEN_JOBS_INDEX.name}`]);
      allow("FinishJob", ["dynamodb:UpdateItem", "dynamodb:GetItem"], [tableArn]);
      allow("Publish", ["sns:Publish"], [topicArn]);
      // A job it ends whose upload was deleted meanwhile is erased (functions/steps/sweep.ts).
      eraseGrants(allow, refs);
      break;
  }

  // The log group is created by the stack: the function only adds streams and events to its own.
  allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${logGroupArn}:*`]);
  allow("WriteTraces", [...UNSCOPED_ACTIONS.xray.slice(0, 2)], ["*"]);
  if (kmsKeyArn) allow("UseDataKey", ["kms:Decrypt", "kms:GenerateDataKey"], [kmsKeyArn]);
  if (vpc) allow("VpcNetworkInterfaces", [...UNSCOPED_ACTIONS.vpcNetworkInterfaces], ["*"]);
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * Erasure: tell whether the upload is gone (HEAD needs s3:GetObject, and s3:ListBucket for a 404 rather
 * than a 403: https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html), read the manifest,
 * list and delete renditions and work objects, delete job records. Never the uploads themselves. The
 * listing is not narrowed by an s3:prefix condition: an upload's outputs may sit under any prefix but `work/`.
 */
function eraseGrants(allow: (Sid: string, Action: string[], Resource: string[]) => void, refs: StepPolicyRefs): void {
  const { uploadsBucketArn, renditionsBucketArn, tableArn } = refs;
  allow("CheckUpload", ["s3:GetObject"], [`${uploadsBucketArn}/*`]);
  allow("ListUploads", ["s3:ListBucket"], [uploadsBucketArn]);
  allow("ReadManifest", ["s3:GetObject"], [`${renditionsBucketArn}/*`]);
  allow("ListRenditions", ["s3:ListBucket"], [renditionsBucketArn]);
  allow("DeleteRenditions", ["s3:DeleteObject"], [`${renditionsBucketArn}/*`]);
  allow("DeleteJobs", ["dynamodb:DeleteItem"], [tableArn]);
}

/** The state machine may invoke its own functions, deliver its logs and traces, nothing else. */
export function stateMachinePolicy(functionArns: string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "InvokeSteps", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [...functionArns].sort() },
      { Sid: "DeliverLogs", Effect: "Allow", Action: [...UNSCOPED_ACTIONS.logDelivery], Resource: ["*"] },
      { Sid: "WriteTraces", Effect: "Allow", Action: [...UNSCOPED_ACTIONS.xray], Resource: ["*"] },
    ],
  };
}

/** EventBridge may start executions of this one state machine. */
export function startExecutionPolicy(stateMachineArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "StartPipeline", Effect: "Allow", Action: ["states:StartExecution"], Resource: [stateMachineArn] }],
  };
}

/**
 * The upload trigger's dead-letter queue: EventBridge may send to it for this one
 * rule only, and nobody may use it without TLS.
 */
export function deadLetterQueuePolicy(queueArn: string, ruleArn: string): PolicyDocument & { Statement: (PolicyStatement & { Principal: string | { Service: string } })[] } {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "UploadTriggerDeadLetters",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: ["sqs:SendMessage"],
        Resource: [queueArn],
        Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
      },
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: ["sqs:*"],
        Resource: [queueArn],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

export interface EndpointPolicyRefs {
  bucketArns: string[];
  tableArn: string;
  topicArn: string;
}

/**
 * VPC endpoint policies (`vpc: true`): through its endpoints the private network
 * reaches only this pipeline's buckets, table and topic, with only the actions
 * the functions use; the roles still decide which function may do what.
 */
export function vpcEndpointPolicy(service: "s3" | "dynamodb" | "sns", refs: EndpointPolicyRefs): PolicyDocument & { Statement: (PolicyStatement & { Principal: string })[] } {
  const allow = (Sid: string, Action: string[], Resource: string[]) => ({ Sid, Effect: "Allow" as const, Principal: "*", Action, Resource });
  switch (service) {
    case "s3":
      return {
        Version: "2012-10-17",
        Statement: [
          allow("PipelineObjects", ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"], refs.bucketArns.map((arn) => `${arn}/*`)),
          allow("PipelineBuckets", ["s3:ListBucket"], [...refs.bucketArns]),
        ],
      };
    case "dynamodb":
      return {
        Version: "2012-10-17",
        Statement: [allow("PipelineJobs", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem"], [refs.tableArn, `${refs.tableArn}/index/*`])],
      };
    case "sns":
      return { Version: "2012-10-17", Statement: [allow("PipelineEvents", ["sns:Publish"], [refs.topicArn])] };
  }
}

/** Bucket policy refusing every request not made over TLS. */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument & { Statement: (PolicyStatement & { Principal: string })[] } {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:*"],
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/**
 * The access-log bucket's policy: TLS only, and S3's logging service may write under `prefix` for the
 * named source buckets of this account only, as the S3 guide's example grants it
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
 */
export function accessLogBucketPolicy(bucketArn: string, prefix: string, sourceBucketArns: string[], accountId: string): PolicyDocument & { Statement: (PolicyStatement & { Principal: string | { Service: string } })[] } {
  const tlsOnly = tlsOnlyBucketPolicy(bucketArn);
  return {
    ...tlsOnly,
    Statement: [
      ...tlsOnly.Statement,
      {
        Sid: "S3ServerAccessLogsDelivery",
        Effect: "Allow",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: ["s3:PutObject"],
        Resource: [`${bucketArn}/${prefix}*`],
        Condition: { ArnLike: { "aws:SourceArn": sourceBucketArns }, StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  };
}
