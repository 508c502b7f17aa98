import assert from "node:assert/strict";
import { mapWithConcurrency } from "../../local/runtime";
import { describeFlavourContract, mixedInputs, outcomeOf, startHarness, type Harness, type Outcome } from "./flavourScenarios";

describe("local Azure runtime", function () {
  describeFlavourContract("azure");

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
});
