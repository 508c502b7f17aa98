import { closest, distance } from "fastest-levenshtein";
import { z } from "zod";
import { PipelineError } from "../functions/core/errors";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { apiSettingsSchema } from "../functions/api/settings";
import { bundledFiles, processingOptionsSchema } from "../functions/core/options";
import { STEP_HANDLERS, type StepHandler } from "../functions/workflow";
import { checkAwsLimits } from "./aws/limits";
import { checkAzureLimits } from "./azure/limits";
import type { ReportProblem, StepLimitsInput } from "./platformLimits";

/**
 * The whole stack config, read and validated in one place. index.ts passes every
 * `image-pipeline:*` value in, as the Pulumi language host hands them over; every
 * unknown key, misspelt value and anything a platform cannot honour is rejected
 * here, before any resource is declared, with `CONFIG_INVALID`, the key, the limit
 * and the way out.
 *
 * No Pulumi import: the local runtime and the offline preview use it too.
 */

/** The config namespace: the project name in Pulumi.yaml. */
export const CONFIG_NAMESPACE = "image-pipeline";

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

const stepSettingSchema = z.strictObject({
  memoryMb: z.number().int().optional(),
  timeoutSeconds: z.number().int().optional(),
});

/** A browser origin: scheme and host (and port), no path; `https` except for loopback development pages. */
const BROWSER_ORIGIN = /^(https:\/\/[a-z0-9.-]+(:\d{1,5})?|http:\/\/(127\.0\.0\.1|localhost)(:\d{1,5})?)$/;

/**
 * The `delivery` block: how renditions reach browsers and what the deployed API lets browsers do.
 * `cdn` unset means the cloud's cost-aware default ({@link cdnEnabled}).
 */
export const deliverySchema = z.strictObject({
  /** CloudFront (AWS) or Front Door (Azure) in front of the renditions; unset = on for AWS, off for Azure. */
  cdn: z.boolean().optional(),
  /** CloudFront price class: which edge locations serve (and bill). */
  priceClass: z.enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"]).default("PriceClass_100"),
  /** A custom domain for the CDN, e.g. images.example.com; AWS also needs `certificateArn`. */
  domain: optionalString,
  /** AWS: an ACM certificate for `domain`, issued in us-east-1 (CloudFront reads certificates only there). */
  // https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
  certificateArn: z.preprocess(emptyToUndefined, z.string().regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[\w-]+$/, "must be an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from us-east-1)").optional()),
  /** Cache lifetime of renditions at the edge and in browsers; renditions are immutable per key. */
  maxAgeSeconds: z.number().int().min(60).max(31536000).default(31536000),
  /** Azure Front Door tier: Standard (managed-identity origin auth) or Premium (adds Private Link and managed WAF rules). */
  frontDoorTier: z.enum(["Standard", "Premium"]).default("Standard"),
  /** Browser origins allowed to call the API and upload straight to storage, e.g. https://gallery.example.com. */
  corsOrigins: z.array(z.string().regex(BROWSER_ORIGIN, "must be an origin like https://app.example.com (scheme and host, no path; http only for localhost)")).default([]),
  /** Steady requests per second the API accepts (AWS stage throttling; Azure Front Door WAF per client IP when the CDN is on). */
  rateLimit: z.number().int().min(1).max(10000).default(50),
  /** Requests the API accepts in a burst above the steady rate (AWS). */
  burstLimit: z.number().int().min(1).max(5000).default(100),
}).superRefine((delivery, ctx) => {
  // Checked for both clouds: a stack may switch cloud, and the pair only means something together on AWS.
  if (delivery.certificateArn && !delivery.domain) ctx.addIssue({ code: "custom", path: ["domain"], message: "is needed with certificateArn: the custom domain the certificate is for" });
});

