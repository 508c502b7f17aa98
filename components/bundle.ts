import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, promises as fs, readFileSync } from "node:fs";
import * as path from "node:path";
import * as esbuild from "esbuild";
import * as yazl from "yazl";

/**
 * Builds the one zip every function of a cloud runs from: the entry file bundled
 * by esbuild into `index.js`, plus sharp and sharp's prebuilt Linux (glibc)
 * binaries for the target CPU as real `node_modules` (a native addon cannot be
 * bundled). No Docker: the binaries come from npm's per-platform packages.
 *
 * No Pulumi import: both cloud components call it, and tests call it directly.
 */

/** Lambda's 50 MB direct-upload limit is far away; 10 MiB keeps cold starts and deploys quick. */
export const MAX_BUNDLE_BYTES = 10 * 1024 * 1024;

export type BundleCpu = "x64" | "arm64";

export interface FunctionBundleOptions {
  /** Entry file (TypeScript or JavaScript); relative paths are from the project root. */
  entry: string;
  /** CPU the bundle runs on: the sharp binaries are chosen for `linux-<cpu>` (glibc). */
  cpu: BundleCpu;
  /** Where the zip and its staging files go; default `.build/bundles/<entry>-<cpu>-<hash>`. */
  outDir?: string;
  /** Ship `index.js.map` (no sources inside) so `--enable-source-maps` prints TypeScript positions; default true. */
  sourcemap?: boolean;
  /** More modules left out of the bundle (sharp always is); they must exist in the runtime. */
  external?: string[];
  /** More files at the zip root, e.g. `{ "host.json": "{...}" }` for an Azure function app. */
  extraFiles?: Record<string, string | Buffer>;
  /** Size limit of the zip in bytes; default {@link MAX_BUNDLE_BYTES}. */
  maxBytes?: number;
  /** Where sharp binaries for a foreign CPU are installed once; default `.build`. */
  cacheDir?: string;
}

export interface FunctionBundle {
  zipPath: string;
  /** Size of the zip. */
  bytes: number;
  /** Zip entries, sorted. */
  files: string[];
  /** The project's own source files bundled into index.js (paths from the project root, sorted), to check what ships. */
  sources: string[];
  cpu: BundleCpu;
}

/** A bundle over its size limit: the message says by how much and what to do. */
export class BundleTooLargeError extends Error {
  readonly code = "BUNDLE_TOO_LARGE";
  constructor(readonly zipPath: string, readonly bytes: number, readonly maxBytes: number) {
    super(
      `The function bundle ${zipPath} is ${formatMiB(bytes)}, over the ${formatMiB(maxBytes)} limit. ` +
        "Mark large dependencies as external (e.g. the AWS SDK, which the Lambda runtime provides) or drop unused imports.",
    );
    this.name = "BundleTooLargeError";
  }
}

/** Project root: this file lives in `components/`. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * Repo files a bundle carries beside index.js under `assets/` (e.g. a `file:` watermark), as
 * `extraFiles`; read when the program runs, so a missing file stops it before anything deploys.
 * The functions find them at `assets/<path>` (functions/steps/watermark.ts).
 * @throws {Error} naming the missing file and the key that asked for it
 */
export function bundledAssets(paths: readonly string[], root: string = PROJECT_ROOT): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const file of paths) {
    const absolute = path.resolve(root, file);
    if (!absolute.startsWith(root + path.sep) || !existsSync(absolute)) {
      throw new Error(`[CONFIG_INVALID] image-pipeline:watermark.source: the file "${file}" is not in the project (${root}); add it, or point watermark.source at "uploads:<key>".`);
    }
    files[`assets/${path.relative(root, absolute).split(path.sep).join("/")}`] = readFileSync(absolute);
  }
  return files;
}

/** A fixed, local-time timestamp so the same inputs give a byte-identical zip on any machine. */
const FIXED_MTIME = new Date(2020, 0, 1, 0, 0, 0);

const builds = new Map<string, Promise<FunctionBundle>>();

