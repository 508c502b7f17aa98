import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { aslTaskStates, type AslStateMachine } from "../../../components/aws/asl";
import type { PolicyDocument } from "../../../components/aws/iam";
import { AwsImagePipeline, lambdaName } from "../../../components/aws/imagePipeline";
import { MAX_BUNDLE_BYTES } from "../../../components/bundle";
import { loadConfig } from "../../../components/config";
import { STEP_HANDLERS } from "../../../functions/workflow";
import { acceptsInput, isTaggable, outputValue, setupPulumiMocks, type PulumiMocks } from "../../helpers/pulumiMocks";
import { assertLeastPrivilege, grants } from "./policyAssertions";

const KEY = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const stubCode = () => new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.noop = () => undefined;") });

describe("AwsImagePipeline, every option on", () => {
  const NAME = "ip-custom";
  let mocks: PulumiMocks;
  let pipeline: AwsImagePipeline;
  const mine = (type: string) => mocks.ofType(type).filter((r) => r.name.startsWith(`${NAME}-`));
  const one = (type: string, name: string) => mocks.get(type, name);
  const policyOf = (role: string) => JSON.parse(one("aws:iam/rolePolicy:RolePolicy", `${role}-policy`).inputs.policy) as PolicyDocument;

  before(async () => {
    mocks = await setupPulumiMocks({ stack: "prod", region: "us-east-2" });
    const config = loadConfig({
      vpc: true,
      kmsKeyArn: KEY,
      workflowType: "STANDARD",
      architecture: "x86_64",
      reservedConcurrency: 5,
      notificationEmail: "ops@example.com",
      renditionsInfrequentAccessDays: 60,
      region: "us-east-2",
      retentionDays: 7,
      logRetentionDays: 90,
      dataClassification: "confidential",
      steps: { optimize: { memoryMb: 3008, timeoutSeconds: 45 } },
      protectData: false,
    });
    pipeline = new AwsImagePipeline(NAME, { config, code: stubCode() });
    await mocks.settle();
  });

  describe("private networking (vpc: true)", () => {
    it("adds an awsx VPC with isolated subnets in two zones and no NAT gateway", () => {
      const vpc = one("awsx:ec2:Vpc", `${NAME}-network-vpc`);

      assert.equal(vpc.parentType, "image-pipeline:aws:PrivateNetwork");
      assert.deepEqual(vpc.inputs.subnetSpecs, [{ type: "Isolated", name: "functions", cidrMask: 20 }]);
      assert.deepEqual(vpc.inputs.natGateways, { strategy: "None" });
      assert.equal(vpc.inputs.numberOfAvailabilityZones, 2);
      assert.equal(vpc.inputs.enableDnsHostnames, true);
      assert.equal(vpc.inputs.region, "us-east-2");
    });

    it("reaches S3 and DynamoDB through gateway endpoints in the subnets' route tables, SNS through an interface endpoint", () => {
      const endpoint = (service: string) => one("aws:ec2/vpcEndpoint:VpcEndpoint", `${NAME}-network-${service}`).inputs;
      const routeTables = [`rtb-${NAME}-network-vpc-a`, `rtb-${NAME}-network-vpc-b`];

      for (const service of ["s3", "dynamodb"]) {
        assert.equal(endpoint(service).serviceName, `com.amazonaws.us-east-2.${service}`);
        assert.equal(endpoint(service).vpcEndpointType, "Gateway");
        assert.deepEqual(endpoint(service).routeTableIds, routeTables);
      }
      assert.equal(endpoint("sns").serviceName, "com.amazonaws.us-east-2.sns");
      assert.equal(endpoint("sns").vpcEndpointType, "Interface");
      assert.equal(endpoint("sns").privateDnsEnabled, true);
      assert.deepEqual(endpoint("sns").subnetIds, [`subnet-${NAME}-network-vpc-isolated-a`, `subnet-${NAME}-network-vpc-isolated-b`]);
      assert.deepEqual(endpoint("sns").securityGroupIds, [`${NAME}-network-endpoints`]);
    });

    it("admits through each endpoint only this pipeline's buckets, table or topic, with the actions the functions use", () => {
      const policy = (service: string) => JSON.parse(one("aws:ec2/vpcEndpoint:VpcEndpoint", `${NAME}-network-${service}`).inputs.policy) as PolicyDocument;
      const uploads = one("aws:s3/bucket:Bucket", `${NAME}-uploads`).state.arn as string;
      const renditions = one("aws:s3/bucket:Bucket", `${NAME}-renditions`).state.arn as string;
      const table = one("aws:dynamodb/table:Table", `${NAME}-jobs`).state.arn as string;
      const topic = one("aws:sns/topic:Topic", `${NAME}-notifications`).state.arn as string;

      assert.deepEqual(grants(policy("s3")), [`s3:DeleteObject ${renditions}/*`, `s3:DeleteObject ${uploads}/*`, `s3:GetObject ${renditions}/*`, `s3:GetObject ${uploads}/*`, `s3:GetObjectVersion ${renditions}/*`, `s3:GetObjectVersion ${uploads}/*`, `s3:ListBucket ${renditions}`, `s3:ListBucket ${uploads}`, `s3:PutObject ${renditions}/*`, `s3:PutObject ${uploads}/*`].sort());
      assert.deepEqual(grants(policy("dynamodb")), ["DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"].flatMap((action) => [`dynamodb:${action} ${table}`, `dynamodb:${action} ${table}/index/*`]).sort());
      assert.deepEqual(grants(policy("sns")), [`sns:Publish ${topic}`]);
    });

    it("lets the functions out on HTTPS to the endpoints only, and the endpoints in from the functions only", () => {
      const functions = one("aws:ec2/securityGroup:SecurityGroup", `${NAME}-network-functions`).inputs;
      const endpoints = one("aws:ec2/securityGroup:SecurityGroup", `${NAME}-network-endpoints`).inputs;

      assert.deepEqual(
        functions.egress.map((rule: Record<string, unknown>) => [rule.fromPort, rule.toPort, rule.cidrBlocks ?? "prefix lists"]),
        [
          [443, 443, "prefix lists"],
          [443, 443, ["10.0.0.0/16"]],
        ],
      );
      assert.equal(functions.ingress, undefined);
      assert.deepEqual(endpoints.ingress, [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [`${NAME}-network-functions`], description: "Step functions" }]);
    });

    it("runs every function in the isolated subnets, allowed to manage its network interfaces", async () => {
      for (const handler of STEP_HANDLERS) {
        assert.deepEqual(one("aws:lambda/function:Function", `${NAME}-${handler}`).inputs.vpcConfig, {
          subnetIds: [`subnet-${NAME}-network-vpc-isolated-a`, `subnet-${NAME}-network-vpc-isolated-b`],
          securityGroupIds: [`${NAME}-network-functions`],
        });
        const eni = policyOf(`${NAME}-${handler}`).Statement.find((s) => s.Sid === "VpcNetworkInterfaces");
        assert.deepEqual(eni?.Resource, ["*"], handler);
        assertLeastPrivilege(policyOf(`${NAME}-${handler}`), handler);
      }
      assert.equal(await outputValue(pipeline.vpcId!), `vpc-${NAME}-network-vpc`);
    });
  });

  describe("customer-managed KMS key", () => {
    it("encrypts both buckets with SSE-KMS and bucket keys", () => {
      for (const bucket of ["uploads", "renditions"]) {
        assert.deepEqual(one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${NAME}-${bucket}-encryption`).inputs.rules, [
          { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY }, bucketKeyEnabled: true },
        ]);
      }
    });

    it("encrypts the table, the topic and the functions' environment with it", () => {
      assert.deepEqual(one("aws:dynamodb/table:Table", `${NAME}-jobs`).inputs.serverSideEncryption, { enabled: true, kmsKeyArn: KEY });
      assert.equal(one("aws:sns/topic:Topic", `${NAME}-notifications`).inputs.kmsMasterKeyId, KEY);
      for (const handler of STEP_HANDLERS) assert.equal(one("aws:lambda/function:Function", `${NAME}-${handler}`).inputs.kmsKeyArn, KEY);
      assert.equal(one("aws:lambda/function:Function", `${NAME}-api`).inputs.kmsKeyArn, KEY, "the API's environment too");
    });

    it("encrypts every log group with that key", () => {
    const logGroups = mine("aws:cloudwatch/logGroup:LogGroup");
    assert.equal(logGroups.length, 12, "nine functions (six steps, the sweep, erasure, the API), the state machine, the reprocess state machine and the API's access logs");
    for (const group of logGroups) assert.equal(group.inputs.kmsKeyId, KEY, group.name);
  });

  it("lets every function use that key and no other", () => {
      for (const handler of STEP_HANDLERS) {
        const kms = policyOf(`${NAME}-${handler}`).Statement.filter((s) => s.Action.some((a) => a.startsWith("kms:")));
        assert.deepEqual(kms.map((s) => s.Resource), [[KEY]], handler);
      }
    });
  });

  it("leaves buckets and table deletable when protectData is off (a throwaway stack)", () => {
    assert.equal(one("aws:dynamodb/table:Table", `${NAME}-jobs`).inputs.deletionProtectionEnabled, false);
    for (const resource of pipeline.dataResources) assert.equal((resource as unknown as { __protect?: boolean }).__protect, false);
  });

  it("times a Standard run out after the workflow's 15 minutes, and the sweep's threshold follows it", () => {
    const asl = JSON.parse(one("aws:sfn/stateMachine:StateMachine", `${NAME}-workflow`).inputs.definition) as AslStateMachine;
    const sweep = one("aws:lambda/function:Function", `${NAME}-sweepStuckJobs`).inputs;

    assert.equal(asl.TimeoutSeconds, 900);
    // 900 s run timeout plus the sweep's 5-minute margin.
    assert.equal(sweep.environment.variables.STUCK_AFTER_SECONDS, "1200");
    assert.equal(sweep.reservedConcurrentExecutions, 5, "reserved only because reservedConcurrency asks for it");
  });

  it("encrypts the access-log bucket with SSE-S3 even with a KMS key (log delivery does not support SSE-KMS)", () => {
    assert.deepEqual(one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${NAME}-access-logs-bucket-encryption`).inputs.rules, [
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ]);
  });

  it("logs a Standard workflow's errors only, without execution data, as an Express one", () => {
    const { inputs } = one("aws:sfn/stateMachine:StateMachine", `${NAME}-workflow`);

    assert.equal(inputs.type, "STANDARD");
    assert.equal(inputs.loggingConfiguration.level, "ERROR");
    assert.equal(inputs.loggingConfiguration.includeExecutionData, false);
  });

  it("applies architecture, reserved concurrency, per-step settings and log retention to the functions", () => {
    for (const handler of STEP_HANDLERS) {
      const { inputs } = one("aws:lambda/function:Function", `${NAME}-${handler}`);
      assert.deepEqual(inputs.architectures, ["x86_64"]);
      assert.equal(inputs.reservedConcurrentExecutions, 5);
      assert.equal(inputs.memorySize, handler === "optimize" ? 3008 : 1024);
      assert.equal(inputs.timeout, handler === "optimize" ? 45 : 30);
      assert.equal(inputs.environment.variables.JOB_RETENTION_DAYS, "7");
      assert.equal(one("aws:cloudwatch/logGroup:LogGroup", `${NAME}-${handler}-logs`).inputs.retentionInDays, 90);
    }
    const asl = JSON.parse(one("aws:sfn/stateMachine:StateMachine", `${NAME}-workflow`).inputs.definition) as AslStateMachine;
    assert.equal(aslTaskStates(asl).find((t) => t.name === "Optimize")?.state.TimeoutSeconds, 55);
  });

  it("subscribes the notification email to the topic", () => {
    const subscription = one("aws:sns/topicSubscription:TopicSubscription", `${NAME}-notifications-email`);

    assert.deepEqual(
      { protocol: subscription.inputs.protocol, endpoint: subscription.inputs.endpoint, topic: subscription.inputs.topic },
      { protocol: "email", endpoint: "ops@example.com", topic: `arn:aws:sns:us-east-2:123456789012:${NAME}-notifications` },
    );
  });

  it("moves renditions to STANDARD_IA after renditionsInfrequentAccessDays, and keeps versions retentionDays", () => {
    const renditions = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${NAME}-renditions-lifecycle`).inputs;
    const uploads = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${NAME}-uploads-lifecycle`).inputs;

    assert.deepEqual(
      renditions.rules.find((r: { id: string }) => r.id === "infrequent-access"),
      { id: "infrequent-access", status: "Enabled", filter: { prefix: "" }, transitions: [{ days: 60, storageClass: "STANDARD_IA" }] },
    );
    assert.equal(renditions.transitionDefaultMinimumObjectSize, "all_storage_classes_128K");
    assert.deepEqual(uploads.rules.find((r: { id: string }) => r.id === "expire-noncurrent-versions").noncurrentVersionExpiration, { noncurrentDays: 7 });
  });

  it("places every regional resource in the configured region", () => {
    const regional = mocks.customResources().filter((r) => acceptsInput(r.type, "region"));

    // IAM and CloudFront are global; everything else is regional.
    assert.deepEqual(regional, mocks.customResources().filter((r) => !r.type.startsWith("aws:iam/") && !r.type.startsWith("aws:cloudfront/")));
    assert.ok(mocks.customResources().some((r) => r.type === "aws:cloudfront/distribution:Distribution"), "the CDN is part of this stack");
    for (const r of regional) assert.equal(r.inputs.region, "us-east-2", `${r.type} ${r.name}`);
  });

  it("tags every taggable resource, the VPC included, with the configured classification", () => {
    for (const r of mocks.resources.filter((r) => isTaggable(r.type) && r.type !== "image-pipeline:aws:ImagePipeline")) {
      assert.equal(r.inputs.tags?.["data-classification"], "confidential", `${r.type} ${r.name}`);
      assert.equal(r.inputs.tags?.stack, "prod", `${r.type} ${r.name}`);
    }
    assert.equal(mine("awsx:ec2:Vpc").length, 1);
  });
});

