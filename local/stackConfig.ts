import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { configFromStackValues, type PipelineConfig } from "../components/config";

/**
 * Reads a Pulumi project and one stack's config the way the Pulumi CLI does
 * before it runs a program: project-level defaults from Pulumi.yaml, stack
 * values from Pulumi.<stack>.yaml, types checked against the project's
 * declarations as the CLI checks them, everything flattened to the
 * `namespace:key` → string map the language host hands the program (objects and
 * arrays as JSON text). `loadStackPipelineConfig` then validates it with the very
 * function the program calls, so `npm start --stack`, `npm run preview` and
 * `pulumi up` accept and refuse the same stacks.
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
  items?: { type?: string; items?: unknown };
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

/** The value as the language host passes it: strings as they are, anything else as JSON; an empty YAML value is empty text. */
function toConfigString(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Go's strconv.Atoi, which the CLI's integer check uses: an optional sign and decimal digits. */
const isIntegerText = (text: string) => /^[+-]?\d+$/.test(text);

/**
 * The Pulumi CLI's type check of a stack value against its declaration (ValidateConfigValue,
 * https://github.com/pulumi/pulumi/blob/master/sdk/go/common/workspace/project.go): a top-level
 * primitive arrives as text, so any primitive is a string, an integer is text that parses as
 * one (`"2048"` too), a boolean is "true" or "false"; array items keep their YAML types.
 */
function typeMatches(value: unknown, type: string | undefined, items?: { type?: string; items?: unknown }, topLevel = true): boolean {
  if (type === undefined) return true;
  const primitive = value === null || typeof value !== "object";
  const text = topLevel && primitive ? toConfigString(value) : undefined;
  switch (type) {
    case "string":
      return text !== undefined || typeof value === "string";
    case "integer":
      if (text !== undefined) return isIntegerText(text);
      return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && isIntegerText(value));
    case "boolean":
      if (text !== undefined) return text === "true" || text === "false";
      return typeof value === "boolean" || value === "true" || value === "false";
    case "array":
      return Array.isArray(value) && items !== undefined && value.every((v) => typeMatches(v, items.type, items.items as { type?: string } | undefined, false));
    default:
      return true;
  }
}

/** `array<string>`, as the CLI names types in its messages. */
function typeName(type: string | undefined, items?: { type?: string; items?: unknown }): string {
  return type === "array" && items ? `array<${typeName(items.type, items.items as { type?: string } | undefined)}>` : String(type);
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
export function loadStackConfig(projectDir: string, stack: string, givenFile?: string): StackConfig {
  const absoluteDir = path.resolve(projectDir);
  const project = readProject(absoluteDir);
  const dir = stackDir(absoluteDir, project);
  const stackFile = givenFile !== undefined ? (fs.existsSync(givenFile) ? path.resolve(givenFile) : undefined) : ["yaml", "yml"].map((ext) => path.join(dir, `Pulumi.${stack}.${ext}`)).find((f) => fs.existsSync(f));
  if (!stackFile) {
    const stacks = listStacks(absoluteDir, project);
    const available = stacks.length > 0 ? `Available stacks: ${stacks.join(", ")}.` : "There are no stack files in the project yet.";
    throw new StackConfigError(`Stack "${stack}" has no stack file: ${givenFile !== undefined ? path.resolve(givenFile) : path.join(dir, `Pulumi.${stack}.yaml`)} does not exist. ${available}`, "STACK_NOT_FOUND");
  }

  const declarations = new Map<string, Declaration>();
  const values: Record<string, string> = {};
  for (const [rawKey, entry] of Object.entries(project.config ?? {})) {
    const key = namespaced(project.name, rawKey);
    if (isDeclaration(entry)) {
      const hasDefault = "default" in entry || "value" in entry;
      declarations.set(key, {
        type: typeof entry.type === "string" ? entry.type : undefined,
        items: entry.items as Declaration["items"],
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
      problems.push(`Stack '${stack}' with configuration key '${key}' must be of type '${typeName(declaration.type, declaration.items)}'; got ${JSON.stringify(value)}.`);
      continue;
    }
    values[key] = toConfigString(value);
  }
  if (problems.length > 0) throw new StackConfigError(problems.join("\n"), "CONFIG_INVALID");

  return { project: project.name, stack, projectDir: absoluteDir, stackFile, main: project.main ?? "index.ts", values, secretKeys };
}

/** The nearest directory from `start` upwards that holds a Pulumi.yaml. */
export function findProjectDir(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml")) || fs.existsSync(path.join(dir, "Pulumi.yml"))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const STACK_FILE = /^Pulumi\.(.+)\.ya?ml$/;

/**
 * A stack given by name (`dev`, looked up next to the project found from `cwd`) or by
 * its file (`Pulumi.dev.yaml`, any path; its project is the nearest Pulumi.yaml above it, else above `cwd`).
 *
 * @throws {StackConfigError} `STACK_NOT_FOUND` for a missing stack or a file not named Pulumi.<stack>.yaml; `PROJECT_INVALID` without a Pulumi.yaml.
 */
export function loadStack(cwd: string, stackOrFile: string): StackConfig {
  const asFile = /\.ya?ml$/i.test(stackOrFile) || stackOrFile.includes("/") || stackOrFile.includes(path.sep);
  if (!asFile) {
    const projectDir = findProjectDir(cwd);
    if (!projectDir) throw new StackConfigError(`No Pulumi.yaml in ${path.resolve(cwd)} or above it: run from the project, or give the stack file's path.`, "PROJECT_INVALID");
    return loadStackConfig(projectDir, stackOrFile);
  }
  const file = path.resolve(cwd, stackOrFile);
  const stack = STACK_FILE.exec(path.basename(file))?.[1];
  if (!stack) throw new StackConfigError(`${stackOrFile} is not a stack file: stack files are named Pulumi.<stack>.yaml (or give the stack's name, e.g. dev).`, "STACK_NOT_FOUND");
  const projectDir = findProjectDir(path.dirname(file)) ?? findProjectDir(cwd);
  if (!projectDir) throw new StackConfigError(`No Pulumi.yaml above ${file} or ${path.resolve(cwd)}: a stack file is read with its project's declarations and defaults.`, "PROJECT_INVALID");
  return loadStackConfig(projectDir, stack, file);
}

/**
 * A stack's validated pipeline config, by the function the program itself calls
 * (components/config.ts configFromStackValues), so a stack passes or fails here exactly
 * as under `pulumi up` and the offline preview.
 *
 * @throws {StackConfigError} as {@link loadStack}, and `CONFIG_INVALID` for a value of the wrong declared type.
 * @throws {PipelineError} `CONFIG_INVALID` naming every bad key.
 * @example loadStackPipelineConfig(process.cwd(), "dev-azure").config.cloud // "azure"
 */
export function loadStackPipelineConfig(cwd: string, stackOrFile: string): { stack: StackConfig; config: PipelineConfig } {
  const stack = loadStack(cwd, stackOrFile);
  return { stack, config: configFromStackValues(stack.values) };
}