/**
 * Bundles `entry` for `cpu` into a zip with `index.js` at its root, so a handler
 * exported as `validate` is `index.validate`. Cached per options within the
 * process: every function of a stack shares one build.
 *
 * @throws {BundleTooLargeError} when the zip exceeds `maxBytes`
 * @example const { zipPath } = await buildFunctionBundle({ entry: "functions/aws/handlers.ts", cpu: "arm64" });
 */
export function buildFunctionBundle(options: FunctionBundleOptions): Promise<FunctionBundle> {
  const key = cacheKey(options);
  let build = builds.get(key);
  if (!build) {
    build = doBuild(options, key);
    builds.set(key, build);
    // A failed build is not cached, so a fixed entry file builds on the next try.
    build.catch(() => builds.delete(key));
  }
  return build;
}

/** How every deployed function is compiled (and the cold-start bench's bundle, bench/coldStart.ts, so it measures the same code). */
export const DEPLOYED_BUILD_OPTIONS = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  // Error and class names survive minification: logs and `instanceof`-free checks rely on them.
  keepNames: true,
  // sharp loads a native addon by path: it ships as node_modules, not inside index.js.
  external: ["sharp"],
  // CommonJS has no import.meta: ES-module dependencies calling createRequire(import.meta.url) get this file's URL.
  define: { "import.meta.url": "__bundleImportMetaUrl" },
  banner: { js: 'var __bundleImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  absWorkingDir: PROJECT_ROOT,
  // Entries outside the project (tests' temporary files) still resolve the project's dependencies.
  nodePaths: [path.join(PROJECT_ROOT, "node_modules")],
  logLevel: "silent",
} satisfies esbuild.BuildOptions;

