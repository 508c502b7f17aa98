import type { ReportProblem, StepLimitsInput } from "../platformLimits";
import { workflow as defaultWorkflow, type RetryPolicy, type StepHandler, type WorkflowDefinition } from "../../functions/workflow";

/** Lambda's own limits on a function's memory and timeout. */
export const LAMBDA_LIMITS = { minMemoryMb: 128, maxMemoryMb: 10240, maxTimeoutSeconds: 900 } as const;

/**
 * Step Functions' ceilings on a whole run: an Express execution runs at most 5 minutes, a Standard one a year
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
 */
export const STEP_FUNCTIONS_LIMITS = { expressMaxRunSeconds: 300, standardMaxRunSeconds: 365 * 24 * 3600 } as const;

/** The config fields the run limits read (components/config.ts). */
export interface RunConfig {
  workflowType: "STANDARD" | "EXPRESS";
  workflowTimeoutSeconds?: number;
  timeoutSeconds: number;
  steps: Partial<Record<StepHandler, { timeoutSeconds?: number }>>;
}

/** Seconds of backoff before each of the first `retries` retries, as ASL computes them (interval × rate^n, capped). */
function retryDelaysSeconds(policy: RetryPolicy, retries: number): number {
  let total = 0;
  for (let n = 0; n < retries; n += 1) total += Math.min(policy.intervalSeconds * policy.backoffRate ** n, policy.maxDelaySeconds);
  return total;
}

/**
 * The longest one step can take: every attempt a timeout allows runs the function's whole timeout,
 * with the timeout retrier's backoff between them (components/aws/asl.ts).
 */
export function stepWorstCaseSeconds(config: RunConfig, handler: StepHandler, definition: WorkflowDefinition = defaultWorkflow): number {
  const { retry } = definition;
  const retries = retry.maxTimeoutRetries ?? retry.maxRetries;
  const timeoutSeconds = config.steps[handler]?.timeoutSeconds ?? config.timeoutSeconds;
  return (1 + retries) * timeoutSeconds + retryDelaysSeconds(retry, retries);
}

/**
 * The longest a successful run can take: the steps in order, the longest branch of a parallel block.
 * Each part is listed with its state name, for messages.
 */
export function runWorstCase(config: RunConfig, definition: WorkflowDefinition = defaultWorkflow): { seconds: number; parts: { name: string; handler: StepHandler; seconds: number }[] } {
  const parts = definition.steps.map((step) => {
    const candidates = step.kind === "parallel" ? step.branches : [step];
    const [longest] = candidates.map((task) => ({ handler: task.handler, seconds: stepWorstCaseSeconds(config, task.handler, definition) })).sort((a, b) => b.seconds - a.seconds);
    return { name: step.name, handler: longest!.handler, seconds: longest!.seconds };
  });
  return { seconds: parts.reduce((sum, part) => sum + part.seconds, 0), parts };
}

/**
 * The state machine's whole-run timeout: `workflowTimeoutSeconds` when set; else Express's 5-minute
 * ceiling, or for Standard the workflow's own timeout raised to what the steps may need.
 */
export function runTimeoutSeconds(config: RunConfig, definition: WorkflowDefinition = defaultWorkflow): number {
  if (config.workflowTimeoutSeconds !== undefined) return config.workflowTimeoutSeconds;
  if (config.workflowType === "EXPRESS") return Math.min(definition.timeoutSeconds, STEP_FUNCTIONS_LIMITS.expressMaxRunSeconds);
  return Math.max(definition.timeoutSeconds, runWorstCase(config, definition).seconds);
}

/** A KMS key's ARN: partition, region, account, `key/` and the key id (a UUID, or `mrk-…` for a multi-Region key). */
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-f-]+$/;

/** What the stack config may ask of AWS: each step is one Lambda function, the workflow one state machine. */
export function checkAwsLimits(config: RunConfig & { kmsKeyArn?: string }, steps: StepLimitsInput[], report: ReportProblem): void {
  const { minMemoryMb, maxMemoryMb, maxTimeoutSeconds } = LAMBDA_LIMITS;
  for (const step of steps) {
    if (step.memoryMb < minMemoryMb || step.memoryMb > maxMemoryMb) {
      report(step.memoryKey, `Lambda memory must be between ${minMemoryMb} and ${maxMemoryMb} MB; got ${step.memoryMb}. Lower it, or split the work into smaller renditions.`);
    }
    if (step.timeoutSeconds < 1 || step.timeoutSeconds > maxTimeoutSeconds) {
      report(step.timeoutKey, `a Lambda function runs at most ${maxTimeoutSeconds} s (15 min); got ${step.timeoutSeconds}. Lower it, or raise memory so the step runs faster.`);
    }
  }
  // The key ARN itself: an IAM statement naming an alias (or its ARN) applies to the alias, not to the key, so every grant
  // of the key to the functions would be void (https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html).
  if (config.kmsKeyArn && !KMS_KEY_ARN.test(config.kmsKeyArn)) {
    report(
      ["kmsKeyArn"],
      `expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), got "${config.kmsKeyArn}". An alias or alias ARN cannot be granted in IAM policies; find the key ARN with \`aws kms describe-key --key-id <alias> --query KeyMetadata.Arn\`.`,
    );
  }
  checkRunFits(config, steps, report);
}

/** The whole run must fit the workflow type's ceiling, and the steps' worst case (retries included) must fit the run. */
function checkRunFits(config: RunConfig, steps: StepLimitsInput[], report: ReportProblem): void {
  const express = config.workflowType === "EXPRESS";
  const ceiling = express ? STEP_FUNCTIONS_LIMITS.expressMaxRunSeconds : STEP_FUNCTIONS_LIMITS.standardMaxRunSeconds;
  const run = runTimeoutSeconds(config);
  if (run > ceiling) {
    const wayOut = express ? "Lower it to 300 or less, or set workflowType to STANDARD" : "Lower it";
    report(["workflowTimeoutSeconds"], `a ${config.workflowType} workflow runs at most ${ceiling} s${express ? " (5 minutes)" : ""}; got ${run}. ${wayOut}.`);
    return;
  }
  // Past Lambda's own limits the per-step messages above already say what to do.
  if (steps.some((step) => step.timeoutSeconds < 1 || step.timeoutSeconds > LAMBDA_LIMITS.maxTimeoutSeconds)) return;
  const worst = runWorstCase(config);
  if (worst.seconds <= run) return;
  const longest = [...worst.parts].sort((a, b) => b.seconds - a.seconds)[0]!;
  const key = steps.find((step) => step.handler === longest.handler)?.timeoutKey ?? ["timeoutSeconds"];
  const sum = worst.parts.map((part) => `${part.name} ${part.seconds}`).join(" + ");
  const runKey = config.workflowTimeoutSeconds !== undefined ? "workflowTimeoutSeconds" : `the ${config.workflowType} run timeout`;
  const wayOut = express
    ? `Lower ${key.join(".")} (or other steps' timeouts) until the sum fits ${run} s, or set workflowType to STANDARD`
    : `Lower ${key.join(".")}, or raise workflowTimeoutSeconds to at least ${worst.seconds}`;
  report(key, `the steps' worst case with a timeout retry each is ${worst.seconds} s (${sum}), over ${runKey} of ${run} s. ${wayOut}.`);
}