export const configSchema = z
  .strictObject({
    cloud: z.enum(CLOUDS).default("aws"),
    /** Image processing: renditions, filters, formats, quality, limits (functions/core/options.ts). */
    processing: processingOptionsSchema.prefault({}),
    memoryMb: z.number().int().default(1024),
    timeoutSeconds: z.number().int().default(30),
    /** Per-step overrides, e.g. `{ resize: { memoryMb: 2048 } }`. */
    steps: z.partialRecord(z.enum(STEP_HANDLERS), stepSettingSchema).default({}),
    /**
     * EXPRESS by default: dedupe rests on the conditional job writes, not on execution names, so its at-least-once
     * start keeps every guarantee at a fraction of Standard's per-transition price; STANDARD stays the audit option.
     * https://docs.aws.amazon.com/step-functions/latest/dg/express-at-least-once-execution.html
     */
    workflowType: z.enum(["STANDARD", "EXPRESS"]).default("EXPRESS"),
    /** Whole-run timeout in seconds; unset = 300 for EXPRESS, 900 (or what the steps need) for STANDARD. */
    workflowTimeoutSeconds: optionalInt(1, 365 * 24 * 3600),
    notificationEmail: z.preprocess(emptyToUndefined, z.email().optional()),
    /** Who the alarms page (AWS: the alerts topic's email subscription; Azure: the action group's email receiver). */
    alertEmail: z.preprocess(emptyToUndefined, z.email().optional()),
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
    /** AWS: S3 server access logs of the uploads and renditions buckets into a dedicated log bucket, or none. */
    accessLogging: z.enum(["server", "off"]).default("server"),
    /** Protect the resources that hold data (buckets/containers, storage account, jobs table) from deletion by `pulumi destroy`. */
    protectData: z.boolean().default(true),
    /** Who may upload besides the deployer: Entra object ids (Azure) or IAM principal ARNs (AWS). */
    uploaders: z.array(z.string().trim().min(1, "an uploader must not be empty")).default([]),
    /** The HTTP API: auth (`none` or a JWT issuer) and signed URL lifetimes (functions/api/settings.ts). */
    api: apiSettingsSchema.prefault({}),
    /** Delivery (#16): the CDN in front of renditions and the deployed API's browser-facing limits; see {@link deliverySchema}. */
    delivery: deliverySchema.prefault({}),
    /** The deployed reprocess workflow: pipelines started at once, failures tolerated, keys per batch (components/aws/reprocess.ts, functions/azure/reprocess.ts). */
    reprocess: z
      .strictObject({
        // A Distributed Map runs at most 10,000 child executions at once: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
        maxConcurrency: z.number().int().min(1).max(10_000).default(100),
        toleratedFailurePercent: z.number().int().min(0).max(100).default(5),
        // ItemBatcher's MaxItemsPerBatch; Azure lists this many blobs per page.
        batchSize: z.number().int().min(1).max(1000).default(50),
      })
      .prefault({}),
    azure: z
      .strictObject({
        plan: z.enum(["flex", "premium", "dedicated"]).default("flex"),
        location: z.string().min(1).default("westeurope"),
        /** Use an existing resource group instead of creating one. */
        resourceGroupName: optionalString,
        /** Premium: always-warm instances. */
        premiumMinInstances: z.number().int().min(1).max(20).default(1),
        /** Flex Consumption: instance memory (512, 2048 or 4096 MB; 512 only with steps and limits.maxPixels that fit it: components/azure/limits.ts). */
        // https://learn.microsoft.com/en-us/azure/azure-functions/flex-consumption-plan#instance-sizes — 512 MB (0.25 cores), 2,048 MB (1, the default), 4,096 MB (2).
        flexInstanceMemoryMb: z.union([z.literal(512), z.literal(2048), z.literal(4096)]).default(2048),
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
    if (config.cloud === "aws" && config.delivery.domain && !config.delivery.certificateArn) {
      // CloudFront serves a custom domain only with an ACM certificate from us-east-1: https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
      ctx.addIssue({ code: "custom", path: ["delivery", "certificateArn"], message: `is needed for the domain "${config.delivery.domain}": an ACM certificate for it, issued in us-east-1.` });
    }
    if (new Set(config.uploaders.map((u) => u.toLowerCase())).size !== config.uploaders.length) {
      ctx.addIssue({ code: "custom", path: ["uploaders"], message: "lists the same principal twice; list each once." });
    }
    // A `file:` watermark is bundled with the functions: it must be in the project now.
    for (const file of bundledFiles(config.processing)) {
      if (!existsSync(path.resolve(PROJECT_DIR, file))) {
        ctx.addIssue({ code: "custom", path: ["processing", "watermark", "source"], message: `the file "${file}" is not in the project (${PROJECT_DIR}); add it, or use "uploads:<key>" for an object in the uploads store.` });
      }
    }
  });

/** The project root, where `file:` paths start: this file lives in components/. */
const PROJECT_DIR = path.resolve(__dirname, "..");

export type DeliveryConfig = z.infer<typeof deliverySchema>;

/**
 * Whether the stack puts a CDN in front of the renditions. Unset: on for AWS (CloudFront has no base fee and an
 * always-free tier), off for Azure (Front Door Standard bills a monthly base fee even when idle).
 */
export function cdnEnabled(config: Pick<PipelineConfig, "cloud" | "delivery">): boolean {
  return config.delivery.cdn ?? config.cloud === "aws";
}

/**
 * The API's auth mode as the policy pack sees it (the `api-auth` tag): "none" or "jwt". Reads the `api`
 * block's `auth` (`"none"` or `{ jwt: {...} }`); a stack without the block has no auth.
 */
export function apiAuthMode(config: object): "none" | "jwt" {
  const auth = (config as { api?: { auth?: unknown } }).api?.auth;
  return auth !== undefined && auth !== null && typeof auth === "object" && "jwt" in auth ? "jwt" : "none";
}

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
 * How each key is declared in Pulumi.yaml's `config:` (string, integer, boolean or array of
 * strings), or "object" for the keys set with `pulumi config set --path`, since a project
 * cannot declare objects: https://www.pulumi.com/docs/iac/concepts/projects/project-file/
 * tests/components/config.test.ts checks Pulumi.yaml and the schema against this table.
 */
export const CONFIG_KEY_TYPES = {
  cloud: "string",
  renditions: "array",
  filters: "array",
  filterWidth: "integer",
  formats: "array",
  quality: "object",
  avifEffort: "integer",
  webpEffort: "integer",
  keepMetadata: "string",
  limits: "object",
  animated: "string",
  watermark: "object",
  placeholders: "array",
  markup: "boolean",
  sizes: "string",
  optimize: "object",
  memoryMb: "integer",
  timeoutSeconds: "integer",
  steps: "object",
  workflowType: "string",
  workflowTimeoutSeconds: "integer",
  notificationEmail: "string",
  alertEmail: "string",
  retentionDays: "integer",
  logRetentionDays: "integer",
  renditionsInfrequentAccessDays: "integer",
  tags: "object",
  dataClassification: "string",
  architecture: "string",
  region: "string",
  kmsKeyArn: "string",
  reservedConcurrency: "integer",
  vpc: "boolean",
  accessLogging: "string",
  protectData: "boolean",
  uploaders: "array",
  api: "object",
  azure: "object",
  delivery: "object",
  reprocess: "object",
} as const satisfies Record<string, "string" | "integer" | "boolean" | "array" | "object">;

export type ConfigKey = keyof typeof CONFIG_KEY_TYPES;

/** Every key of the `image-pipeline` namespace. */
export const CONFIG_KEYS = Object.keys(CONFIG_KEY_TYPES) as ConfigKey[];

/** Top-level config keys that belong to the image core. */
export const PROCESSING_KEYS = ["renditions", "filters", "filterWidth", "formats", "quality", "avifEffort", "webpEffort", "keepMetadata", "limits", "animated", "watermark", "placeholders", "markup", "sizes", "optimize"] as const;

const isConfigKey = (key: string): key is ConfigKey => Object.hasOwn(CONFIG_KEY_TYPES, key);

/**
 * The validated config of a stack, from its values exactly as the Pulumi language host
 * passes them to the program (`pulumi.runtime.allConfig()`: `namespace:key` → text, objects
 * and arrays as JSON). The one reader of stack config: index.ts, the offline preview and
 * `npm start --stack` all come through here.
 *
 * `pulumi config set` stores top-level values as text (https://www.pulumi.com/docs/iac/cli/commands/pulumi_config_set/)
 * and the CLI accepts text that parses as the declared integer or boolean
 * (https://github.com/pulumi/pulumi/blob/master/sdk/go/common/workspace/project.go, ValidateConfigValue),
 * so keys Pulumi.yaml declares integer or boolean are read from that text; values inside
 * objects set with `--path` keep their YAML types.
 *
 * @throws {PipelineError} `CONFIG_INVALID`, naming every bad key with its limit.
 * @example configFromStackValues({ "image-pipeline:memoryMb": "2048" }).memoryMb // 2048
 */
export function configFromStackValues(values: Readonly<Record<string, string>>): PipelineConfig {
  const raw: Record<string, unknown> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [name, text] of Object.entries(values)) {
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    raw[key] = decodeStackValue(text, isConfigKey(key) ? CONFIG_KEY_TYPES[key] : "object");
  }
  return loadConfig(raw);
}

