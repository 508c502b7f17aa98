import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as aws from "../../policy/aws";
import * as azure from "../../policy/azure";
import * as common from "../../policy/common";
import { PACK_NAME, policies } from "../../policy/policies";

const POLICY_DIR = path.resolve(__dirname, "../../policy");
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function isPolicy(value: unknown): value is { name: string } {
  return typeof value === "object" && value !== null && "name" in value && "description" in value && ("validateResource" in value || "validateStack" in value);
}

describe("the policy pack", () => {
  describe("its rules", () => {
    it("have unique kebab-case names", () => {
      const names = policies.map((p) => p.name);
      assert.deepEqual(names.filter((n) => !KEBAB.test(n)), []);
      assert.equal(new Set(names).size, names.length);
    });

    it("each say what and why in a sentence, are mandatory, and have a severity", () => {
      for (const policy of policies) {
        assert.match(policy.description, /^[A-Z].{60,}\.$/s, policy.name);
        assert.equal(policy.enforcementLevel, "mandatory", policy.name);
        assert.ok(policy.severity, policy.name);
      }
    });

    it("are either resource or stack rules, with config schemas the CLI accepts", () => {
      for (const policy of policies) {
        const kinds = ["validateResource", "validateStack"].filter((k) => k in policy);
        assert.equal(kinds.length, 1, policy.name);
        assert.ok(!policy.configSchema?.properties.enforcementLevel, policy.name);
      }
    });

    it("include every rule the modules export", () => {
      const exported = ([...Object.values(common), ...Object.values(aws), ...Object.values(azure)] as unknown[]).filter(isPolicy);
      assert.deepEqual(exported.filter((p) => !policies.includes(p as never)).map((p) => p.name), []);
    });
  });

  describe("served as the Pulumi CLI runs it", function () {
    // ts-node type-checks the pack on start, as `pulumi preview --policy-pack policy` does.
    this.timeout(180_000);
    let child: ChildProcess | undefined;
    let client: AnalyzerClient | undefined;

    before(async () => {
      child = spawn(process.execPath, [require.resolve("@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:1", "."], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const port = await new Promise<string>((resolve, reject) => {
        const lines = readline.createInterface({ input: child!.stdout! });
        lines.on("line", (line) => /^\d+$/.test(line.trim()) && resolve(line.trim()));
        child!.on("exit", (code) => reject(new Error(`The pack exited with ${code} before serving:\n${stderr}`)));
      });
      client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
      client?.close();
      child?.kill();
    });

    const call = <Req, Res>(method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req) =>
      new Promise<Res>((resolve, reject) => method.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));

    it("describes the pack and every rule", async () => {
      const info = await call<Empty, analyzerProto.AnalyzerInfo>(client!.getAnalyzerInfo, new Empty());
      assert.equal(info.getName(), PACK_NAME);
      assert.deepEqual(info.getPoliciesList().map((p) => p.getName()).sort(), policies.map((p) => p.name).sort());
    });

    it("reports a resource violation with the rule's description and the resource's message", async () => {
      const request = new analyzerProto.AnalyzeRequest();
      request.setType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
      request.setName("uploads-public-access");
      request.setUrn("urn:pulumi:dev::image-pipeline::aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock::uploads-public-access");
      request.setProperties(Struct.fromJavaScript({ bucket: "uploads", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: false }));
      request.setOptions(new analyzerProto.AnalyzerResourceOptions());
      const response = await call<analyzerProto.AnalyzeRequest, analyzerProto.AnalyzeResponse>(client!.analyze, request);
      const diagnostics = response.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), message: d.getMessage() }));
      assert.deepEqual(diagnostics, [
        {
          policy: "aws-s3-public-access-block-complete",
          message: `${aws.s3PublicAccessBlockComplete.description}\nThe aws.s3.BucketPublicAccessBlock "uploads-public-access" leaves restrictPublicBuckets unset or false; set all four flags to true.`,
        },
      ]);
    });

    it("runs stack rules over all resources", async () => {
      const bucket = new analyzerProto.AnalyzerResource();
      bucket.setType("aws:s3/bucket:Bucket");
      bucket.setName("uploads");
      bucket.setUrn("urn:pulumi:dev::image-pipeline::aws:s3/bucket:Bucket::uploads");
      bucket.setProperties(Struct.fromJavaScript({ bucket: "uploads-1a2b3c4", tags: { project: "image-pipeline", stack: "dev", "data-classification": "internal" } }));
      bucket.setOptions(new analyzerProto.AnalyzerResourceOptions());
      const request = new analyzerProto.AnalyzeStackRequest();
      request.setResourcesList([bucket]);
      const response = await call<analyzerProto.AnalyzeStackRequest, analyzerProto.AnalyzeResponse>(client!.analyzeStack, request);
      const policiesHit = response.getDiagnosticsList().map((d) => d.getPolicyname()).sort();
      assert.deepEqual(policiesHit, ["aws-s3-bucket-default-encryption", "aws-s3-bucket-lifecycle", "aws-s3-bucket-public-access-blocked", "aws-s3-bucket-tls-only", "aws-s3-uploads-access-logging", "aws-s3-uploads-versioning"]);
    });
  });
});
