import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyProviderResource } from "@pulumi/policy";
import { startMockRuntime, isUnknownValue, type RecordedResource } from "./mockRuntime";
import { checkPolicyConfig, PolicyConfigError, runPolicies, type AnalyzedResource, type PolicyDiagnostic, type PolicyPackConfig } from "./policyRunner";
import { loadStackConfig, StackConfigError, type StackConfig } from "../stackConfig";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, policies as packPolicies } from "../../policy/policies";

/**
 * Offline `pulumi preview --policy-pack policy`: runs the Pulumi program under
 * Pulumi's mock runtime with a stack's config, prints the resources `pulumi up`
 * would create, then runs this project's policy pack over them in-process.
 *
 *   npm run preview -- --stack dev [--json] [--program other.ts] [--policy-pack-config cfg.json]
 *
 * Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 the stack
 * could not be previewed (missing stack file, invalid config, program or policy error).
 */

export interface PreviewOptions {
  stack: string;
  /** Project directory (holds Pulumi.yaml); default: found from the working directory upwards. */
  cwd?: string;
  /** Program entry point; default: Pulumi.yaml `main` in the project directory. */
  program?: string;
  policyConfig?: PolicyPackConfig;
  /** Run the policy pack (default true). */
  policies?: boolean;
  timeoutMs?: number;
}

export interface PreviewResource {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  custom: boolean;
  provider?: string;
  inputs: Record<string, unknown>;
}

export interface PreviewResult {
  project?: string;
  stack: string;
  program?: string;
  config: Record<string, string>;
  resources: PreviewResource[];
  outputs: Record<string, unknown>;
  /** Input paths whose value stays unknown in this preview (an output the mocks do not fake). */
  unknownInputs: string[];
  diagnostics: PolicyDiagnostic[];
  error?: { code: string; message: string; detail?: string };
}

export const EXIT = { ok: 0, violations: 1, failed: 2 } as const;

function findProjectDir(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml")) || fs.existsSync(path.join(dir, "Pulumi.yml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start);
  }
}

/** `[CONFIG_INVALID] message` (the program's RunError convention) → code and message. */
function splitCode(message: string, fallback: string): { code: string; message: string } {
  const match = /^\[([A-Z_]+)\]\s*([\s\S]*)$/.exec(message);
  return match ? { code: match[1], message: match[2] } : { code: fallback, message };
}

function describeError(error: unknown): { code: string; message: string; detail?: string } {
  if (pulumi.RunError.isInstance(error)) return splitCode(error.message, "PROGRAM_ERROR");
  if (pulumi.ResourceError.isInstance(error)) return { code: "RESOURCE_ERROR", message: error.message };
  if (error instanceof Error) return { ...splitCode(error.message, "PROGRAM_ERROR"), detail: error.stack };
  return { code: "PROGRAM_ERROR", message: String(error) };
}

function providerVersionName(pkg: string): string {
  try {
    const manifest = fs.readFileSync(require.resolve(`@pulumi/${pkg}/package.json`), "utf8");
    const version = (JSON.parse(manifest) as { version?: string }).version;
    return version ? `default_${version.replace(/^v/, "").replace(/[.-]/g, "_")}` : "default";
  } catch {
    return "default";
  }
}

/**
 * The resources as the engine would hand them to the policy pack: the stack
 * resource as root, explicit providers resolved, default providers built from
 * the stack config (as the engine builds them).
 */
export function toAnalyzed(recorded: RecordedResource[], config: StackConfig): AnalyzedResource[] {
  const stackUrn = `urn:pulumi:${config.stack}::${config.project}::pulumi:pulumi:Stack::${config.project}-${config.stack}`;
  const byUrn = new Map(recorded.map((r) => [r.urn, r]));
  const defaults = new Map<string, AnalyzedResource>();
  const defaultProvider = (pkg: string): PolicyProviderResource => {
    let provider = defaults.get(pkg);
    if (!provider) {
      const props: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(config.values)) if (key.startsWith(`${pkg}:`)) props[key.slice(pkg.length + 1)] = value;
      const name = providerVersionName(pkg);
      provider = { urn: `urn:pulumi:${config.stack}::${config.project}::pulumi:providers:${pkg}::${name}`, type: `pulumi:providers:${pkg}`, name, custom: true, parent: undefined, inputs: props, outputs: props };
      defaults.set(pkg, provider);
    }
    return { urn: provider.urn, type: provider.type, name: provider.name, props: provider.inputs };
  };

  const analyzed: AnalyzedResource[] = recorded.map((r) => {
    let provider: PolicyProviderResource | undefined;
    const pkg = r.type.split(":")[0];
    if (r.provider) {
      const explicit = byUrn.get(r.provider.urn);
      if (explicit) provider = { urn: explicit.urn, type: explicit.type, name: explicit.name, props: explicit.inputs };
    } else if (r.custom && pkg !== "pulumi") {
      provider = defaultProvider(pkg);
    }
    return {
      urn: r.urn,
      type: r.type,
      name: r.name,
      custom: r.custom && !r.type.startsWith("pulumi:providers:"),
      parent: r.parent ?? stackUrn,
      provider,
      inputs: r.inputs,
      outputs: r.outputs,
      dependencies: r.dependencies,
      propertyDependencies: r.propertyDependencies,
      opts: { protect: r.protect, ignoreChanges: r.ignoreChanges, additionalSecretOutputs: r.additionalSecretOutputs },
    };
  });
  const stack: AnalyzedResource = { urn: stackUrn, type: "pulumi:pulumi:Stack", name: `${config.project}-${config.stack}`, custom: false, inputs: {}, outputs: {} };
  const providers = [...defaults.values()].map((p) => ({ ...p, custom: false, parent: undefined }));
  return [stack, ...providers, ...analyzed];
}

