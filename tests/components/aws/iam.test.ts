import * as assert from "node:assert/strict";
import { stateMachinePolicy, startExecutionPolicy, stepFunctionPolicy, tlsOnlyBucketPolicy, UNSCOPED_ACTIONS, type StepPolicyRefs } from "../../../components/aws/iam";
import { assertLeastPrivilege, grants } from "./policyAssertions";
import { STEP_HANDLERS, type StepHandler } from "../../../functions/workflow";

const REFS: StepPolicyRefs = {
  uploadsBucketArn: "arn:aws:s3:::p-uploads",
  renditionsBucketArn: "arn:aws:s3:::p-renditions",
  workPrefix: "work/",
  tableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
  topicArn: "arn:aws:sns:eu-west-1:123456789012:p-notifications",
  logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/p-validate",
};
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
      resize: ["s3:GetObject arn:aws:s3:::p-uploads/*", "s3:GetObjectVersion arn:aws:s3:::p-uploads/*", "s3:ListBucket arn:aws:s3:::p-uploads", "s3:PutObject arn:aws:s3:::p-renditions/work/*"],
      applyFilters: ["s3:GetObject arn:aws:s3:::p-uploads/*", "s3:GetObjectVersion arn:aws:s3:::p-uploads/*", "s3:ListBucket arn:aws:s3:::p-uploads", "s3:PutObject arn:aws:s3:::p-renditions/work/*"],
      optimize: ["s3:GetObject arn:aws:s3:::p-renditions/work/*", "s3:ListBucket arn:aws:s3:::p-renditions", "s3:PutObject arn:aws:s3:::p-renditions/*"],
      notifySuccess: [
        "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
        "sns:Publish arn:aws:sns:eu-west-1:123456789012:p-notifications",
      ],
      notifyError: [
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

    it("optimize may never write into the work prefix, where objects expire in a day", () => {
      const document = stepFunctionPolicy("optimize", REFS);

      assert.deepEqual(grants(document, "Deny"), ["s3:PutObject arn:aws:s3:::p-renditions/work/*"]);
    });

    it("gives X-Ray trace upload on * (no resource-level permissions), and nothing else on *", () => {
      const star = stepFunctionPolicy("validate", REFS).Statement.filter((s) => s.Resource.includes("*"));

      assert.deepEqual(star.map((s) => s.Action), [["xray:PutTraceSegments", "xray:PutTelemetryRecords"]]);
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
      const eni = document.Statement.find((s) => s.Sid === "VpcNetworkInterfaces");

      assert.deepEqual(eni?.Resource, ["*"]);
      assert.deepEqual(eni?.Action, [...UNSCOPED_ACTIONS.vpcNetworkInterfaces]);
      assertLeastPrivilege(document, "resize in a VPC");
    });
  });

  it("lets the state machine invoke exactly its functions, and deliver logs and traces", () => {
    const arns = STEP_HANDLERS.map((h) => `arn:aws:lambda:eu-west-1:123456789012:function:p-${h}`);

    const document = stateMachinePolicy(arns);

    assert.deepEqual(grants(document), arns.map((arn) => `lambda:InvokeFunction ${arn}`).sort());
    assertLeastPrivilege(document, "state machine");
  });

  it("lets EventBridge start executions of one state machine only", () => {
    const arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:p";

    const document = startExecutionPolicy(arn);

    assert.deepEqual(grants(document), [`states:StartExecution ${arn}`]);
    assertLeastPrivilege(document, "events");
  });

  it("denies every non-TLS request to a bucket and its objects", () => {
    const [statement] = tlsOnlyBucketPolicy("arn:aws:s3:::p-uploads").Statement;

    assert.equal(statement?.Effect, "Deny");
    assert.equal(statement?.Principal, "*");
    assert.deepEqual(statement?.Resource, ["arn:aws:s3:::p-uploads", "arn:aws:s3:::p-uploads/*"]);
    assert.deepEqual(statement?.Condition, { Bool: { "aws:SecureTransport": "false" } });
  });
});
