import { describePortContract } from "../helpers/portContract";
import { memoryPorts } from "../../local/memoryPorts";

// The step tests run on these fakes; this holds them to the adapters' contract.
describe("in-memory ports", () => {
  const ports = memoryPorts();
  describePortContract(() => ports, { keepsVersions: true });
});