describe("AwsImagePipeline, code built when the program runs", () => {
  let mocks: PulumiMocks;
  let workDir: string;

  before(async function () {
    this.timeout(180_000);
    workDir = mkdtempSync(path.join(tmpdir(), "pipeline-code-"));
    const entry = path.join(workDir, "handlers.ts");
    writeFileSync(entry, ['import sharp from "sharp";', ...STEP_HANDLERS.map((h) => `export const ${h} = async () => sharp.versions.vips;`)].join("\n"));
    mocks = await setupPulumiMocks({ stack: "dev" });
    new AwsImagePipeline("ip-built", { config: loadConfig({}), entry });
    await mocks.settle();
  });

  after(() => rmSync(workDir, { recursive: true, force: true }));

  it("gives all eight functions (six steps, the sweep, erasure) the same zip, bundled for arm64 and within the size limit", async () => {
    const functions = mocks.ofType("aws:lambda/function:Function");
    const paths = await Promise.all(functions.filter((f) => f.name !== "ip-built-api").map(async (f) => (f.inputs.code as pulumi.asset.FileArchive).path));
    // The API (functions/aws/api.ts) is bundled on its own, for the same architecture.
    const apiPath = await (functions.find((f) => f.name === "ip-built-api")?.inputs.code as pulumi.asset.FileArchive | undefined)?.path;
    assert.ok(apiPath?.endsWith("-arm64.zip"), String(apiPath));
    assert.notEqual(apiPath, paths[0]);

    assert.equal(paths.length, 8);
    assert.equal(new Set(paths).size, 1, "one bundle for every function");
    const zipPath = paths[0]!;
    assert.ok(existsSync(zipPath) && zipPath.endsWith("-arm64.zip"), zipPath);
    assert.ok(statSync(zipPath).size <= MAX_BUNDLE_BYTES);
    const listing = execFileSync("unzip", ["-Z1", zipPath], { encoding: "utf8" });
    assert.match(listing, /^node_modules\/@img\/sharp-linux-arm64\/lib\/sharp-linux-arm64-[\d.]+\.node$/m);
  });
});

describe("Lambda names", () => {
  it("are the pipeline name and the handler, which the log group names repeat", () => {
    assert.equal(lambdaName("image-pipeline-dev", "notifySuccess"), "image-pipeline-dev-notifySuccess");
  });

  it("are refused beyond Lambda's 64 characters, naming the fix", () => {
    assert.throws(() => lambdaName("p".repeat(52), "notifySuccess"), /at most 64\); use a shorter pipeline name/);
  });
});