/** Text that is not of the declared type is kept as text, so the schema names the key and the value. */
function decodeStackValue(text: string, type: (typeof CONFIG_KEY_TYPES)[ConfigKey]): unknown {
  switch (type) {
    case "string":
      return text;
    case "integer":
      // Go's strconv.Atoi, which the CLI's check uses: an optional sign and decimal digits.
      return /^[+-]?\d+$/.test(text) ? Number(text) : text;
    case "boolean":
      return text === "true" ? true : text === "false" ? false : text;
    default:
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
  }
}

/**
 * Parses raw config (top-level keys of the `image-pipeline` namespace, already decoded)
 * into the validated config. Every key at every level must be known; a misspelt one is
 * reported with the closest known key.
 *
 * @throws {PipelineError} `CONFIG_INVALID`, naming every bad key with its limit.
 * @example loadConfig({ cloud: "aws", renditions: ["thumb:320"] })
 */
export function loadConfig(raw: Record<string, unknown>): PipelineConfig {
  const problems: string[] = [];
  const known: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (isConfigKey(key)) known[key] = value;
    else problems.push(`${configKeyName([key])}: unknown key${didYouMean(key, CONFIG_KEYS, [])}`);
  }
  // The core also reads `{name, width, ...}` (its own parsed form), but Pulumi.yaml declares renditions as strings.
  if (Array.isArray(known.renditions)) {
    known.renditions.forEach((rendition: unknown, i) => {
      if (typeof rendition !== "string") problems.push(`${configKeyName(["renditions", i])}: a rendition is "name:width[xheight][:fit][:position]" text, e.g. "thumb:320" or "card:600x400:cover:attention" (Pulumi.yaml declares an array of strings); got ${JSON.stringify(rendition)}`);
    });
  }

  // Zod reports unknown keys per object; the error map is where the object's own keys are at hand.
  const keysAt = new Map<string, readonly string[]>();
  const result = configSchema.safeParse(liftProcessingKeys(known), {
    reportInput: true,
    error: (issue) => {
      if (issue.code === "unrecognized_keys") keysAt.set(pathId(issue.path ?? []), objectKeys(issue.inst));
      return undefined;
    },
  });
  if (result.success && problems.length === 0) return result.data;
  const issues = result.success ? [] : result.error.issues;
  for (const issue of issues) problems.push(...describeIssue(issue, keysAt));
  throw new PipelineError(
    "CONFIG_INVALID",
    `The stack configuration is invalid:\n${problems.map((problem) => `  - ${problem}`).join("\n")}\nFix it with \`pulumi config set <key> <value>\` (see README, "Configuration").`,
    { issues: problems },
  );
}