/** Inputs for printing: a dynamic provider's serialized code is summarized. */
function printable(inputs: Record<string, unknown>): Record<string, unknown> {
  return "__provider" in inputs ? { ...inputs, __provider: "(serialized dynamic provider)" } : inputs;
}

function unknownPaths(value: unknown, at: string, out: string[]): void {
  if (isUnknownValue(value)) out.push(at);
  else if (Array.isArray(value)) value.forEach((v, i) => unknownPaths(v, `${at}[${i}]`, out));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) unknownPaths(v, at ? `${at}.${k}` : k, out);
}

/** Resolves an exported value; unknown at preview (or never settling) → the unknown marker. */
function resolveExport(value: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(pulumi.runtime.unknownValue), 2000);
    (pulumi.output(value as never) as pulumi.Output<unknown>).apply((v: unknown) => {
      clearTimeout(timer);
      resolve(v);
      return v;
    });
  });
}

/**
 * Runs one offline preview. Never throws for a problem of the stack or the
 * program: those come back in `error`.
 */
export async function runPreview(options: PreviewOptions): Promise<PreviewResult> {
  const result: PreviewResult = { stack: options.stack, config: {}, resources: [], outputs: {}, unknownInputs: [], diagnostics: [] };
  let config: StackConfig;
  try {
    config = loadStackConfig(findProjectDir(options.cwd ?? process.cwd()), options.stack);
  } catch (error) {
    if (error instanceof StackConfigError) {
      result.error = { code: error.code, message: error.message };
      return result;
    }
    throw error;
  }
  result.project = config.project;
  result.config = Object.fromEntries(Object.entries(config.values).map(([k, v]) => [k, config.secretKeys.includes(k) ? "[secret]" : v]));
  const program = path.resolve(options.program ? path.resolve(process.cwd(), options.program) : path.join(config.projectDir, config.main));
  const relative = path.relative(config.projectDir, program);
  result.program = relative.startsWith("..") || path.isAbsolute(relative) ? program : relative;
  if (!fs.existsSync(program) && !fs.existsSync(`${program}.ts`)) {
    result.error = { code: "PROGRAM_NOT_FOUND", message: `The program ${program} does not exist.` };
    return result;
  }

  // Errors the program raises asynchronously (a failed registration, an apply that throws).
  const asyncErrors: unknown[] = [];
  const onAsyncError = (error: unknown) => asyncErrors.push(error);
  process.on("unhandledRejection", onAsyncError);
  process.on("uncaughtException", onAsyncError);
  const cachedBefore = new Set(Object.keys(require.cache));
  const previousCwd = process.cwd();
  const previousConfig = pulumi.runtime.allConfig();
  try {
    process.chdir(config.projectDir);
    const runtime = await startMockRuntime({ project: config.project, stack: config.stack, config: config.values, secretKeys: config.secretKeys });
    let exported: unknown;
    try {
      // The language host require()s the program too (CommonJS); tsx compiles it on the fly.
      delete require.cache[require.resolve(program)];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded: unknown = require(program);
      exported = await (typeof loaded === "function" ? (loaded as () => unknown)() : loaded);
      await runtime.settle(options.timeoutMs);
    } catch (error) {
      asyncErrors.unshift(error);
    }
    if (asyncErrors.length > 0) {
      result.error = describeError(asyncErrors[0]);
      return result;
    }

    for (const [key, value] of Object.entries((exported as Record<string, unknown>) ?? {})) {
      if (key === "__esModule" || typeof value === "function") continue;
      result.outputs[key] = await resolveExport(value);
    }
    const analyzed = toAnalyzed(runtime.resources, config);
    result.resources = analyzed.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent, custom: r.custom, provider: r.provider?.urn, inputs: printable(r.inputs) }));
    for (const r of runtime.resources) {
      const paths: string[] = [];
      unknownPaths(r.inputs, "", paths);
      result.unknownInputs.push(...paths.map((p) => `${r.type} "${r.name}" .${p}`));
    }
    if (options.policies !== false) {
      try {
        result.diagnostics = await runPolicies(packPolicies, analyzed, { config: options.policyConfig, packEnforcementLevel: PACK_ENFORCEMENT_LEVEL });
      } catch (error) {
        result.error = { code: "POLICY_ERROR", message: (error as Error).message, detail: (error as Error).stack };
      }
    }
    return result;
  } finally {
    process.chdir(previousCwd);
    pulumi.runtime.setAllConfig(previousConfig);
    process.off("unhandledRejection", onAsyncError);
    process.off("uncaughtException", onAsyncError);
    // Forget the program's own modules so a later preview in this process runs it afresh.
    for (const key of Object.keys(require.cache)) if (!cachedBefore.has(key) && !key.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[key];
  }
}

