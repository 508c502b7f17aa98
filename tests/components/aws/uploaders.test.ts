import * as assert from "node:assert/strict";
import { loadConfig } from "../../../components/config";
import { uploaderPolicy, uploaderTrustPolicy } from "../../../components/aws/uploaders";
import { isPipelineError } from "../../../functions/core/errors";

describe("uploaders on AWS", () => {
  it("may put objects into the uploads bucket and nothing else", () => {
    assert.deepEqual(uploaderPolicy("arn:aws:s3:::ip-uploads"), {
      Version: "2012-10-17",
      Statement: [{ Sid: "PutUploads", Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::ip-uploads/*"] }],
    });
  });

  it("may use the customer key that encrypts the bucket", () => {
    const key = "arn:aws:kms:eu-west-1:123456789012:key/abcd";

    assert.deepEqual(uploaderPolicy("arn:aws:s3:::ip-uploads", key).Statement[1], { Sid: "EncryptUploads", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [key] });
  });

  it("lets only the listed principals assume the uploader role", () => {
    const principals = ["arn:aws:iam::123456789012:user/alice", "arn:aws:iam::210987654321:root"];

    assert.deepEqual(uploaderTrustPolicy(principals), { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: principals }, Action: "sts:AssumeRole" }] });
  });

  it("refuses an uploader that is not an IAM principal ARN, naming the entry", () => {
    assert.throws(
      () => loadConfig({ cloud: "aws", uploaders: ["arn:aws:iam::123456789012:role/ci", "alice@example.com"] }),
      (error: unknown) => isPipelineError(error) && error.code === "CONFIG_INVALID" && /image-pipeline:uploaders\[1\]: expected an IAM principal ARN.*"alice@example\.com"/.test(error.message),
    );
  });
});
