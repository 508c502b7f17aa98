import { z } from "zod";
import { PipelineError } from "../functions/core/errors";
import { processingOptionsSchema } from "../functions/core/options";
import { STEP_HANDLERS, type StepHandler } from "../functions/workflow";
import { checkAwsLimits } from "./aws/limits";
import { checkAzureLimits } from "./azure/limits";
import type { ReportProblem, StepLimitsInput } from "./platformLimits";

/**
 * The whole stack config, read and validated in one place. index.ts passes the
 * raw `image-pipeline:*` values in; everything a platform cannot honour is
 * rejected here, before any resource is declared, with `CONFIG_INVALID`, the key,
 * the limit and the way out.
 *
 * No Pulumi import: the local runtime and the offline preview use it too.
 */

/** The clouds a stack can target. Adding one here makes the compiler name every registry that needs its entry. */
export const CLOUDS = ["aws", "azure"] as const;
export type Cloud = (typeof CLOUDS)[number];

/** Each cloud's platform limits (e.g. Lambda's 15-minute timeout), in components/<cloud>/limits.ts. */
const PLATFORM_CHECKS: Record<Cloud, (config: PipelineConfig, steps: StepLimitsInput[], report: ReportProblem) => void> = {
  aws: checkAwsLimits,
  azure: checkAzureLimits,
};

/** An Azure uploader: a Microsoft Entra object id, of a user unless prefixed with its principal type. */
const AZURE_UPLOADER = /^(?:(User|Group|ServicePrincipal):)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
/** Principals an IAM role trust policy can name: an account root, a user or a role. */
const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+)$/;

