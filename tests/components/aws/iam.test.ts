import * as assert from "node:assert/strict";
import { assumeRolePolicy, deadLetterQueuePolicy, stateMachinePolicy, startExecutionPolicy, stepFunctionPolicy, tlsOnlyBucketPolicy, vpcEndpointPolicy, type PolicyDocument } from "../../../components/aws/iam";
import { assertLeastPrivilege, grants, SAMPLE_REFS } from "./policyAssertions";
import { STEP_HANDLERS, type StepHandler } from "../../../functions/workflow";

/** The statements granted on "*", as `Sid: actions`. */
function onEveryResource(document: PolicyDocument): string[] {
  return document.Statement.filter((s) => s.Resource.includes("*")).map((s) => `${s.Effect} ${s.Sid}: ${s.Action.join(", ")}`);
}

// Actions without resource-level permissions, so "*" is their only valid Resource:
// X-Ray https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
const XRAY_UPLOAD = "xray:PutTraceSegments, xray:PutTelemetryRecords";
// Lambda's network interfaces in a VPC https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html
const VPC_INTERFACES = "ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface, ec2:AssignPrivateIpAddresses, ec2:UnassignPrivateIpAddresses";

const REFS = SAMPLE_REFS;
describe("IAM policies", () => {
  describe("step functions", () => {
    const expected: Record<StepHandler, string[]> = {
      validate: [
        "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "s3:GetObject arn:aws:s3:::p-uploads/*",
        "s3:GetObjectVersion arn:aws:s3:::p-uploads/*",
        "s3:ListBucket arn:aws:s3:::p-uploads",
      ],
      // Resize and ApplyFilters write the final files they encoded.
      resize: ["s3:GetObject arn:aws:s3:::p-uploads/*", "s3:GetObjectVersion arn:aws:s3:::p-uploads/*", "s3:ListBucket arn:aws:s3:::p-uploads", "s3:PutObject arn:aws:s3:::p-renditions/*"],
      applyFilters: ["s3:GetObject arn:aws:s3:::p-uploads/*", "s3:GetObjectVersion arn:aws:s3:::p-uploads/*", "s3:ListBucket arn:aws:s3:::p-uploads", "s3:PutObject arn:aws:s3:::p-renditions/*"],
      // Optimize HEADs the upload's newest version (a newer upload supersedes the job), writes the manifest and clears
      // the keys of files left out (an older run's objects there).
      optimize: [
        "s3:DeleteObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-uploads/*",
        "s3:ListBucket arn:aws:s3:::p-renditions",
        "s3:ListBucket arn:aws:s3:::p-uploads",
        "s3:PutObject arn:aws:s3:::p-renditions/*",
      ],
      // The notify steps erase after a job whose upload was deleted while it ran.
      notifySuccess: [
        "dynamodb:DeleteItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "s3:DeleteObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-uploads/*",
        "s3:ListBucket arn:aws:s3:::p-renditions",
        "s3:ListBucket arn:aws:s3:::p-uploads",
        "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "sns:Publish arn:aws:sns:eu-west-1:123456789012:p-notifications",
      ],
      // The notify steps erase after a job whose upload was deleted while it ran.
      notifyError: [
        "dynamodb:DeleteItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "s3:DeleteObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-uploads/*",
        "s3:ListBucket arn:aws:s3:::p-renditions",
        "s3:ListBucket arn:aws:s3:::p-uploads",
        "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "sns:Publish arn:aws:sns:eu-west-1:123456789012:p-notifications",
      ],
    };
    const logs = ["logs:CreateLogStream", "logs:PutLogEvents"].map((a) => `${a} ${REFS.logGroupArn}:*`);

    for (const handler of STEP_HANDLERS) {
      it(`${handler}: only its own objects, table and topic, plus its own logs`, () => {
        const document = stepFunctionPolicy(handler, REFS);

        assert.deepEqual(grants(document), [...expected[handler], ...logs].sort());
        assertLeastPrivilege(document, handler);
      });
    }

    it("names each statement after what it is for", () => {
      const sids = (handler: Parameters<typeof stepFunctionPolicy>[0]) => stepFunctionPolicy(handler, { ...REFS, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k" }).Statement.map((s) => s.Sid);
      const always = ["WriteOwnLogs", "WriteTraces", "UseDataKey"];

      assert.deepEqual(sids("validate"), ["ReadUpload", "ListUploads", "CreateJob", ...always]);
      assert.deepEqual(sids("resize"), ["ReadUpload", "ListUploads", "WriteRenditions", "NoRenditionsInWork", ...always]);
      assert.deepEqual(sids("applyFilters"), ["ReadUpload", "ListUploads", "WriteRenditions", "NoRenditionsInWork", ...always]);
      assert.deepEqual(sids("optimize"), ["CheckUpload", "ListUploads", "ListRenditions", "WriteRenditions", "ClearSkippedRenditions", "NoRenditionsInWork", ...always]);
      const erase = ["CheckUpload", "ListUploads", "ReadManifest", "ListRenditions", "DeleteRenditions", "DeleteJobs"];
      assert.deepEqual(sids("notifySuccess"), ["FinishJob", "Publish", ...erase, ...always]);
      assert.deepEqual(sids("notifyError"), ["FinishJob", "Publish", ...erase, ...always]);
      assert.deepEqual(sids("eraseUpload"), [...erase, "ReadJobs", "Publish", ...always]);
      assert.deepEqual(sids("sweepStuckJobs"), ["ListOpenJobs", "FinishJob", "Publish", ...erase, ...always]);
    });

    it("optimize may never write into the work prefix, where objects expire in a day", () => {
      const document = stepFunctionPolicy("optimize", REFS);

      assert.deepEqual(grants(document, "Deny"), ["s3:PutObject arn:aws:s3:::p-renditions/work/*"]);
    });

    it("gives X-Ray trace upload on * (no resource-level permissions), and nothing else on *", () => {
      for (const handler of [...STEP_HANDLERS, "sweepStuckJobs" as const, "eraseUpload" as const]) {
        assert.deepEqual(onEveryResource(stepFunctionPolicy(handler, REFS)), [`Allow WriteTraces: ${XRAY_UPLOAD}`], handler);
      }
    });

    it("sweepStuckJobs: queries only the open-jobs index, finishes jobs and publishes, and erases after a job whose upload went", () => {
      const document = stepFunctionPolicy("sweepStuckJobs", REFS);

      assert.deepEqual(grants(document), [
        "dynamodb:DeleteItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "s3:DeleteObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-uploads/*",
        "s3:ListBucket arn:aws:s3:::p-renditions",
        "s3:ListBucket arn:aws:s3:::p-uploads",
        "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:Query arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs/index/open-jobs",
        "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        ...logs,
        "sns:Publish arn:aws:sns:eu-west-1:123456789012:p-notifications",
      ].sort());
      assertLeastPrivilege(document, "sweepStuckJobs");
    });

    it("eraseUpload: checks the upload, reads the manifest, deletes renditions, work objects and job records, publishes; never deletes an upload", () => {
      const document = stepFunctionPolicy("eraseUpload", REFS);

      assert.deepEqual(grants(document), [
        "dynamodb:DeleteItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        ...logs,
        "s3:DeleteObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-uploads/*",
        "s3:ListBucket arn:aws:s3:::p-renditions",
        "s3:ListBucket arn:aws:s3:::p-uploads",
        "sns:Publish arn:aws:sns:eu-west-1:123456789012:p-notifications",
      ].sort());
      assertLeastPrivilege(document, "eraseUpload");
    });

    it("denies the steps that write renditions any write into the work prefix, and denies nothing else", () => {
      const writers: StepHandler[] = ["resize", "applyFilters", "optimize"];
      for (const handler of writers) assert.deepEqual(grants(stepFunctionPolicy(handler, REFS), "Deny"), ["s3:PutObject arn:aws:s3:::p-renditions/work/*"], handler);
      for (const handler of STEP_HANDLERS.filter((h) => !writers.includes(h))) assert.deepEqual(grants(stepFunctionPolicy(handler, REFS), "Deny"), [], handler);
    });

    it("uses the configured KMS key, and only that key", () => {
      const kmsKeyArn = "arn:aws:kms:eu-west-1:123456789012:key/abc";

      for (const handler of STEP_HANDLERS) {
        const kms = stepFunctionPolicy(handler, { ...REFS, kmsKeyArn }).Statement.filter((s) => s.Action.some((a) => a.startsWith("kms:")));
        assert.deepEqual(kms.map((s) => [s.Action, s.Resource]), [[["kms:Decrypt", "kms:GenerateDataKey"], [kmsKeyArn]]], handler);
      }
      assert.equal(JSON.stringify(stepFunctionPolicy("validate", REFS)).includes("kms:"), false, "no KMS grant without a key");
    });

    it("adds the network-interface actions of a VPC function on * (they have no resource-level permissions)", () => {
      const document = stepFunctionPolicy("resize", { ...REFS, vpc: true });

      assert.deepEqual(onEveryResource(document), [`Allow WriteTraces: ${XRAY_UPLOAD}`, `Allow VpcNetworkInterfaces: ${VPC_INTERFACES}`]);
      assert.deepEqual(document.Statement.find((s) => s.Sid === "VpcNetworkInterfaces")?.Resource, ["*"]);
      assertLeastPrivilege(document, "resize in a VPC");
    });
  });

  it("lets the state machine invoke exactly its functions, and deliver logs and traces", () => {
    const arns = STEP_HANDLERS.map((h) => `arn:aws:lambda:eu-west-1:123456789012:function:p-${h}`);

    const document = stateMachinePolicy(arns);

    assert.deepEqual(grants(document), arns.map((arn) => `lambda:InvokeFunction ${arn}`).sort());
    assert.deepEqual(onEveryResource(document), [
      // Step Functions' log delivery actions take no resource ARN: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
      "Allow DeliverLogs: logs:CreateLogDelivery, logs:GetLogDelivery, logs:UpdateLogDelivery, logs:DeleteLogDelivery, logs:ListLogDeliveries, logs:PutResourcePolicy, logs:DescribeResourcePolicies, logs:DescribeLogGroups",
      "Allow WriteTraces: xray:PutTraceSegments, xray:PutTelemetryRecords, xray:GetSamplingRules, xray:GetSamplingTargets",
    ]);
    assertLeastPrivilege(document, "state machine");
    assert.deepEqual(document.Statement.map((s) => s.Sid), ["InvokeSteps", "DeliverLogs", "WriteTraces"]);
  });

  it("writes the same state machine policy whatever order the functions come in", () => {
    const [a, b, c] = ["arn:aws:lambda:eu-west-1:123456789012:function:p-a", "arn:aws:lambda:eu-west-1:123456789012:function:p-b", "arn:aws:lambda:eu-west-1:123456789012:function:p-c"];

    assert.deepEqual(stateMachinePolicy([c, a, b]).Statement[0]?.Resource, [a, b, c]);
    assert.deepEqual(stateMachinePolicy([c, a, b]), stateMachinePolicy([b, c, a]));
  });

  it("lets EventBridge start executions of one state machine only", () => {
    const arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:p";

    const document = startExecutionPolicy(arn);

    assert.deepEqual(document.Statement, [{ Sid: "StartPipeline", Effect: "Allow", Action: ["states:StartExecution"], Resource: [arn] }]);
    assertLeastPrivilege(document, "events");
  });

  it("lets one service assume a role, for one account's resources when the account is given", () => {
    assert.deepEqual(assumeRolePolicy("lambda.amazonaws.com"), {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    assert.deepEqual(assumeRolePolicy("states.amazonaws.com", "123456789012").Statement, [
      { Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } },
    ]);
  });

  it("lets only the upload rule send to its dead-letter queue, and nobody use it without TLS", () => {
    const queue = "arn:aws:sqs:eu-west-1:123456789012:p-dead-letters";
    const rule = "arn:aws:events:eu-west-1:123456789012:rule/p-uploads";

    assert.deepEqual(deadLetterQueuePolicy(queue, rule), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "UploadTriggerDeadLetters",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: ["sqs:SendMessage"],
          Resource: [queue],
          Condition: { ArnEquals: { "aws:SourceArn": rule } },
        },
        { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: ["sqs:*"], Resource: [queue], Condition: { Bool: { "aws:SecureTransport": "false" } } },
      ],
    });
  });

  describe("VPC endpoint policies", () => {
    const refs = { bucketArns: ["arn:aws:s3:::p-uploads", "arn:aws:s3:::p-renditions"], tableArn: REFS.tableArn, topicArn: REFS.topicArn };

    it("S3: objects and listing of the pipeline's buckets only", () => {
      const document = vpcEndpointPolicy("s3", refs);

      assert.deepEqual(grants(document), [
        // Erasure deletes renditions and work objects.
        "s3:DeleteObject arn:aws:s3:::p-renditions/*",
        "s3:DeleteObject arn:aws:s3:::p-uploads/*",
        "s3:GetObject arn:aws:s3:::p-renditions/*",
        "s3:GetObject arn:aws:s3:::p-uploads/*",
        "s3:GetObjectVersion arn:aws:s3:::p-renditions/*",
        "s3:GetObjectVersion arn:aws:s3:::p-uploads/*",
        "s3:ListBucket arn:aws:s3:::p-renditions",
        "s3:ListBucket arn:aws:s3:::p-uploads",
        "s3:PutObject arn:aws:s3:::p-renditions/*",
        "s3:PutObject arn:aws:s3:::p-uploads/*",
      ]);
      assert.deepEqual(document.Statement.map((s) => (s as { Principal?: unknown }).Principal), ["*", "*"], "the endpoint admits any caller; the roles decide");
      assert.deepEqual(document.Statement.map((s) => s.Sid), ["PipelineObjects", "PipelineBuckets"]);
    });

    it("DynamoDB: the job table and its indexes, with the calls the functions make", () => {
      assert.deepEqual(grants(vpcEndpointPolicy("dynamodb", refs)), [
        // Erasure deletes job records.
        "dynamodb:DeleteItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:DeleteItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs/index/*",
        "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs/index/*",
        "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs/index/*",
        "dynamodb:Query arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:Query arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs/index/*",
        "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs/index/*",
      ]);
    });

    it("SNS: publishing on the pipeline's topic only", () => {
      assert.deepEqual(grants(vpcEndpointPolicy("sns", refs)), ["sns:Publish arn:aws:sns:eu-west-1:123456789012:p-notifications"]);
      assert.deepEqual([vpcEndpointPolicy("sns", refs).Statement[0]?.Sid, vpcEndpointPolicy("dynamodb", refs).Statement[0]?.Sid], ["PipelineEvents", "PipelineJobs"]);
    });
  });

  it("denies every non-TLS request to a bucket and its objects", () => {
    assert.deepEqual(tlsOnlyBucketPolicy("arn:aws:s3:::p-uploads"), {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: ["s3:*"],
          Resource: ["arn:aws:s3:::p-uploads", "arn:aws:s3:::p-uploads/*"],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
  });
});
