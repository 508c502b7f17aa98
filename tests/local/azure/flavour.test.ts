import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { AzureFlavour } from "../../../local/azure/flavour";
import { LOCAL_HEAP_FLAG } from "../../../local/heap";
import { mapWithConcurrency, startFlavour } from "../../../local/runtime";
import { MemoryNotifier } from "../../../local/memoryPorts";
import { describeImageFeatureScenarios } from "../imageFeatureScenarios";
import { describeFlavourContract, mixedInputs, outcomeOf, startHarness, TEST_PROCESSING, type Harness, type Outcome } from "../flavourScenarios";

/** The command line a process was started with (Linux /proc). */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

describe("local Azure runtime", function () {
  describeFlavourContract("azure");
  describeImageFeatureScenarios("azure");

  describe("parity with the AWS flavour", function () {
    this.timeout(180_000);
    const harnesses: Harness[] = [];

    after(async function () {
      await Promise.all(harnesses.map((harness) => harness.flavour.stop()));
    });

    it("gives the same statuses and the same manifests (keys, formats, dimensions) for the same inputs", async function () {
      const inputs = await mixedInputs();
      const outcomes: Record<string, Outcome[]> = {};
      for (const cloud of ["aws", "azure"] as const) {
        const harness = await startHarness(cloud);
        harnesses.push(harness);
        outcomes[cloud] = await mapWithConcurrency(inputs, 3, async (input) => {
          const event = await harness.flavour.upload(input.key, input.body);
          await harness.flavour.execute(event);
          return outcomeOf(harness.flavour, event);
        });
      }

      assert.deepEqual(outcomes.azure, outcomes.aws);
      assert.ok(outcomes.aws.some((outcome) => outcome.status === "succeeded") && outcomes.aws.some((outcome) => outcome.status === "failed"));
    });
  });

  describe("azurite's process", function () {
    this.timeout(60_000);

    it("runs with the local runtime's heap growth, or V8's default when asked", async function () {
      if (!existsSync("/proc/self/cmdline")) this.skip();
      for (const defaultHeapGrowth of [false, true]) {
        const flavour = (await startFlavour("azure", { processing: TEST_PROCESSING, notifier: new MemoryNotifier(), defaultHeapGrowth })) as AzureFlavour;
        try {
          const args = commandLine(flavour.azurite.pid);
          assert.equal(args.includes(LOCAL_HEAP_FLAG), !defaultHeapGrowth, `azurite's command line: ${args.join(" ")}`);
        } finally {
          await flavour.stop();
        }
      }
    });
  });
});
