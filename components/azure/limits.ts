import type { ReportProblem, StepLimitsInput } from "../platformLimits";

/** Function timeout ceilings per plan (host.json functionTimeout); Flex/Premium/Dedicated may be unbounded, we cap at a sane value. */
export const AZURE_LIMITS = {
  flex: { maxTimeoutSeconds: 3600 },
  premium: { maxTimeoutSeconds: 3600 },
  dedicated: { maxTimeoutSeconds: 3600 },
} as const;

/** Memory of one EP1 / P1v3 instance; Flex takes azure.flexInstanceMemoryMb. */
const INSTANCE_MEMORY_MB = { premium: 3584, dedicated: 8192 } as const;

/**
 * The largest image (pixels) a 512 MB Flex instance admits. A HEIC upload is decoded whole: libheif's
 * planes, the RGBA copy and the uncompressed PNG handed to sharp come to about 12 bytes per pixel, next to
 * ~150 MB of Node, sharp and the bundle; 24 MP is ~290 MB of that, leaving headroom (a 12 MP JPEG peaks
 * at ~80 MB above the runtime: README "What it costs").
 */
export const FLEX_512_MAX_PIXELS = 24_000_000;

/** What the stack config may ask of Azure: the steps share the instances of one plan. */
export function checkAzureLimits(
  config: { azure: { plan: "flex" | "premium" | "dedicated"; flexInstanceMemoryMb: number }; processing?: { limits: { maxPixels: number } } },
  steps: StepLimitsInput[],
  report: ReportProblem,
): void {
  const plan = config.azure.plan;
  const maxPixels = config.processing?.limits.maxPixels;
  if (plan === "flex" && config.azure.flexInstanceMemoryMb === 512 && maxPixels !== undefined && maxPixels > FLEX_512_MAX_PIXELS) {
    report(
      ["azure", "flexInstanceMemoryMb"],
      `a 512 MB Flex instance fits images of at most ${FLEX_512_MAX_PIXELS} pixels (a HEIC is decoded whole, ~12 bytes per pixel), but limits.maxPixels is ${maxPixels}. Lower limits.maxPixels to ${FLEX_512_MAX_PIXELS} or less, or use 2048.`,
    );
  }
  const maxTimeout = AZURE_LIMITS[plan].maxTimeoutSeconds;
  const instanceMb = plan === "flex" ? config.azure.flexInstanceMemoryMb : INSTANCE_MEMORY_MB[plan];
  for (const step of steps) {
    if (step.timeoutSeconds < 1 || step.timeoutSeconds > maxTimeout) {
      report(step.timeoutKey, `the Azure ${plan} plan is configured for steps of at most ${maxTimeout} s; got ${step.timeoutSeconds}. Lower it.`);
    }
    // Steps share one instance per plan: a step cannot have more memory than it has.
    if (step.memoryMb > instanceMb) {
      const wayOut =
        plan === "flex" && instanceMb < 4096
          ? `Set azure.flexInstanceMemoryMb to ${step.memoryMb <= 2048 ? 2048 : 4096}, or lower it`
          : plan === "dedicated"
            ? "Lower it"
            : "Lower it, or choose the dedicated plan (P1v3, 8192 MB)";
      const who = step.memoryKey.length > 1 ? `step ${step.handler} asks` : "every step asks";
      report(step.memoryKey, `an instance of the Azure ${plan} plan has ${instanceMb} MB for all steps; ${who} for ${step.memoryMb} MB. ${wayOut}.`);
    }
  }
}