export function exitCodeOf(result: PreviewResult): number {
  if (result.error) return EXIT.failed;
  return result.diagnostics.some((d) => d.enforcementLevel === "mandatory") ? EXIT.violations : EXIT.ok;
}

// ------------------------------------------------------------------ text output

const KEY_INPUTS = ["region", "location", "runtime", "handler", "memorySize", "timeout", "architectures", "kind", "type", "bucket", "name", "accountName", "retentionInDays", "kmsMasterKeyId", "httpsOnly", "principal", "billingMode"];

function brief(value: unknown): string | undefined {
  if (isUnknownValue(value)) return "(unknown)";
  if (typeof value === "string") return value.length > 60 ? undefined : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.length <= 4 && value.every((v) => typeof v === "string" && v.length <= 30)) return `[${value.join(", ")}]`;
  return undefined;
}

function keyInputs(inputs: Record<string, unknown>): string {
  const keys = [...KEY_INPUTS.filter((k) => k in inputs), ...Object.keys(inputs).filter((k) => !KEY_INPUTS.includes(k) && k !== "tags")];
  const parts: string[] = [];
  for (const key of keys) {
    const text = brief(inputs[key]);
    if (text !== undefined) parts.push(`${key}=${text}`);
    if (parts.length === 5) break;
  }
  return parts.join(" ");
}

