import { asArray, asRecord, isUnknown, UNKNOWN, type Props, type Unknown } from "./support";

/**
 * Reading IAM and bucket policy documents as they reach a policy: a JSON text
 * or an object (aws 7 accepts both), possibly unknown at preview in whole or in
 * part. Pure functions, no side effects.
 */

export interface Statement {
  sid?: string;
  effect: unknown;
  /** `Action` as a list; undefined when absent; elements may be UNKNOWN. */
  actions?: unknown[];
  notActions?: unknown[];
  resources?: unknown[];
  notResources?: unknown[];
  principal: unknown;
  condition: unknown;
}

export type ParsedDocument =
  | { kind: "unknown" }
  | { kind: "invalid"; reason: string }
  | { kind: "document"; statements: Statement[]; unknownStatements: number };

function list(value: unknown): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (isUnknown(value)) return [UNKNOWN];
  return asArray(value) ?? [value];
}

/** Parses a policy document given as JSON text or object. */
export function parseDocument(value: unknown): ParsedDocument {
  if (isUnknown(value)) return { kind: "unknown" };
  let document: unknown = value;
  if (typeof value === "string") {
    try {
      document = JSON.parse(value) as unknown;
    } catch {
      return { kind: "invalid", reason: "it is not valid JSON" };
    }
  }
  const record = asRecord(document);
  if (!record) return { kind: "invalid", reason: "it is not a JSON object" };
  const statement = record.Statement;
  if (isUnknown(statement)) return { kind: "unknown" };
  const items = list(statement) ?? [];
  const statements: Statement[] = [];
  let unknownStatements = 0;
  for (const item of items) {
    const s = asRecord(item);
    if (!s) {
      if (isUnknown(item)) unknownStatements++;
      continue;
    }
    statements.push({
      sid: typeof s.Sid === "string" ? s.Sid : undefined,
      effect: s.Effect,
      actions: list(s.Action),
      notActions: list(s.NotAction),
      resources: list(s.Resource),
      notResources: list(s.NotResource),
      principal: s.Principal,
      condition: s.Condition,
    });
  }
  return { kind: "document", statements, unknownStatements };
}

/** `*` or a whole service (`s3:*`): grants every current and future action. */
export function isWildcardAction(action: unknown): boolean {
  return typeof action === "string" && (action.trim() === "*" || /^[A-Za-z0-9-]+:\*$/.test(action.trim()));
}

/**
 * Actions that have no resource-level permissions: AWS only accepts
 * `"Resource": "*"` for them (X-Ray segments and sampling, CloudWatch Logs
 * delivery for Step Functions logging, the ENI calls a Lambda in a VPC needs,
 * CloudWatch metrics). Any other action must name its resources.
 */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: readonly string[] = [
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
  "cloudwatch:PutMetricData",
];

/** Whether an `Allow` with `Resource: "*"` is acceptable for this action (IAM action names are case-insensitive). */
export function allowsResourceWildcard(action: unknown, extra: readonly string[] = []): boolean {
  if (typeof action !== "string") return true; // unknown: judged when known
  const wanted = action.trim().toLowerCase();
  return [...ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS, ...extra].some((a) => a.toLowerCase() === wanted);
}

export function isAllow(statement: Statement): boolean {
  return statement.effect === "Allow";
}

/** The statement names: its Sid, else its position. */
export function statementName(statement: Statement, index: number): string {
  return statement.sid ? `statement "${statement.sid}"` : `statement ${index + 1}`;
}

/** A principal of `*` or `{ AWS: "*" }`: everyone. */
export function isEveryone(principal: unknown): boolean {
  if (principal === "*") return true;
  const record = asRecord(principal);
  if (!record) return false;
  const aws = list(record.AWS) ?? [];
  return aws.includes("*");
}

/** The condition value for `operator` / `key`, both matched case-insensitively (IAM is). */
export function conditionValues(condition: unknown, operator: string, key: string): unknown[] | Unknown | undefined {
  if (isUnknown(condition)) return UNKNOWN;
  const record = asRecord(condition);
  if (!record) return undefined;
  for (const [op, entries] of Object.entries(record)) {
    if (op.toLowerCase() !== operator.toLowerCase()) continue;
    if (isUnknown(entries)) return UNKNOWN;
    const keys: Props = asRecord(entries) ?? {};
    for (const [k, v] of Object.entries(keys)) if (k.toLowerCase() === key.toLowerCase()) return list(v);
  }
  return undefined;
}

/**
 * A statement that denies every S3 request made without TLS:
 * `Deny`, principal everyone, action `s3:*` (or `*`), `Bool aws:SecureTransport false`.
 */
export function isTlsOnlyStatement(statement: Statement): boolean {
  if (statement.effect !== "Deny" || !isEveryone(statement.principal)) return false;
  const actions = (statement.actions ?? []).filter((a): a is string => typeof a === "string").map((a) => a.toLowerCase());
  if (!actions.includes("s3:*") && !actions.includes("*")) return false;
  const values = conditionValues(statement.condition, "Bool", "aws:SecureTransport");
  if (!Array.isArray(values)) return false;
  return values.some((v) => v === false || (typeof v === "string" && v.toLowerCase() === "false"));
}
