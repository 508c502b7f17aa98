import assert from "node:assert/strict";
import { InvocationContext, type Timer } from "@azure/functions";
import { workflow } from "../../../components/workflow";
import { createAzurePorts } from "../../../functions/azure/adapters";
import { SWEEP_SCHEDULE } from "../../../functions/azure/names";
import { createSweepHandler } from "../../../functions/azure/sweep";
import { defaultProcessingOptions } from "../../../functions/core/options";
import type { Ports } from "../../../functions/ports";
import { stuckAfterSeconds } from "../../../functions/steps";
import { provisionAzure, startAzurite, type AzuriteEmulator } from "../../../local/emulators";
import { MemoryNotifier } from "../../helpers/memoryPorts";

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

  it("fails jobs running past the workflow's timeout with TIMEOUT and publishes one event each", async () => {
    const longAgo = new Date(Date.now() - (stuckAfterSeconds(workflow) + 60) * 1000).toISOString();
    const now = new Date().toISOString();
    await ports.jobs.create({ jobId: "azure-stuck", sourceKey: "photos/stuck.jpg", status: "running", createdAt: longAgo, updatedAt: longAgo });
    await ports.jobs.create({ jobId: "azure-young", sourceKey: "photos/young.jpg", status: "running", createdAt: now, updatedAt: now });
    const handler = createSweepHandler(() => ({ ports, options: defaultProcessingOptions() }));

    const result = await handler(timer, new InvocationContext({ functionName: "SweepStuckJobs" }));

    assert.deepEqual(result.failed, ["azure-stuck"]);
    assert.equal((await ports.jobs.get("azure-stuck"))?.error?.code, "TIMEOUT");
    assert.equal((await ports.jobs.get("azure-young"))?.status, "running");
    assert.deepEqual(notifier.events.map((e) => [e.type, e.jobId]), [["image.failed", "azure-stuck"]]);
  });

  it("logs one line with the error code when the job store cannot be read, and fails the invocation", async () => {
    const down = createAzurePorts({ connectionString: azurite.connectionString.replace(/TableEndpoint=[^;]+/, "TableEndpoint=http://127.0.0.1:9/devstoreaccount1"), tableName: "jobs", notifier, maxAttempts: 1 });
    const errors: unknown[] = [];
    const context = new InvocationContext({ functionName: "SweepStuckJobs", logHandler: (level, ...args) => void (level === "error" && errors.push(args.join(" "))) });

    await assert.rejects(createSweepHandler(() => ({ ports: down, options: defaultProcessingOptions() }))(timer, context), { code: "STORAGE_UNAVAILABLE" });
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /^STORAGE_UNAVAILABLE: /);
  });
});
