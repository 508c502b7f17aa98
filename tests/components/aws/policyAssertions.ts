import * as assert from "node:assert/strict";
import type { PolicyDocument, StepPolicyRefs } from "../../../components/aws/iam";

/** A pipeline's resources `p-*` in eu-west-1 / account 123456789012, as the step policies' tests name them. */
export const SAMPLE_REFS: StepPolicyRefs = {
  uploadsBucketArn: "arn:aws:s3:::p-uploads",
  renditionsBucketArn: "arn:aws:s3:::p-renditions",
  workPrefix: "work/",
  tableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/p-jobs",
  topicArn: "arn:aws:sns:eu-west-1:123456789012:p-notifications",
  logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/p-validate",
};

/** Actions that may (only) be granted on "*": AWS has no resource-level permissions for them. Written out, not read from the code under test. */
export const UNSCOPED = new Set<string>([
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
]);

/** `action resource` pairs the document grants (or denies), sorted, leaving out the unscoped actions. */
export function grants(document: PolicyDocument, effect: "Allow" | "Deny" = "Allow"): string[] {
  return document.Statement.filter((s) => s.Effect === effect)
    .flatMap((s) => s.Action.flatMap((action) => s.Resource.map((resource) => `${action} ${resource}`)))
    .filter((grant) => !UNSCOPED.has(grant.split(" ")[0]!))
    .sort();
}

/** No wildcard in an allowed action; "*" as a resource only, alone, and only for unscoped actions. */
export function assertLeastPrivilege(document: PolicyDocument, label: string): void {
  for (const statement of document.Statement.filter((s) => s.Effect === "Allow")) {
    for (const action of statement.Action) assert.ok(!action.includes("*"), `${label}: wildcard action ${action}`);
    if (statement.Resource.includes("*")) {
      assert.deepEqual(statement.Resource, ["*"], `${label}: "*" stands alone`);
      for (const action of statement.Action) assert.ok(UNSCOPED.has(action), `${label}: ${action} on "*" but it supports resource-level permissions`);
    }
  }
}
