import * as assert from "node:assert/strict";
import { allowsResourceWildcard, conditionValues, isEveryone, isTlsOnlyStatement, isWildcardAction, parseDocument, statementName, type Statement } from "../../policy/iam";
import { UNKNOWN } from "../../policy/support";

/** A parsed statement, as the rules receive it. */
function statement(raw: Record<string, unknown>): Statement {
  const parsed = parseDocument({ Statement: [raw] });
  assert.ok(parsed.kind === "document");
  return parsed.statements[0]!;
}

describe("reading policy documents", () => {
  describe("parseDocument", () => {
    it("reads JSON text and objects alike, with single values as lists", () => {
      const raw = { Statement: { Sid: "Read", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*", Principal: "*", Condition: { Bool: { x: "y" } } } };

      const expected = {
        kind: "document",
        unknownStatements: 0,
        statements: [
          {
            sid: "Read",
            effect: "Allow",
            actions: ["s3:GetObject"],
            notActions: undefined,
            resources: ["arn:aws:s3:::b/*"],
            notResources: undefined,
            principal: "*",
            condition: { Bool: { x: "y" } },
          },
        ],
      };
      assert.deepEqual(parseDocument(raw), expected);
      assert.deepEqual(parseDocument(JSON.stringify(raw)), expected);
    });

    it("keeps NotAction and NotResource apart from Action and Resource", () => {
      const parsed = statement({ Effect: "Allow", NotAction: ["iam:*"], NotResource: "arn:aws:s3:::secret/*" });

      assert.deepEqual([parsed.actions, parsed.notActions, parsed.resources, parsed.notResources], [undefined, ["iam:*"], undefined, ["arn:aws:s3:::secret/*"]]);
    });

    it("names a statement by its Sid, else by its position", () => {
      assert.equal(statementName(statement({ Sid: "ReadUploads", Effect: "Allow" }), 0), 'statement "ReadUploads"');
      assert.equal(statementName(statement({ Effect: "Allow" }), 2), "statement 3");
      assert.equal(statement({ Sid: 7, Effect: "Allow" }).sid, undefined, "a Sid that is not a string is no name");
    });

    it("says why a document cannot be read", () => {
      assert.deepEqual(parseDocument("{not json"), { kind: "invalid", reason: "it is not valid JSON" });
      assert.deepEqual(parseDocument("[1, 2]"), { kind: "invalid", reason: "it is not a JSON object" });
      assert.deepEqual(parseDocument(42), { kind: "invalid", reason: "it is not a JSON object" });
    });

    it("reads a document without statements as empty", () => {
      assert.deepEqual(parseDocument({ Version: "2012-10-17" }), { kind: "document", statements: [], unknownStatements: 0 });
    });

    it("marks what is unknown at preview: the whole document, its statement list, or single statements and values", () => {
      assert.deepEqual(parseDocument(UNKNOWN), { kind: "unknown" });
      assert.deepEqual(parseDocument({ Statement: UNKNOWN }), { kind: "unknown" });
      const parsed = parseDocument({ Statement: [UNKNOWN, "not a statement", { Effect: "Allow", Action: UNKNOWN }] });
      assert.ok(parsed.kind === "document");
      assert.equal(parsed.unknownStatements, 1);
      assert.equal(parsed.statements.length, 1);
      assert.deepEqual(parsed.statements[0]?.actions, [UNKNOWN]);
    });
  });

  it("treats * and whole services as wildcard actions, and nothing else", () => {
    for (const action of ["*", " * ", "s3:*", "dynamodb:*", "execute-api:*"]) assert.equal(isWildcardAction(action), true, action);
    for (const action of ["s3:Get*", "s3:GetObject", "*:GetObject", "s3:*Object", "", 5, undefined]) assert.equal(isWildcardAction(action), false, String(action));
  });

  it("allows * as a resource only for actions without resource-level permissions, in any case, plus the configured ones", () => {
    assert.equal(allowsResourceWildcard("xray:PutTraceSegments"), true);
    assert.equal(allowsResourceWildcard(" XRAY:puttracesegments "), true);
    assert.equal(allowsResourceWildcard("cloudwatch:PutMetricData"), true);
    assert.equal(allowsResourceWildcard("s3:GetObject"), false);
    assert.equal(allowsResourceWildcard("states:ListStateMachines"), false);
    assert.equal(allowsResourceWildcard("states:ListStateMachines", ["states:ListStateMachines"]), true);
    assert.equal(allowsResourceWildcard(UNKNOWN), true, "an unknown action is judged once known");
  });

  it("recognises everyone as a principal: *, or AWS * alone or in a list", () => {
    for (const principal of ["*", { AWS: "*" }, { AWS: ["arn:aws:iam::123456789012:root", "*"] }]) assert.equal(isEveryone(principal), true, JSON.stringify(principal));
    for (const principal of [{ AWS: "arn:aws:iam::123456789012:root" }, { Service: "*" }, "123456789012", undefined, {}]) assert.equal(isEveryone(principal), false, JSON.stringify(principal));
  });

  it("reads condition values by operator and key, case-insensitively", () => {
    const condition = { Bool: { "aws:SecureTransport": "false" }, StringEquals: { "aws:SourceAccount": ["1", "2"] } };

    assert.deepEqual(conditionValues(condition, "bool", "AWS:SECURETRANSPORT"), ["false"]);
    assert.deepEqual(conditionValues(condition, "StringEquals", "aws:SourceAccount"), ["1", "2"]);
    assert.equal(conditionValues(condition, "Bool", "aws:SourceAccount"), undefined);
    assert.equal(conditionValues(condition, "StringLike", "aws:SecureTransport"), undefined);
    assert.equal(conditionValues(undefined, "Bool", "aws:SecureTransport"), undefined);
    assert.equal(conditionValues(UNKNOWN, "Bool", "aws:SecureTransport"), UNKNOWN);
    assert.equal(conditionValues({ Bool: UNKNOWN }, "Bool", "aws:SecureTransport"), UNKNOWN);
  });

  it("recognises the TLS-only deny and nothing weaker", () => {
    const tlsDeny = { Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } };

    assert.equal(isTlsOnlyStatement(statement(tlsDeny)), true);
    assert.equal(isTlsOnlyStatement(statement({ ...tlsDeny, Action: ["s3:GetObject", "S3:*"] })), true);
    assert.equal(isTlsOnlyStatement(statement({ ...tlsDeny, Condition: { Bool: { "aws:SecureTransport": ["true", "false"] } } })), true);
    assert.equal(isTlsOnlyStatement(statement({ ...tlsDeny, Condition: { Bool: { "aws:SecureTransport": "true" } } })), false);
    assert.equal(isTlsOnlyStatement(statement({ ...tlsDeny, Condition: { Bool: { "aws:SecureTransport": UNKNOWN } } })), false);
    assert.equal(isTlsOnlyStatement(statement({ ...tlsDeny, Condition: UNKNOWN })), false);
    assert.equal(isTlsOnlyStatement(statement({ ...tlsDeny, Action: undefined })), false);
  });
});
