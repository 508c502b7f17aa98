import type { EnforcementLevel, Policies } from "@pulumi/policy";
import { awsPolicies } from "./aws";
import { azurePolicies } from "./azure";
import { commonPolicies } from "./common";

/**
 * Every rule of the pack, with no side effects: policy/index.ts serves them to
 * the Pulumi CLI, local/preview/cli.ts runs them in-process, tests import them.
 */

export const PACK_NAME = "image-pipeline-policies";

export const PACK_DESCRIPTION =
  "Guardrails for the image pipeline on AWS and Azure: private, encrypted, TLS-only storage with recoverable uploads; supported, traced, private functions; least-privilege IAM; logs with retention; required tags; EU data residency.";

/** Level for a rule that sets none (each rule here sets its own). */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

export const policies: Policies = [...commonPolicies, ...awsPolicies, ...azurePolicies];

export { commonPolicies, awsPolicies, azurePolicies };
