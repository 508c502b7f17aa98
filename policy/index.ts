import { PolicyPack } from "@pulumi/policy";
import { PACK_DESCRIPTION, PACK_ENFORCEMENT_LEVEL, PACK_NAME, policies } from "./policies";

// The only place the pack is constructed: constructing it starts the analyzer's gRPC server
// (and exits the process on a bad pack), so tests and the offline preview import ./policies.
new PolicyPack(PACK_NAME, {
  description: PACK_DESCRIPTION,
  enforcementLevel: PACK_ENFORCEMENT_LEVEL,
  policies,
});
