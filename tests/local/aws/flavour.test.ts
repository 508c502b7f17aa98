import assert from "node:assert/strict";
import { renderAsl } from "../../../components/aws/asl";
import { workflow } from "../../../functions/workflow";
import { PipelineError } from "../../../functions/core/errors";
import { samplePhoto } from "../../../local/sampleImages";
import type { Ports } from "../../../functions/ports";
import { jobIdFor } from "../../../functions/steps";
import { localAsl, localFunctionArns } from "../../../local/aws/flavour";
import { startFlavour } from "../../../local/runtime";
import type { LocalFlavour, StepCall } from "../../../local/flavour";
import { MemoryNotifier } from "../../../local/memoryPorts";
import { describeImageFeatureScenarios } from "../imageFeatureScenarios";
import { describeFlavourContract, TEST_PROCESSING } from "../flavourScenarios";

describe("local AWS runtime", function () {
  it("runs the ASL the deployed state machine is rendered from, with local function ARNs", function () {
    const asl = localAsl();

    const deployed = renderAsl(workflow, localFunctionArns());

    // Only the local task timeouts differ (concurrent runs share this machine's cores).
    const strip = (machine: unknown) => JSON.parse(JSON.stringify(machine), (key, value) => (key === "TimeoutSeconds" && typeof value === "number" && value !== workflow.timeoutSeconds ? undefined : value));
    assert.deepEqual(strip(asl), strip(deployed));
  });

  describeFlavourContract("aws");
  describeImageFeatureScenarios("aws");

  // Only AWS can start a second run for one upload: on Azure the instance id is derived
  // from the upload, so the starter starts nothing for a duplicate delivery.
  describe("a duplicate delivery's run that fails before it knows it is a duplicate", function () {
    this.timeout(60_000);
    let flavour: LocalFlavour | undefined;
    after(async () => flavour?.stop());

    it("leaves the job of the run doing the work running, and that run ends it once", async function () {
      const notifier = new MemoryNotifier();
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const decoratePorts = (ports: Ports, call: StepCall): Ports => {
        if (call.runId === "duplicate-run" && call.handler === "validate") {
          // Every attempt of the duplicate's Validate fails to reach the job store, through all retries.
          const create = async (): Promise<boolean> => {
            throw new PipelineError("STORAGE_UNAVAILABLE", "Injected fault: DynamoDB did not answer.");
          };
          return { ...ports, jobs: { ...ports.jobs, create, finish: ports.jobs.finish.bind(ports.jobs), get: ports.jobs.get.bind(ports.jobs) } };
        }
        if (call.runId === "owner-run" && call.handler === "resize") {
          // The owning run pauses after Validate recorded the job, until the duplicate has failed.
          return { ...ports, objects: { ...ports.objects, get: async (area, key, version) => (await held, ports.objects.get(area, key, version)), head: ports.objects.head.bind(ports.objects), put: ports.objects.put.bind(ports.objects) } };
        }
        return ports;
      };
      flavour = await startFlavour("aws", { processing: TEST_PROCESSING, notifier, retryDelayMs: 5, decoratePorts });
      const event = await flavour.upload("dupes/late-failure.jpg", await samplePhoto({ width: 96, height: 64, seed: 41 }));
      const jobId = jobIdFor(event.sourceKey, event.sourceEtag, event.sourceVersion);

      const owner = flavour.execute(event, "owner-run");
      while ((await flavour.ports.jobs.get(jobId))?.status !== "running") await new Promise((resolve) => setTimeout(resolve, 10));
      const duplicate = await flavour.execute({ ...event }, "duplicate-run");
      const whileOwnerRuns = await flavour.ports.jobs.get(jobId);
      release();
      const ownerResult = await owner;
      const final = await flavour.ports.jobs.get(jobId);

      assert.equal(duplicate.status, "failed", "the duplicate's own run still ends failed");
      assert.equal(whileOwnerRuns?.status, "running");
      assert.equal(whileOwnerRuns?.error, undefined);
      assert.equal(ownerResult.status, "succeeded");
      assert.equal(final?.status, "succeeded");
      assert.deepEqual(notifier.events.map((e) => e.type), ["image.processed"]);
    });
  });
});
