import * as assert from "node:assert/strict";
import { renderReprocessAsl, reprocessPolicy, ReprocessWorkflow, REPROCESS_STATES } from "../../../components/aws/reprocess";
import { setupPulumiMocks, type PulumiMocks } from "../../helpers/pulumiMocks";

interface AslValidation {
  isValid: boolean;
  errorsText: (separator?: string) => string;
}
// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (definition: unknown, options?: { checkArn?: boolean; checkPaths?: boolean }) => AslValidation;

const PIPELINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:pipeline";
const REFS = { uploadsBucketName: "pipeline-uploads", pipelineStateMachineArn: PIPELINE };
const SETTINGS = { maxConcurrency: 40, toleratedFailurePercent: 5, batchSize: 25 };

type Json = Record<string, unknown>;
const at = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((node, key) => (node as Json)[key], value);

describe("the reprocess state machine (Distributed Map over the uploads listing)", () => {
  let asl: Json;
  beforeEach(() => {
    asl = renderReprocessAsl(REFS, SETTINGS);
  });

  it("is valid ASL for asl-validator, ARNs and paths checked", () => {
    const result = aslValidator(structuredClone(asl), { checkArn: true, checkPaths: true });
    assert.equal(result.isValid, true, result.errorsText("\n"));
  });

  it("reads the uploads bucket's listing under the given prefix, defaulting to every upload", () => {
    const map = at(asl, "States", REPROCESS_STATES.map) as Json;
    assert.deepEqual(map.ItemReader, { Resource: "arn:aws:states:::s3:listObjectsV2", Parameters: { Bucket: "pipeline-uploads", "Prefix.$": "$.prefix" } });
    assert.deepEqual(at(asl, "States", REPROCESS_STATES.everyUpload, "Parameters"), { prefix: "" });
    assert.equal(at(asl, "StartAt"), REPROCESS_STATES.choosePrefix);
  });

  it("takes batch size, concurrency and tolerated failure from the config, with EXPRESS children", () => {
    const map = at(asl, "States", REPROCESS_STATES.map) as Json;
    assert.equal(at(map, "ItemBatcher", "MaxItemsPerBatch"), 25);
    assert.equal(map.MaxConcurrency, 40);
    assert.equal(map.ToleratedFailurePercentage, 5);
    assert.deepEqual(at(map, "ItemProcessor", "ProcessorConfig"), { Mode: "DISTRIBUTED", ExecutionType: "EXPRESS" });
  });

  it("starts the pipeline per key with the reprocess execution's name as the generation", () => {
    const map = at(asl, "States", REPROCESS_STATES.map) as Json;
    assert.deepEqual(at(map, "ItemBatcher", "BatchInput"), { "generation.$": "$$.Execution.Name" });
    const batch = at(map, "ItemProcessor", "States", REPROCESS_STATES.startBatch) as Json;
    assert.equal(batch.ItemsPath, "$.Items");
    assert.deepEqual(batch.ItemSelector, { "sourceKey.$": "$$.Map.Item.Value.Key", "sourceEtag.$": "$$.Map.Item.Value.Etag", "generation.$": "$.BatchInput.generation" });
    const start = at(batch, "ItemProcessor", "States", REPROCESS_STATES.start) as Json;
    assert.equal(start.Resource, "arn:aws:states:::states:startExecution");
    assert.deepEqual(start.Parameters, { StateMachineArn: PIPELINE, "Input.$": "$" });
  });

  it("skips folder markers (keys ending in /)", () => {
    const choice = at(asl, "States", REPROCESS_STATES.map, "ItemProcessor", "States", REPROCESS_STATES.startBatch, "ItemProcessor", "States", REPROCESS_STATES.skipFolders) as Json;
    assert.deepEqual(choice.Choices, [{ Variable: "$.sourceKey", StringMatches: "*/", Next: REPROCESS_STATES.skip }]);
  });
});

describe("the reprocess role's policy", () => {
  const policy = reprocessPolicy({
    reprocessStateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:reprocess-dev",
    pipelineStateMachineArn: PIPELINE,
    uploadsBucketArn: "arn:aws:s3:::pipeline-uploads",
  });
  const bySid = (sid: string) => policy.Statement.find((statement) => statement.Sid === sid);

  it("may start its own map children and the pipeline, and watch only its own executions", () => {
    assert.deepEqual(bySid("RunMapChildren")?.Resource, ["arn:aws:states:eu-west-1:123456789012:stateMachine:reprocess-dev"]);
    assert.deepEqual(bySid("WatchMapChildren")?.Resource, ["arn:aws:states:eu-west-1:123456789012:execution:reprocess-dev:*"]);
    assert.deepEqual(bySid("StartPipeline"), { Sid: "StartPipeline", Effect: "Allow", Action: ["states:StartExecution"], Resource: [PIPELINE] });
  });

  it("may list the uploads bucket and read no object", () => {
    assert.deepEqual(bySid("ListUploads"), { Sid: "ListUploads", Effect: "Allow", Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::pipeline-uploads"] });
    assert.equal(policy.Statement.some((statement) => statement.Action.includes("s3:GetObject")), false);
  });
});

describe("ReprocessWorkflow component (Pulumi mocks)", () => {
  let mocks: PulumiMocks;
  before(async () => {
    mocks = await setupPulumiMocks({ project: "image-pipeline", stack: "dev", region: "eu-west-1", accountId: "123456789012" });
    new ReprocessWorkflow("p-reprocess", { uploadsBucketName: "p-uploads", uploadsBucketArn: "arn:aws:s3:::p-uploads", pipelineStateMachineArn: PIPELINE, settings: SETTINGS, logRetentionDays: 14, accountId: "123456789012", tags: { project: "image-pipeline" } });
    await mocks.settle();
  });

  it("deploys a logged, traced STANDARD machine running the rendered Distributed Map", () => {
    const machine = mocks.get("aws:sfn/stateMachine:StateMachine", "p-reprocess");
    assert.equal(machine.inputs.type, "STANDARD");
    assert.deepEqual(machine.inputs.tracingConfiguration, { enabled: true });
    assert.equal(machine.inputs.loggingConfiguration.level, "ERROR");
    const definition = JSON.parse(machine.inputs.definition) as Json;
    assert.equal(at(definition, "States", REPROCESS_STATES.map, "ItemReader", "Parameters", "Bucket"), "p-uploads");
  });

  it("gives its role log delivery first and the map's permissions on its own ARN", () => {
    const logs = JSON.parse(mocks.get("aws:iam/rolePolicy:RolePolicy", "p-reprocess-log-policy").inputs.policy) as { Statement: { Sid: string }[] };
    assert.deepEqual(logs.Statement.map((s) => s.Sid), ["DeliverLogs", "WriteTraces"]);
    const run = JSON.parse(mocks.get("aws:iam/rolePolicy:RolePolicy", "p-reprocess-policy").inputs.policy) as { Statement: { Sid: string; Resource: string[] }[] };
    assert.deepEqual(run.Statement.map((s) => s.Sid), ["RunMapChildren", "WatchMapChildren", "ListUploads", "StartPipeline"]);
    assert.match(run.Statement[0].Resource[0], /^arn:aws:states:.*:stateMachine:p-reprocess/);
  });
});
