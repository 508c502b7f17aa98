import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  activitiesPerInstance,
  buildAzureFunctionPackage,
  formatTimeSpan,
  hostJson,
  packageJson,
  taskHubName,
  type AzureFunctionPackage,
} from "../../../components/azure/functionPackage";
import { loadConfig } from "../../../components/config";
import { ACTIVITY_NAMES, ERASE_FUNCTION_NAME, FUNCTION_NAMES, LIST_UPLOADS_ACTIVITY, ORCHESTRATOR_NAME, REPROCESS_ORCHESTRATOR_NAME, REPROCESS_STARTER_NAME, REPROCESS_STATUS_NAME, STARTER_NAME, SWEEP_FUNCTION_NAME } from "../../../functions/azure/contract";

const readFromZip = (zipPath: string, entry: string): string => execFileSync("unzip", ["-p", zipPath, entry], { encoding: "utf8" });

describe("Azure function package", () => {
  describe("host.json", () => {
    it("sets functionTimeout to the longest step timeout of the stack", () => {
      const config = loadConfig({ cloud: "azure", timeoutSeconds: 60, steps: { optimize: { timeoutSeconds: 900 } } });

      assert.equal(hostJson(config, "hub").functionTimeout, "00:15:00");
      assert.equal(formatTimeSpan(3600), "01:00:00");
      assert.equal(formatTimeSpan(30), "00:00:30");
    });

    it("names the Durable task hub and sizes activity concurrency from instance memory", () => {
      const flex4g = loadConfig({ cloud: "azure", azure: { flexInstanceMemoryMb: 4096 } });
      const durable = (hostJson(flex4g, "imagepipelinedev").extensions as { durableTask: Record<string, unknown> }).durableTask;

      assert.equal(durable.hubName, "imagepipelinedev");
      assert.equal(durable.maxConcurrentActivityFunctions, 4);
      assert.equal(activitiesPerInstance(loadConfig({ cloud: "azure" })), 2);
      const small = loadConfig({ cloud: "azure", azure: { flexInstanceMemoryMb: 512 }, memoryMb: 512, limits: { maxPixels: 24_000_000 } });
      assert.equal((hostJson(small, "hub").extensions as { durableTask: Record<string, unknown> }).durableTask.maxConcurrentActivityFunctions, 1);
    });

    it("sends every trace unsampled, with the host's per-invocation lines and Durable's tracking below Warning left out and the functions' own records kept", () => {
      const logging = hostJson(loadConfig({ cloud: "azure" }), "hub").logging as { logLevel: Record<string, string>; applicationInsights: { samplingSettings: { isEnabled: boolean; excludedTypes: string } } };

      assert.equal(logging.applicationInsights.samplingSettings.excludedTypes, "Request;Exception;Trace");
      assert.equal(logging.logLevel.Function, "Warning");
      assert.equal(logging.logLevel["Host.Triggers.DurableTask"], "Warning");
      for (const name of ["StartImagePipeline", "Resize", "NotifyError", "SweepStuckJobs", "EraseUpload", "ApiUploads"]) assert.equal(logging.logLevel[`Function.${name}.User`], "Information", name);
      assert.equal(logging.logLevel.default, "Information");
    });

    it("makes task hub names of letters and digits that start with a letter", () => {
      assert.equal(taskHubName("image-pipeline-dev"), "imagepipelinedev");
      assert.equal(taskHubName("42-prod"), "hub42prod");
      assert.equal(taskHubName("x".repeat(80)).length, 45);
    });

    it("points package.json main at the bundle", () => {
      assert.equal(packageJson().main, "index.js");
    });
  });

  describe("built from functions/azure/app.ts", function () {
    this.timeout(180_000);
    let dir: string;
    let pkg: AzureFunctionPackage;

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), "azure-package-"));
      pkg = await buildAzureFunctionPackage(loadConfig({ cloud: "azure" }), "imagepipelinetest", path.join(dir, "out"));
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it("holds index.js, host.json, package.json and sharp's linux-x64 binaries at the root", () => {
      for (const file of ["index.js", "host.json", "package.json", "node_modules/sharp/package.json"]) assert.ok(pkg.files.includes(file), file);
      assert.ok(!pkg.files.some((f) => f.startsWith("node_modules/@azure/")), "the Azure SDKs are bundled into index.js");
      assert.ok(pkg.files.some((f) => f.startsWith("node_modules/@img/sharp-linux-x64/")));
      assert.equal(JSON.parse(readFromZip(pkg.zipPath, "host.json")).extensions.durableTask.hubName, "imagepipelinetest");
      assert.match(pkg.sha256, /^[0-9a-f]{64}$/);
    });

    it("loads outside the Functions host and registers the starter, the orchestrator, every activity, the sweep, erasure, the reprocess (start and status) and the HTTP API", () => {
      const run = path.join(dir, "run");
      execFileSync("unzip", ["-q", pkg.zipPath, "-d", run]);

      // Outside the host, @azure/functions runs in test mode and warns (on stderr) for each registration it skips.
      const result = spawnSync(process.execPath, ["-e", "require('./index.js')"], { cwd: run, encoding: "utf8", env: { ...process.env, NODE_PATH: "" } });

      assert.equal(result.status, 0, result.stderr);
      const registered = [...result.stderr.matchAll(/register function "([^"]+)"/g)].map((m) => m[1]).sort();
      assert.deepEqual(registered, [STARTER_NAME, ORCHESTRATOR_NAME, ...Object.values(ACTIVITY_NAMES), SWEEP_FUNCTION_NAME, ERASE_FUNCTION_NAME, REPROCESS_STARTER_NAME, REPROCESS_STATUS_NAME, REPROCESS_ORCHESTRATOR_NAME, LIST_UPLOADS_ACTIVITY, "ApiUploads", "ApiJobs", "ApiDocument"].sort());
      // host.json names each one's log category from the same list.
      assert.deepEqual(registered, [...FUNCTION_NAMES].sort());
    });
  });
});