export function formatText(result: PreviewResult): string {
  const lines: string[] = [];
  const where = result.project ? `${result.project}/${result.stack}` : result.stack;
  lines.push(`Offline preview of ${where}${result.program ? ` (program ${result.program})` : ""}: mock runtime, no cloud calls.`);
  if (result.error) {
    lines.push("", `error [${result.error.code}]: ${result.error.message}`);
    if (result.error.detail && result.error.code !== "CONFIG_INVALID") lines.push("", result.error.detail);
    return lines.join("\n");
  }

  const children = new Map<string | undefined, PreviewResource[]>();
  for (const r of result.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const roots = result.resources.filter((r) => !r.parent);
  const created = result.resources.filter((r) => r.custom).length;
  lines.push("", `Resources: ${created} to create (${result.resources.length} including the stack, components and providers)`);
  const walk = (r: PreviewResource, depth: number) => {
    const extra = r.custom ? keyInputs(r.inputs) : "";
    lines.push(`${"  ".repeat(depth)}+ ${r.type}  ${r.name}${extra ? `  ${extra}` : ""}`);
    for (const child of children.get(r.urn) ?? []) walk(child, depth + 1);
  };
  roots.forEach((r) => walk(r, 1));

  const outputs = Object.entries(result.outputs);
  if (outputs.length > 0) {
    lines.push("", "Outputs:");
    for (const [key, value] of outputs) lines.push(`    ${key}: ${isUnknownValue(value) ? "(unknown)" : JSON.stringify(value)}`);
  }
  if (result.unknownInputs.length > 0) {
    lines.push("", "Inputs unknown in this preview (outputs the mock runtime does not fake):");
    for (const p of result.unknownInputs.slice(0, 20)) lines.push(`    ${p}`);
    if (result.unknownInputs.length > 20) lines.push(`    ... and ${result.unknownInputs.length - 20} more`);
  }

  const violations = result.diagnostics;
  lines.push("", `Policies: ${PACK_NAME}, ${packPolicies.length} rules`);
  if (violations.length === 0) lines.push("    no violations");
  const byPolicy = new Map<string, PolicyDiagnostic[]>();
  for (const d of violations) byPolicy.set(d.policyName, [...(byPolicy.get(d.policyName) ?? []), d]);
  for (const [name, list] of byPolicy) {
    const first = list[0];
    lines.push(`  [${first.enforcementLevel}] ${name}${first.severity ? ` (${first.severity})` : ""}: ${first.description}`);
    for (const d of list) lines.push(`    - ${d.message}`);
  }
  const mandatory = violations.filter((d) => d.enforcementLevel === "mandatory").length;
  lines.push("", mandatory > 0 ? `Result: ${mandatory} mandatory violation${mandatory > 1 ? "s" : ""}; \`pulumi up\` would be blocked.` : `Result: no mandatory violations${violations.length > 0 ? ` (${violations.length} advisory)` : ""}.`);
  return lines.join("\n");
}

// ------------------------------------------------------------------ CLI

/** @throws {PolicyConfigError} POLICY_CONFIG_INVALID when the file is missing, unreadable, not JSON or not a policy config. */
function readPolicyConfig(file: string | undefined): PolicyPackConfig | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new PolicyConfigError(`--policy-pack-config "${file}" cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Give a JSON file that exists.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PolicyConfigError(`--policy-pack-config "${file}" is not valid JSON: ${(error as Error).message}.`);
  }
  return checkPolicyConfig(parsed, `--policy-pack-config "${file}"`);
}

function timeoutSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new InvalidArgumentError("--timeout must be a number of seconds above 0 and at most 3600.");
  return seconds;
}

/** Commander's own messages as one line in this CLI's `error [CODE]: message` form. */
function codedUsageLine(text: string): string {
  const message = text.replace(/^error:\s*/i, "").split(/\r?\n/).map((line) => line.trim()).filter(Boolean).join(" ");
  return `error [USAGE_INVALID]: ${message}${/[.!?)]$/.test(message) ? "" : "."} See --help.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const command = new Command("preview")
    .description("Offline `pulumi preview --policy-pack policy`: runs the program under Pulumi's mock runtime with a stack's config, prints the resources, runs the policy pack.")
    .requiredOption("-s, --stack <name>", "stack whose Pulumi.<name>.yaml config to use")
    .option("--program <path>", "program entry point (default: Pulumi.yaml main)")
    .option("--cwd <dir>", "project directory (default: nearest with a Pulumi.yaml)")
    .option("--json", "print one JSON document for machines", false)
    .option("--policy-pack-config <file>", "policy config JSON, as for `pulumi preview --policy-pack-config`")
    .option("--no-policies", "only list the resources")
    .addOption(new Option("--timeout <seconds>", "give up when the program is still registering after this long").argParser(timeoutSeconds).default(120))
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text), outputError: (text, write) => write(codedUsageLine(text)) });
  try {
    command.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.failed;
    throw error;
  }
  const opts = command.opts<{ stack: string; program?: string; cwd?: string; json: boolean; policyPackConfig?: string; policies: boolean; timeout: number }>();
  let policyConfig: PolicyPackConfig | undefined;
  try {
    policyConfig = readPolicyConfig(opts.policyPackConfig);
  } catch (error) {
    if (!(error instanceof PolicyConfigError)) throw error;
    process.stderr.write(`error [${error.code}]: ${error.message}\n`);
    return EXIT.failed;
  }
  if (opts.cwd !== undefined && !fs.statSync(opts.cwd, { throwIfNoEntry: false })?.isDirectory()) {
    process.stderr.write(`error [USAGE_INVALID]: --cwd "${opts.cwd}" is not a folder. Give the project folder (it holds Pulumi.yaml).\n`);
    return EXIT.failed;
  }

  // In JSON mode stdout carries only the result; the program's own logging goes to stderr.
  const log = console.log;
  if (opts.json) console.log = (...args: unknown[]) => console.error(...args);
  let result: PreviewResult;
  try {
    result = await runPreview({ stack: opts.stack, program: opts.program, cwd: opts.cwd, policyConfig, policies: opts.policies, timeoutMs: opts.timeout * 1000 });
  } finally {
    console.log = log;
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else (result.error ? process.stderr : process.stdout).write(`${formatText(result)}\n`);
  return exitCodeOf(result);
}

if (require.main === module) {
  main(process.argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // Not a problem of the stack or the options (those are coded above): a bug, whose stack is what a report needs.
      process.stderr.write(`error [INTERNAL]: the offline preview failed: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(EXIT.failed);
    },
  );
}
