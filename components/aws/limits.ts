import type { ReportProblem, StepLimitsInput } from "../platformLimits";

/** Lambda's own limits on a function's memory and timeout. */
export const LAMBDA_LIMITS = { minMemoryMb: 128, maxMemoryMb: 10240, maxTimeoutSeconds: 900 } as const;

/** What the stack config may ask of AWS: each step is one Lambda function. */
export function checkAwsLimits(config: { kmsKeyArn?: string }, steps: StepLimitsInput[], report: ReportProblem): void {
  const { minMemoryMb, maxMemoryMb, maxTimeoutSeconds } = LAMBDA_LIMITS;
  for (const step of steps) {
    if (step.memoryMb < minMemoryMb || step.memoryMb > maxMemoryMb) {
      report(step.memoryKey, `Lambda memory must be between ${minMemoryMb} and ${maxMemoryMb} MB; got ${step.memoryMb}. Lower it, or split the work into smaller renditions.`);
    }
    if (step.timeoutSeconds < 1 || step.timeoutSeconds > maxTimeoutSeconds) {
      report(step.timeoutKey, `a Lambda function runs at most ${maxTimeoutSeconds} s (15 min); got ${step.timeoutSeconds}. Lower it, or raise memory so the step runs faster.`);
    }
  }
  if (config.kmsKeyArn && !/^arn:aws[a-z-]*:kms:/.test(config.kmsKeyArn)) {
    report(["kmsKeyArn"], `expected a KMS key ARN (arn:aws:kms:...), got "${config.kmsKeyArn}"`);
  }
}
