import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

/**
 * Reads a Pulumi project and one stack's config the way the Pulumi CLI does
 * before it runs a program: project-level defaults from Pulumi.yaml, stack
 * values from Pulumi.<stack>.yaml, types checked against the project's
 * declarations, everything flattened to the `namespace:key` → string map the
 * language host hands the program (objects and arrays as JSON text).
 */

export class StackConfigError extends Error {
  constructor(
    message: string,
    /** `STACK_NOT_FOUND`, `PROJECT_INVALID` or `CONFIG_INVALID`. */
    readonly code: "STACK_NOT_FOUND" | "PROJECT_INVALID" | "CONFIG_INVALID",
  ) {
    super(message);
    this.name = "StackConfigError";
  }
}

export interface ProjectFile {
  name: string;
  main?: string;
  stackConfigDir?: string;
  config?: Record<string, unknown>;
}

export interface StackConfig {
  project: string;
  stack: string;
  /** Absolute path of the project directory (holds Pulumi.yaml). */
  projectDir: string;
  /** Absolute path of the stack file that was read. */
  stackFile: string;
  /** The program's entry point, from Pulumi.yaml `main` (default index.ts). */
  main: string;
  /** `namespace:key` → value as the program reads it (JSON text for objects, arrays, numbers, booleans). */
  values: Record<string, string>;
  /** Keys whose value is a secret (`secure:` in the stack file); their value is a placeholder offline. */
  secretKeys: string[];
}

/** Placeholder for `secure:` values, which only the stack's secrets provider can decrypt. */
export const SECRET_PLACEHOLDER = "offline-preview-secret";

const DECLARATION_KEYS = ["type", "default", "description", "items", "secret", "value"];

interface Declaration {
  type?: string;
  items?: { type?: string };
  default?: unknown;
  hasDefault: boolean;
}

function isDeclaration(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => DECLARATION_KEYS.includes(k));
}

function readYaml(file: string): unknown {
  try {
    return yaml.load(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new StackConfigError(`${path.basename(file)} is not valid YAML: ${(error as Error).message}`, "PROJECT_INVALID");
  }
}

export function readProject(projectDir: string): ProjectFile {
  const file = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(projectDir, f)).find((f) => fs.existsSync(f));
  if (!file) throw new StackConfigError(`No Pulumi.yaml in ${projectDir}; pass --cwd with the project directory.`, "PROJECT_INVALID");
  const project = readYaml(file) as ProjectFile | undefined;
  if (!project || typeof project.name !== "string") throw new StackConfigError(`${file} has no project name.`, "PROJECT_INVALID");
  return project;
}

function stackDir(projectDir: string, project: ProjectFile): string {
  return project.stackConfigDir ? path.resolve(projectDir, project.stackConfigDir) : projectDir;
}

/** Stack names with a Pulumi.<stack>.yaml next to the project. */
export function listStacks(projectDir: string, project: ProjectFile = readProject(projectDir)): string[] {
  const dir = stackDir(projectDir, project);
  return fs
    .readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

function namespaced(project: string, key: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

/** The value as the language host passes it: strings as they are, anything else as JSON. */
function toConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function typeMatches(value: unknown, type: string | undefined, items?: { type?: string }): boolean {
  switch (type) {
    case undefined:
      return true;
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value) && value.every((v) => typeMatches(v, items?.type));
    default:
      return true;
  }
}

function isSecure(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

/**
 * Loads the config of `stack`.
 *
 * @throws {StackConfigError} `STACK_NOT_FOUND` naming the missing file and the
 *   stacks that exist; `CONFIG_INVALID` when a value does not have its declared type.
 * @example loadStackConfig("/work/main", "dev").values["aws:region"] // "eu-west-1"
 */
export function loadStackConfig(projectDir: string, stack: string): StackConfig {
  const absoluteDir = path.resolve(projectDir);
  const project = readProject(absoluteDir);
  const dir = stackDir(absoluteDir, project);
  const stackFile = ["yaml", "yml"].map((ext) => path.join(dir, `Pulumi.${stack}.${ext}`)).find((f) => fs.existsSync(f));
  if (!stackFile) {
    const stacks = listStacks(absoluteDir, project);
    const available = stacks.length > 0 ? `Available stacks: ${stacks.join(", ")}.` : "There are no stack files in the project yet.";
    throw new StackConfigError(`Stack "${stack}" has no stack file: ${path.join(dir, `Pulumi.${stack}.yaml`)} does not exist. ${available}`, "STACK_NOT_FOUND");
  }

  const declarations = new Map<string, Declaration>();
  const values: Record<string, string> = {};
  for (const [rawKey, entry] of Object.entries(project.config ?? {})) {
    const key = namespaced(project.name, rawKey);
    if (isDeclaration(entry)) {
      const hasDefault = "default" in entry || "value" in entry;
      declarations.set(key, {
        type: typeof entry.type === "string" ? entry.type : undefined,
        items: entry.items as { type?: string } | undefined,
        default: "default" in entry ? entry.default : entry.value,
        hasDefault,
      });
      if (hasDefault) values[key] = toConfigString("default" in entry ? entry.default : entry.value);
    } else {
      values[key] = toConfigString(entry);
    }
  }

  const stackDoc = (readYaml(stackFile) ?? {}) as { config?: Record<string, unknown> };
  const secretKeys: string[] = [];
  const problems: string[] = [];
  for (const [rawKey, value] of Object.entries(stackDoc.config ?? {})) {
    const key = namespaced(project.name, rawKey);
    if (isSecure(value)) {
      values[key] = SECRET_PLACEHOLDER;
      secretKeys.push(key);
      continue;
    }
    const declaration = declarations.get(key);
    if (declaration && !typeMatches(value, declaration.type, declaration.items)) {
      const type = declaration.type === "array" && declaration.items?.type ? `array of ${declaration.items.type}` : declaration.type;
      problems.push(`Stack '${stack}' with configuration key '${key}' must be of type '${type}'; got ${JSON.stringify(value)}.`);
      continue;
    }
    values[key] = toConfigString(value);
  }
  if (problems.length > 0) throw new StackConfigError(problems.join("\n"), "CONFIG_INVALID");

  return { project: project.name, stack, projectDir: absoluteDir, stackFile, main: project.main ?? "index.ts", values, secretKeys };
}