function describeIssue(issue: z.core.$ZodIssue, keysAt: ReadonlyMap<string, readonly string[]>): string[] {
  const path = userPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    const candidates = keysAt.get(pathId(issue.path)) ?? [];
    return issue.keys.map((key) => `${configKeyName([...path, key])}: unknown key${didYouMean(key, candidates, path)}`);
  }
  const input = "input" in issue ? issue.input : undefined;
  const given = input !== undefined && typeof input !== "object" ? ` (got ${JSON.stringify(input)})` : "";
  const hint = issue.code === "invalid_value" && typeof input === "string" ? didYouMean(input, issue.values.map(String), undefined) : "";
  return [`${configKeyName(path)}: ${issue.message}${given}${hint}`];
}

/** The keys a strict object (or a record with enum keys, like `steps`) accepts. */
function objectKeys(schema: unknown): readonly string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodRecord && schema.keyType instanceof z.ZodEnum) return schema.keyType.options.map(String);
  return [];
}

/**
 * `; did you mean "image-pipeline:limits.maxBytes"?` for the closest candidate within a
 * few edits (case ignored), else the candidates when they are few. `path` is where a
 * suggested key lives; undefined suggests a value instead.
 */
function didYouMean(word: string, candidates: readonly string[], path: PropertyKey[] | undefined): string {
  if (candidates.length === 0) return "";
  const lower = candidates.map((candidate) => candidate.toLowerCase());
  const best = closest(word.toLowerCase(), lower);
  const name = (candidate: string) => (path ? configKeyName([...path, candidate]) : candidate);
  const tolerance = Math.max(word.length >= 4 ? 2 : 1, Math.floor(word.length / 3));
  if (distance(word.toLowerCase(), best) <= tolerance) return `; did you mean "${name(candidates[lower.indexOf(best)])}"?`;
  return candidates.length <= 12 ? `; known: ${candidates.map(name).join(", ")}` : "";
}

function pathId(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String));
}

/** The path as the user writes it: processing keys live at the top level of the stack config. */
function userPath(path: readonly PropertyKey[]): PropertyKey[] {
  return path[0] === "processing" ? path.slice(1) : [...path];
}

/** `image-pipeline:limits.formats[2]`, the form `pulumi config set --path` takes. */
function configKeyName(path: readonly PropertyKey[]): string {
  const text = path.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`)).join("");
  return `${CONFIG_NAMESPACE}:${text || "(root)"}`;
}

function liftProcessingKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const processing: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if ((PROCESSING_KEYS as readonly string[]).includes(key)) processing[key] = value;
    else rest[key] = value;
  }
  return { ...rest, processing };
}
