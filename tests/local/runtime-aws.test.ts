import assert from "node:assert/strict";
import { renderAsl } from "../../components/aws/asl";
import { workflow } from "../../components/workflow";
import { localAsl, localFunctionArns } from "../../local/aws";
import { describeFlavourContract } from "./flavourScenarios";

describe("local AWS runtime", function () {
  it("runs the ASL the deployed state machine is rendered from, with local function ARNs", function () {
    const asl = localAsl();

    const deployed = renderAsl(workflow, localFunctionArns());

    // Only the local task timeouts differ (concurrent runs share this machine's cores).
    const strip = (machine: unknown) => JSON.parse(JSON.stringify(machine), (key, value) => (key === "TimeoutSeconds" && typeof value === "number" && value !== workflow.timeoutSeconds ? undefined : value));
    assert.deepEqual(strip(asl), strip(deployed));
  });

  describeFlavourContract("aws");
});