async function doBuild(options: FunctionBundleOptions, key: string): Promise<FunctionBundle> {
  const { cpu, sourcemap = true, external = [], extraFiles = {}, maxBytes = MAX_BUNDLE_BYTES, cacheDir = path.join(PROJECT_ROOT, ".build") } = options;
  const entry = path.resolve(PROJECT_ROOT, options.entry);
  if (!existsSync(entry)) throw new Error(`The function entry file ${entry} does not exist.`);
  const stem = path.basename(entry).replace(/\.[^.]+$/, "");
  const outDir = options.outDir ? path.resolve(PROJECT_ROOT, options.outDir) : path.join(cacheDir, "bundles", `${stem}-${cpu}-${key.slice(0, 10)}`);
  const stageDir = path.join(outDir, "stage");
  await fs.rm(stageDir, { recursive: true, force: true });
  await fs.mkdir(stageDir, { recursive: true });

  const result = await esbuild.build({
    ...DEPLOYED_BUILD_OPTIONS,
    entryPoints: [entry],
    outfile: path.join(stageDir, "index.js"),
    sourcemap: sourcemap ? "linked" : false,
    sourcesContent: false,
    external: [...DEPLOYED_BUILD_OPTIONS.external, ...external],
    metafile: true,
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${entry}: ${result.errors.map((e) => e.text).join("; ")}`);

  const entries: ZipEntry[] = [{ name: "index.js", source: path.join(stageDir, "index.js") }];
  if (sourcemap) entries.push({ name: "index.js.map", source: path.join(stageDir, "index.js.map") });
  for (const [name, content] of Object.entries(extraFiles)) entries.push({ name, content: Buffer.from(content) });
  entries.push(...(await sharpEntries(cpu, cacheDir)));

  const zipPath = path.join(outDir, `${stem}-${cpu}.zip`);
  await writeZip(zipPath, entries);
  const { size: bytes } = await fs.stat(zipPath);
  if (bytes > maxBytes) throw new BundleTooLargeError(zipPath, bytes, maxBytes);
  // esbuild's metafile names inputs relative to absWorkingDir (the project root).
  const sources = Object.keys(result.metafile?.inputs ?? {}).filter((input) => !input.includes("node_modules/")).sort();
  return { zipPath, bytes, files: entries.map((e) => e.name).sort(), sources, cpu };
}

function cacheKey(options: FunctionBundleOptions): string {
  const { entry, cpu, outDir, sourcemap = true, external = [], extraFiles = {}, maxBytes = MAX_BUNDLE_BYTES, cacheDir } = options;
  const files = Object.entries(extraFiles)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, content]) => [name, createHash("sha256").update(content).digest("hex")]);
  const normalized = { entry: entryIdentity(entry), cpu, outDir, sourcemap, external: [...external].sort(), files, maxBytes, cacheDir };
  return createHash("sha256").update(JSON.stringify(normalized)).digest("hex");
}

/**
 * What names an entry in the cache key: its path in the project, or for a file
 * outside it (a test's temporary entry) its name and content, so rebuilding the
 * same temporary entry reuses one `.build/bundles` folder instead of adding one per run.
 */
function entryIdentity(entry: string): string {
  const absolute = path.resolve(PROJECT_ROOT, entry);
  const relative = path.relative(PROJECT_ROOT, absolute);
  if (!relative.startsWith("..") && !path.isAbsolute(relative)) return relative;
  const content = existsSync(absolute) ? readFileSync(absolute) : Buffer.alloc(0);
  return `outside:${path.basename(absolute)}:${createHash("sha256").update(content).digest("hex")}`;
}

// ---------------------------------------------------------------------------
// sharp and its binaries

/** The two per-platform packages sharp loads on Linux (glibc) for a CPU. */
export function sharpBinaryPackages(cpu: BundleCpu): [addon: string, libvips: string] {
  return [`@img/sharp-linux-${cpu}`, `@img/sharp-libvips-linux-${cpu}`];
}

/** The installed sharp version: the binaries must match it exactly. */
export function sharpVersion(): string {
  return readPackageJson(path.join(PROJECT_ROOT, "node_modules", "sharp")).version;
}

const binarySources = new Map<BundleCpu, Promise<string>>();

/**
 * A `node_modules` folder holding sharp's binaries for `linux-<cpu>` at the
 * installed sharp version: the project's own when npm installed them for this
 * host, else `<cacheDir>/sharp-<cpu>/node_modules`, filled once by npm with
 * `--os=linux --cpu=<cpu> --libc=glibc` (listing several CPUs in .npmrc installs none).
 */
export function ensureSharpBinaries(cpu: BundleCpu, cacheDir: string = path.join(PROJECT_ROOT, ".build")): Promise<string> {
  const key = cpu;
  let source = binarySources.get(key);
  if (!source) {
    source = locateOrInstallBinaries(cpu, cacheDir);
    binarySources.set(key, source);
    source.catch(() => binarySources.delete(key));
  }
  return source;
}

async function locateOrInstallBinaries(cpu: BundleCpu, cacheDir: string): Promise<string> {
  const version = sharpVersion();
  const projectModules = path.join(PROJECT_ROOT, "node_modules");
  if (hasBinaries(projectModules, cpu, version)) return projectModules;
  const cache = path.join(cacheDir, `sharp-${cpu}`);
  const cacheModules = path.join(cache, "node_modules");
  if (hasBinaries(cacheModules, cpu, version)) return cacheModules;

  // Install beside the cache and rename, so a concurrent or interrupted install never leaves half a cache.
  const staging = `${cache}.tmp-${process.pid}-${Date.now()}`;
  await fs.mkdir(staging, { recursive: true });
  const args = ["install", "--no-save", "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", staging, "--os=linux", `--cpu=${cpu}`, "--libc=glibc", `sharp@${version}`];
  await run("npm", args, PROJECT_ROOT);
  if (!hasBinaries(path.join(staging, "node_modules"), cpu, version)) {
    throw new Error(`npm ${args.join(" ")} did not install ${sharpBinaryPackages(cpu).join(" and ")} at sharp ${version}.`);
  }
  await fs.rm(cache, { recursive: true, force: true });
  await fs.rename(staging, cache);
  return cacheModules;
}

function hasBinaries(nodeModules: string, cpu: BundleCpu, version: string): boolean {
  const [addon, libvips] = sharpBinaryPackages(cpu);
  const addonDir = path.join(nodeModules, addon);
  const libvipsDir = path.join(nodeModules, libvips);
  if (!existsSync(path.join(addonDir, "package.json")) || !existsSync(path.join(libvipsDir, "package.json"))) return false;
  const addonPackage = readPackageJson(addonDir);
  const wantedLibvips = (addonPackage.optionalDependencies ?? {})[libvips];
  return addonPackage.version === version && (!wantedLibvips || readPackageJson(libvipsDir).version === wantedLibvips);
}

/** sharp's runtime files, its pure-JS dependencies, and the binaries for `cpu`, as zip entries under node_modules/. */
async function sharpEntries(cpu: BundleCpu, cacheDir: string): Promise<ZipEntry[]> {
  const projectModules = path.join(PROJECT_ROOT, "node_modules");
  const sharpDir = path.join(projectModules, "sharp");
  const entries: ZipEntry[] = [];

  // sharp itself: the CommonJS build, its package.json (read at load) and licence; not its C++ sources.
  entries.push(...(await packageEntries(projectModules, sharpDir, (rel) => rel === "package.json" || rel === "LICENSE" || /^dist\/[^/]+\.cjs$/.test(rel))));
  for (const dir of dependencyClosure(sharpDir)) entries.push(...(await packageEntries(projectModules, dir, isRuntimeFile)));

  const binaryModules = await ensureSharpBinaries(cpu, cacheDir);
  for (const name of sharpBinaryPackages(cpu)) entries.push(...(await packageEntries(binaryModules, path.join(binaryModules, name), isRuntimeFile)));
  return entries;
}

/** Runtime dependencies of a package, recursively, resolved the way Node does (nearest node_modules up). */
function dependencyClosure(packageDir: string): string[] {
  const seen = new Set<string>();
  const visit = (dir: string) => {
    for (const name of Object.keys(readPackageJson(dir).dependencies ?? {})) {
      const found = findPackageDir(name, dir);
      if (!found) throw new Error(`Cannot find ${name}, a dependency of ${dir}; run npm ci.`);
      if (seen.has(found)) continue;
      seen.add(found);
      visit(found);
    }
  };
  visit(packageDir);
  return [...seen].sort();
}

function findPackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Docs, type declarations, source maps, C headers and ES-module twins are not needed to run CommonJS. */
function isRuntimeFile(relativePath: string): boolean {
  const base = path.posix.basename(relativePath);
  if (/^(licen[cs]e|copying|notice)/i.test(base)) return true;
  return !/\.(md|markdown|d\.ts|d\.cts|d\.mts|map|h|mjs)$/i.test(base);
}

async function packageEntries(modulesRoot: string, packageDir: string, keep: (relativePath: string) => boolean): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  for (const file of await listFiles(packageDir)) {
    const relative = path.relative(packageDir, file).split(path.sep).join("/");
    // Nested node_modules are dependencies: dependencyClosure adds the ones needed at run time.
    if (relative.startsWith("node_modules/") || !keep(relative)) continue;
    entries.push({ name: `node_modules/${path.relative(modulesRoot, file).split(path.sep).join("/")}`, source: file });
  }
  return entries;
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(full)));
    else if (entry.isFile()) files.push(full);
  }
  return files;
}

// ---------------------------------------------------------------------------
// zip

interface ZipEntry {
  name: string;
  source?: string;
  content?: Buffer;
}

/** Deterministic zip: sorted entries, fixed timestamps and modes, maximum deflate. */
async function writeZip(zipPath: string, entries: ZipEntry[]): Promise<void> {
  const names = entries.map((e) => e.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) throw new Error(`The bundle would contain ${duplicate} twice.`);
  const zip = new yazl.ZipFile();
  const options = { mtime: FIXED_MTIME, mode: 0o100644, forceDosTimestamp: true, compressionLevel: 9 };
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.content) zip.addBuffer(entry.content, entry.name, options);
    else if (entry.source) zip.addFile(entry.source, entry.name, options);
  }
  zip.end();
  await fs.mkdir(path.dirname(zipPath), { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(zipPath);
    out.on("close", resolve).on("error", reject);
    zip.outputStream.on("error", reject);
    zip.outputStream.pipe(out);
  });
}

// ---------------------------------------------------------------------------
// helpers

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as PackageJson;
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output.slice(-2000)}`))));
  });
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}