const emptyToUndefined = (value: unknown) => (value === "" || value === null ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalInt = (min: number, max: number) => z.preprocess((v) => (v === 0 || v === "" ? undefined : v), z.number().int().min(min).max(max).optional());

const stepSettingSchema = z.object({
  memoryMb: z.number().int().optional(),
  timeoutSeconds: z.number().int().optional(),
});

export const configSchema = z
  .object({
    cloud: z.enum(CLOUDS).default("aws"),
    /** Image processing: renditions, filters, formats, quality, limits (functions/core/options.ts). */
    processing: processingOptionsSchema.prefault({}),
    memoryMb: z.number().int().default(1024),
    timeoutSeconds: z.number().int().default(30),
    /** Per-step overrides, e.g. `{ resize: { memoryMb: 2048 } }`. */
    steps: z.partialRecord(z.enum(STEP_HANDLERS), stepSettingSchema).default({}),
    workflowType: z.enum(["STANDARD", "EXPRESS"]).default("STANDARD"),
    notificationEmail: z.preprocess(emptyToUndefined, z.email().optional()),
    /** Days uploads' noncurrent versions, incomplete uploads and job records are kept. */
    retentionDays: z.number().int().min(1, "retention below 1 day would delete data before anyone can look at it").max(3650).default(30),
    logRetentionDays: z.number().int().min(1).max(3653).default(14),
    /** Move renditions to an infrequent-access tier after N days; unset = never. */
    renditionsInfrequentAccessDays: optionalInt(30, 3650),
    tags: z.record(z.string(), z.string()).default({}),
    dataClassification: z.enum(["public", "internal", "confidential", "restricted"]).default("internal"),
    architecture: z.enum(["arm64", "x86_64"]).default("arm64"),
    region: optionalString,
    kmsKeyArn: optionalString,
    reservedConcurrency: optionalInt(1, 10000),
    vpc: z.boolean().default(false),
    /** Protect the resources that hold data (buckets/containers, storage account, jobs table) from deletion by `pulumi destroy`. */
    protectData: z.boolean().default(true),
    /** Who may upload besides the deployer: Entra object ids (Azure) or IAM principal ARNs (AWS). */
    uploaders: z.array(z.string().trim().min(1, "an uploader must not be empty")).default([]),
    azure: z
      .object({
        plan: z.enum(["flex", "premium", "dedicated"]).default("flex"),
        location: z.string().min(1).default("westeurope"),
        /** Use an existing resource group instead of creating one. */
        resourceGroupName: optionalString,
        /** Premium: always-warm instances. */
        premiumMinInstances: z.number().int().min(1).max(20).default(1),
        /** Flex Consumption: instance memory (2048 or 4096 MB). */
        flexInstanceMemoryMb: z.union([z.literal(2048), z.literal(4096)]).default(2048),
        flexMaximumInstances: z.number().int().min(40).max(1000).default(100),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    // A stack-wide value is checked for every step but reported once, under the key the user set.
    const reported = new Set<string>();
    const report = (path: string[], message: string) => {
      if (reported.has(path.join("."))) return;
      reported.add(path.join("."));
      ctx.addIssue({ code: "custom", path, message });
    };
    const keyOf = (handler: StepHandler, field: "memoryMb" | "timeoutSeconds") =>
      config.steps[handler]?.[field] !== undefined ? ["steps", handler, field] : [field];
    const steps = STEP_HANDLERS.map((handler) => ({ handler, ...stepSettings(config, handler), memoryKey: keyOf(handler, "memoryMb"), timeoutKey: keyOf(handler, "timeoutSeconds") }));
    PLATFORM_CHECKS[config.cloud](config, steps, report);
    config.uploaders.forEach((uploader, index) => {
      if (config.cloud === "azure" && !AZURE_UPLOADER.test(uploader)) {
        ctx.addIssue({
          code: "custom",
          path: ["uploaders", index],
          message: `expected a Microsoft Entra object id (a GUID) for a user, or "Group:<object id>" / "ServicePrincipal:<object id>", got "${uploader}". Find the id with \`az ad user show --id <email> --query id\` (or \`az ad group show\`, \`az ad sp show\`).`,
        });
      }
      if (config.cloud === "aws" && !IAM_PRINCIPAL_ARN.test(uploader)) {
        ctx.addIssue({ code: "custom", path: ["uploaders", index], message: `expected an IAM principal ARN (arn:aws:iam::<account>:root, :user/<name> or :role/<name>), got "${uploader}".` });
      }
    });
    if (new Set(config.uploaders.map((u) => u.toLowerCase())).size !== config.uploaders.length) {
      ctx.addIssue({ code: "custom", path: ["uploaders"], message: "lists the same principal twice; list each once." });
    }
  });

export type PipelineConfig = z.infer<typeof configSchema>;
export type PipelineConfigInput = z.input<typeof configSchema>;

/**
 * An Azure `uploaders` entry as a role assignment needs it: the object id and its principal type
 * (ARM refuses an assignment whose type does not match the principal).
 *
 * @example parseAzureUploader("Group:5f0c...") // { objectId: "5f0c...", principalType: "Group" }
 */
export function parseAzureUploader(entry: string): { objectId: string; principalType: "User" | "Group" | "ServicePrincipal" } {
  const match = AZURE_UPLOADER.exec(entry.trim());
  if (!match) throw new PipelineError("CONFIG_INVALID", `image-pipeline:uploaders: "${entry}" is not an object id or "<type>:<object id>".`);
  const type = (match[1] ?? "User").toLowerCase();
  const principalType = type === "group" ? "Group" : type === "serviceprincipal" ? "ServicePrincipal" : "User";
  return { objectId: match[2]!.toLowerCase(), principalType };
}

/** Memory and timeout for one step: its override, else the stack-wide value. */
export function stepSettings(config: Pick<PipelineConfig, "memoryMb" | "timeoutSeconds" | "steps">, handler: StepHandler): { memoryMb: number; timeoutSeconds: number } {
  const override = config.steps[handler] ?? {};
  return { memoryMb: override.memoryMb ?? config.memoryMb, timeoutSeconds: override.timeoutSeconds ?? config.timeoutSeconds };
}

/**
 * Parses raw config (stack values, flat keys as Pulumi stores them) into the
 * validated config. Flat processing keys (`renditions`, `formats`...) are
 * accepted at the top level too, since that is how `pulumi config set` writes them.
 *
 * @throws {PipelineError} `CONFIG_INVALID`, naming every bad key with its limit.
 * @example loadConfig({ cloud: "aws", renditions: ["thumb:320"] })
 */
export function loadConfig(raw: Record<string, unknown>): PipelineConfig {
  const result = configSchema.safeParse(liftProcessingKeys(raw), { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const given = "input" in issue && issue.input !== undefined && typeof issue.input !== "object" ? ` (got ${JSON.stringify(issue.input)})` : "";
    return `  - ${configKeyName(issue.path)}: ${issue.message}${given}`;
  });
  throw new PipelineError(
    "CONFIG_INVALID",
    `The stack configuration is invalid:\n${problems.join("\n")}\nFix it with \`pulumi config set <key> <value>\` (see README, "Configuration").`,
    { issues: result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
  );
}

/** The key as the user sets it: processing keys live at the top level of the stack config. */
function configKeyName(path: PropertyKey[]): string {
  const parts = path.map(String);
  if (parts[0] === "processing" && parts.length > 1) parts.shift();
  return `image-pipeline:${parts.join(".") || "(root)"}`;
}

/** Top-level config keys that belong to the image core. */
export const PROCESSING_KEYS = ["renditions", "filters", "filterWidth", "formats", "quality", "avifEffort", "keepMetadata", "limits", "animated"] as const;

function liftProcessingKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const processing: Record<string, unknown> = { ...((raw.processing as Record<string, unknown>) ?? {}) };
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if ((PROCESSING_KEYS as readonly string[]).includes(key)) processing[key] = value;
    else if (key !== "processing") rest[key] = value;
  }
  return { ...rest, processing };
}

/** Every stack config key index.ts reads from Pulumi (flat keys of the `image-pipeline` namespace). */
export const CONFIG_KEYS = [
  "cloud", ...PROCESSING_KEYS, "memoryMb", "timeoutSeconds", "steps", "workflowType", "notificationEmail", "retentionDays",
  "logRetentionDays", "renditionsInfrequentAccessDays", "tags", "dataClassification", "architecture", "region", "kmsKeyArn",
  "reservedConcurrency", "vpc", "protectData", "uploaders", "azure",
] as const;

/**
 * Reads every key from a string getter (Pulumi's `config.get`, or a stack file),
 * decoding JSON values (arrays, objects, numbers, booleans) and keeping plain strings.
 */
export function readRawConfig(get: (key: string) => string | undefined): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const text = get(key);
    if (text === undefined) continue;
    try {
      raw[key] = JSON.parse(text);
    } catch {
      raw[key] = text;
    }
  }
  return raw;
}
