import * as assert from "node:assert/strict";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configFor, enforcementLevelOf, runPolicies, type AnalyzedResource } from "../../../local/preview/policyRunner";
import { UNKNOWN } from "../../helpers/policyHarness";

const topic: AnalyzedResource = {
  urn: "urn:pulumi:test::image-pipeline::aws:sns/topic:Topic::notifications",
  type: "aws:sns/topic:Topic",
  name: "notifications",
  custom: true,
  inputs: { kmsMasterKeyId: UNKNOWN, displayName: "Pipeline" },
  outputs: { kmsMasterKeyId: UNKNOWN, displayName: "Pipeline" },
};

function rule(validate: ResourceValidationPolicy["validateResource"], extra: Partial<ResourceValidationPolicy> = {}): ResourceValidationPolicy {
  return { name: "test-rule", description: "A rule for the runner's tests.", enforcementLevel: "mandatory", validateResource: validate, ...extra };
}

describe("policy runner (the analyzer host, in-process)", () => {
  it("turns a read of a value unknown at preview into an advisory, as the CLI does", async () => {
    const reads = rule((args, report) => {
      if (args.props.kmsMasterKeyId === undefined) report("never reached");
    });
    const [diagnostic, ...rest] = await runPolicies([reads], [topic]);
    assert.deepEqual(rest, []);
    assert.equal(diagnostic.enforcementLevel, "advisory");
    assert.equal(diagnostic.unknownAtPreview, true);
    assert.match(diagnostic.message, /^can't run policy 'test-rule' during preview: string value at \.kmsMasterKeyId can't be known during preview$/);
  });

  it("lets known values be read next to unknown ones", async () => {
    const reads = rule((args, report) => report(`Display name is ${args.props.displayName}.`));
    assert.deepEqual((await runPolicies([reads], [topic])).map((d) => d.message), ["Display name is Pipeline."]);
  });

  it("honours notApplicable", async () => {
    const skips = rule((args) => args.notApplicable("not an S3 resource"));
    assert.deepEqual(await runPolicies([skips], [topic]), []);
  });

  it("fails the run when a rule throws, naming the rule and the resource", async () => {
    const crashes = rule(() => {
      throw new Error("boom");
    });
    await assert.rejects(runPolicies([crashes], [topic]), { message: `Policy 'test-rule' failed on aws:sns/topic:Topic "notifications": boom` });
  });

  it("takes the enforcement level from config, then `all`, then the rule, then the pack", () => {
    const policy = { name: "p", enforcementLevel: "mandatory" as const };
    assert.equal(enforcementLevelOf(policy, { config: { p: "advisory", all: "disabled" } }), "advisory");
    assert.equal(enforcementLevelOf(policy, { config: { all: "disabled" } }), "disabled");
    assert.equal(enforcementLevelOf(policy, {}), "mandatory");
    assert.equal(enforcementLevelOf({ name: "q" }, { packEnforcementLevel: "remediate" }), "mandatory");
    assert.equal(enforcementLevelOf({ name: "q" }, {}), "advisory");
  });

  it("fills rule config from schema defaults under the given values", () => {
    const policy = { name: "p", configSchema: { properties: { a: { type: "string" as const, default: "x" }, b: { type: "integer" as const, default: 1 } } } };
    assert.deepEqual(configFor(policy, { config: { p: { enforcementLevel: "advisory", b: 2 } } }), { a: "x", b: 2 });
  });

  it("gives stack rules parents, dependencies and property dependencies as resources", async () => {
    const bucket: AnalyzedResource = { urn: "urn:b", type: "aws:s3/bucket:Bucket", name: "b", custom: true, parent: "urn:c", inputs: {}, outputs: {} };
    const component: AnalyzedResource = { urn: "urn:c", type: "x:index:C", name: "c", custom: false, inputs: {}, outputs: {} };
    const block: AnalyzedResource = { urn: "urn:p", type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name: "p", custom: true, inputs: {}, outputs: {}, dependencies: ["urn:b"], propertyDependencies: { bucket: ["urn:b"] } };
    const seen: string[] = [];
    const stackRule: StackValidationPolicy = {
      name: "stack-rule",
      description: "A stack rule for the runner's tests.",
      enforcementLevel: "mandatory",
      validateStack: (args, report) => {
        const [b, , p] = args.resources;
        seen.push(b.parent?.name ?? "none", p.dependencies[0].name, p.propertyDependencies.bucket[0].name);
        report("Stack-wide finding.");
        report("Resource finding.", b.urn);
      },
    };
    const diagnostics = await runPolicies([stackRule], [bucket, component, block]);
    assert.deepEqual(seen, ["c", "b", "b"]);
    assert.deepEqual(diagnostics.map((d) => [d.message, d.resourceName]), [["Stack-wide finding.", undefined], ["Resource finding.", "b"]]);
  });
});
