import { describePortContract } from "./portContract";
import { memoryPorts } from "./memoryPorts";

// The step tests run on these fakes; this holds them to the adapters' contract.
describe("in-memory ports", () => {
  const ports = memoryPorts();
  describePortContract(() => ports);
});
