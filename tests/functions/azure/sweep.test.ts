import assert from "node:assert/strict";
import { InvocationContext, type Timer } from "@azure/functions";
import { workflow } from "../../../functions/workflow";
import { createAzurePorts } from "../../../functions/azure/adapters";
import { SWEEP_SCHEDULE } from "../../../functions/azure/contract";
import { createSweepHandler } from "../../../functions/azure/sweep";
import { defaultProcessingOptions } from "../../../functions/core/options";
import type { Ports } from "../../../functions/ports";
import { stuckAfterSeconds } from "../../../functions/steps";
import { provisionAzure, startAzurite, type AzuriteEmulator } from "../../../local/emulators";
import { MemoryNotifier } from "../../../local/memoryPorts";

/** A durable client fake that records terminations; instances in `gone` answer as the extension does for an unknown id. */
function durableClient(gone: string[] = []) {
  const terminated: Array<{ instanceId: string; reason: string }> = [];
  return {
    terminated,
    async terminate(instanceId: string, reason: string) {
      if (gone.includes(instanceId)) throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response for ${instanceId}.`);
      terminated.push({ instanceId, reason });
    },
  };
}

const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

describe("Azure stuck-job sweep (timer function) against azurite", function () {
  this.timeout(60_000);
  let azurite: AzuriteEmulator;
  let ports: Ports;
  let notifier: MemoryNotifier;

  before(async () => {
    azurite = await startAzurite();
    await provisionAzure({ connectionString: azurite.connectionString, tableName: "jobs" });
    notifier = new MemoryNotifier();
    ports = createAzurePorts({ connectionString: azurite.connectionString, tableName: "jobs", notifier, maxAttempts: 1 });
  });

  after(async () => azurite?.stop());

  it("runs every 5 minutes (NCRONTAB, seconds first)", () => {
    assert.equal(SWEEP_SCHEDULE, "0 */5 * * * *");
  });

  it("fails jobs running past the workflow's timeout with TIMEOUT, publishes one event each and terminates their orchestrations", async () => {
    const longAgo = new Date(Date.now() - (stuckAfterSeconds(workflow) + 60) * 1000).toISOString();
    const now = new Date().toISOString();
    await ports.objects.put("uploads", "photos/stuck.jpg", Buffer.from("jpeg"), "image/jpeg");
    await ports.jobs.create({ jobId: "azure-stuck", sourceKey: "photos/stuck.jpg", status: "running", createdAt: longAgo, updatedAt: longAgo });
    await ports.objects.put("uploads", "photos/young.jpg", Buffer.from("jpeg"), "image/jpeg");
    await ports.jobs.create({ jobId: "azure-young", sourceKey: "photos/young.jpg", status: "running", createdAt: now, updatedAt: now });
    const handler = createSweepHandler(() => ({ ports, options: defaultProcessingOptions() }));
    const client = durableClient();

    const logged: string[] = [];
    const result = await handler(timer, client, new InvocationContext({ functionName: "SweepStuckJobs", logHandler: (level, ...args) => void (level === "information" && logged.push(String(args[0]))) }));

    assert.deepEqual(result.failed, ["azure-stuck"]);
    const records = logged.filter((line) => line.startsWith('{"source"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(records, [{ source: "image-pipeline", jobId: "azure-stuck", step: "sweepStuckJobs", durationMs: 0, outcome: "succeeded", errorCode: "TIMEOUT", job: "failed" }], "the swept job's record, which the alerts count");
    assert.deepEqual(client.terminated.map((t) => t.instanceId), ["azure-stuck"], "the orchestration (instance id = job id) is stopped");
    assert.match(client.terminated[0]?.reason ?? "", /TIMEOUT/);
    assert.equal((await ports.jobs.get("azure-stuck"))?.error?.code, "TIMEOUT");
    assert.equal((await ports.jobs.get("azure-young"))?.status, "running");
    assert.deepEqual(notifier.events.map((e) => [e.type, e.jobId]), [["image.failed", "azure-stuck"]]);
  });

  it("logs one line with the error code when the job store cannot be read, and fails the invocation", async () => {
    const down = createAzurePorts({ connectionString: azurite.connectionString.replace(/TableEndpoint=[^;]+/, "TableEndpoint=http://127.0.0.1:9/devstoreaccount1"), tableName: "jobs", notifier, maxAttempts: 1 });
    const errors: unknown[] = [];
    const context = new InvocationContext({ functionName: "SweepStuckJobs", logHandler: (level, ...args) => void (level === "error" && errors.push(args.join(" "))) });

    await assert.rejects(createSweepHandler(() => ({ ports: down, options: defaultProcessingOptions() }))(timer, durableClient(), context), { code: "STORAGE_UNAVAILABLE" });
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /^STORAGE_UNAVAILABLE: /);
  });

  it("still records the job when its orchestration no longer exists, and says so in a warning", async () => {
    const longAgo = new Date(Date.now() - (stuckAfterSeconds(workflow) + 60) * 1000).toISOString();
    await ports.objects.put("uploads", "photos/orphan.jpg", Buffer.from("jpeg"), "image/jpeg");
    await ports.jobs.create({ jobId: "azure-orphan", sourceKey: "photos/orphan.jpg", status: "running", createdAt: longAgo, updatedAt: longAgo });
    const warnings: string[] = [];
    const context = new InvocationContext({ functionName: "SweepStuckJobs", logHandler: (level, ...args) => void (level === "warning" && warnings.push(args.join(" "))) });

    const result = await createSweepHandler(() => ({ ports, options: defaultProcessingOptions() }))(timer, durableClient(["azure-orphan"]), context);

    assert.deepEqual(result.failed, ["azure-orphan"]);
    assert.equal((await ports.jobs.get("azure-orphan"))?.status, "failed");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /Could not terminate orchestration azure-orphan/);
  });
});
