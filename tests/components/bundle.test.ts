import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildFunctionBundle, BundleTooLargeError, MAX_BUNDLE_BYTES, PROJECT_ROOT, sharpVersion, type BundleCpu, type FunctionBundle } from "../../components/bundle";
import { ERASE_HANDLER, STEP_HANDLERS, SWEEP_HANDLER } from "../../functions/workflow";

/** ELF `e_machine` values of the two Lambda architectures. */
const ELF_MACHINE: Record<BundleCpu, number> = { x64: 62, arm64: 183 };
const OTHER: Record<BundleCpu, BundleCpu> = { x64: "arm64", arm64: "x64" };

const listZip = (zipPath: string): string[] => execFileSync("unzip", ["-Z1", zipPath], { encoding: "utf8" }).trim().split("\n").sort();
const readFromZip = (zipPath: string, entry: string): Buffer => execFileSync("unzip", ["-p", zipPath, entry], { maxBuffer: 64 * 1024 * 1024 });
const sha256 = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

/** Unzips a bundle outside the project (so nothing resolves from the project's node_modules) and runs a script in it. */
function runInBundle(zipPath: string, script: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "bundle-run-"));
  try {
    execFileSync("unzip", ["-q", zipPath, "-d", dir]);
    return execFileSync(process.execPath, ["--enable-source-maps", "-e", script], { cwd: dir, encoding: "utf8", env: { ...process.env, NODE_PATH: "" } }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("function bundle (esbuild + sharp's Linux binaries)", () => {
  const version = sharpVersion();
  let workDir: string;
  let entry: string;
  const bundles = {} as Record<BundleCpu, FunctionBundle>;

  before(async function () {
    this.timeout(180_000);
    workDir = mkdtempSync(path.join(tmpdir(), "bundle-test-"));
    entry = path.join(workDir, "entry.ts");
    writeFileSync(
      entry,
      [
        'import sharp from "sharp";',
        'import { createRequire } from "node:module";',
        "// ES-module dependencies do this; CommonJS output must still give them a URL.",
        "export const selfPath = (): string => createRequire(import.meta.url).resolve(\"./index.js\");",
        "export async function probe(): Promise<string> {",
        '  const png = await sharp({ create: { width: 4, height: 3, channels: 3, background: "#c00" } }).png().toBuffer();',
        "  const { width, height, format } = await sharp(png).metadata();",
        "  return JSON.stringify({ width, height, format, vips: sharp.versions.vips });",
        "}",
      ].join("\n"),
    );
    for (const cpu of ["x64", "arm64"] as const) bundles[cpu] = await buildFunctionBundle({ entry, cpu, outDir: path.join(workDir, cpu, "out") });
  });

  after(() => rmSync(workDir, { recursive: true, force: true }));

  for (const cpu of ["x64", "arm64"] as const) {
    describe(`for ${cpu}`, () => {
      it("has index.js, its source map, sharp's runtime files and the binaries for that CPU only", () => {
        const files = listZip(bundles[cpu].zipPath);

        assert.deepEqual(files, bundles[cpu].files);
        for (const expected of [
          "index.js",
          "index.js.map",
          "node_modules/sharp/package.json",
          "node_modules/sharp/LICENSE",
          "node_modules/sharp/dist/index.cjs",
          "node_modules/detect-libc/package.json",
          "node_modules/@img/colour/package.json",
          `node_modules/@img/sharp-linux-${cpu}/package.json`,
          `node_modules/@img/sharp-linux-${cpu}/lib/sharp-linux-${cpu}-${version}.node`,
          `node_modules/@img/sharp-libvips-linux-${cpu}/package.json`,
        ]) {
          assert.ok(files.includes(expected), `${expected} is in the ${cpu} bundle`);
        }
        assert.ok(files.some((f) => new RegExp(`^node_modules/@img/sharp-libvips-linux-${cpu}/lib/libvips-cpp\\.so\\.`).test(f)), "libvips is in the bundle");
        assert.equal(files.filter((f) => f.includes(`linux-${OTHER[cpu]}`)).length, 0, `nothing for ${OTHER[cpu]}`);
        const needless = files.filter((f) => !/\/LICEN[CS]E[^/]*$/i.test(f) && /\.d\.[cm]?ts$|\.md$|\.h$|^node_modules\/sharp\/(src|install|lib)\//.test(f));
        assert.deepEqual(needless, [], "no types, docs (licences aside), headers or C++ sources");
      });

      it("ships native code built for that CPU", () => {
        const { zipPath, files } = bundles[cpu];
        const natives = files.filter((f) => f.endsWith(".node") || /\.so(\.|$)/.test(f));

        assert.equal(natives.length, 2);
        for (const file of natives) {
          const header = readFromZip(zipPath, file).subarray(0, 20);
          assert.equal(header.subarray(0, 4).toString("latin1"), "\x7fELF", `${file} is an ELF object`);
          assert.equal(header.readUInt16LE(18), ELF_MACHINE[cpu], `${file} targets ${cpu}`);
        }
      });

      it(`stays within ${MAX_BUNDLE_BYTES / 1024 / 1024} MiB`, () => {
        const { zipPath, bytes } = bundles[cpu];

        assert.equal(bytes, statSync(zipPath).size);
        assert.ok(bytes <= MAX_BUNDLE_BYTES, `${bytes} bytes`);
      });
    });
  }

  it("runs on its own: sharp loads from the zip's node_modules (x64 host)", function () {
    if (process.arch !== "x64" || process.platform !== "linux") this.skip();

    const output = runInBundle(bundles.x64.zipPath, "require('./index.js').probe().then((r) => console.log(r))");

    assert.deepEqual(JSON.parse(output), { width: 4, height: 3, format: "png", vips: JSON.parse(output).vips });
  });

  it("gives ES-module code a working import.meta.url in the CommonJS output (x64 host)", function () {
    if (process.arch !== "x64" || process.platform !== "linux") this.skip();

    const output = runInBundle(bundles.x64.zipPath, "console.log(require('./index.js').selfPath() === require('path').resolve('index.js'))");

    assert.equal(output, "true");
  });

  it("is byte-for-byte reproducible", async () => {
    const again = await buildFunctionBundle({ entry, cpu: "arm64", outDir: path.join(workDir, "again", "out") });

    assert.equal(sha256(again.zipPath), sha256(bundles.arm64.zipPath));
  });

  it("builds once per entry and CPU within a process", async () => {
    const first = buildFunctionBundle({ entry, cpu: "x64", outDir: path.join(workDir, "x64", "out") });
    const second = buildFunctionBundle({ entry, cpu: "x64", outDir: path.join(workDir, "x64", "out") });

    assert.equal(first, second);
    assert.equal(await first, bundles.x64);
  });

  it("caches an entry outside the project by its name and content, not its temporary folder", async () => {
    const copies = ["one", "two"].map((folder) => {
      const copy = path.join(workDir, "copies", folder, "entry.ts");
      mkdirSync(path.dirname(copy), { recursive: true });
      copyFileSync(entry, copy);
      return copy;
    });
    const changed = path.join(workDir, "copies", "changed", "entry.ts");
    mkdirSync(path.dirname(changed), { recursive: true });
    writeFileSync(changed, `${readFileSync(entry, "utf8")}\nexport const changed = true;\n`);

    const [first, second, third] = await Promise.all([...copies, changed].map((copy) => buildFunctionBundle({ entry: copy, cpu: "x64" })));

    assert.equal(first.zipPath, second.zipPath, "the same content in another temporary folder reuses one .build folder");
    assert.notEqual(third.zipPath, first.zipPath);
    assert.ok(first.zipPath.startsWith(path.join(PROJECT_ROOT, ".build", "bundles")));
  });

  it("adds extra files at the zip root", async () => {
    const bundle = await buildFunctionBundle({ entry, cpu: "x64", outDir: path.join(workDir, "extra", "out"), sourcemap: false, extraFiles: { "host.json": '{"version":"2.0"}' } });

    assert.ok(bundle.files.includes("host.json"));
    assert.ok(!bundle.files.includes("index.js.map"));
    assert.equal(readFromZip(bundle.zipPath, "host.json").toString(), '{"version":"2.0"}');
  });

  it("refuses a bundle over its size limit, saying by how much", async () => {
    await assert.rejects(buildFunctionBundle({ entry, cpu: "x64", outDir: path.join(workDir, "small", "out"), maxBytes: 1024 * 1024 }), (error: unknown) => {
      assert.ok(error instanceof BundleTooLargeError);
      assert.equal(error.code, "BUNDLE_TOO_LARGE");
      assert.match(error.message, /MiB, over the 1\.00 MiB limit/);
      return true;
    });
  });

  it("refuses a missing entry file", async () => {
    await assert.rejects(buildFunctionBundle({ entry: path.join(workDir, "missing.ts"), cpu: "x64" }), /does not exist/);
  });

  describe("of the real Lambda entry (functions/aws/handlers.ts)", () => {
    const handlersEntry = path.join(PROJECT_ROOT, "functions", "aws", "handlers.ts");

    it("bundles for arm64 within the size limit, with the arm64 sharp binary", async function () {
      this.timeout(180_000);
      if (!existsSync(handlersEntry)) this.skip();

      const bundle = await buildFunctionBundle({ entry: handlersEntry, cpu: "arm64", outDir: path.join(workDir, "handlers-arm64") });

      assert.ok(bundle.bytes <= MAX_BUNDLE_BYTES, `${bundle.bytes} bytes`);
      assert.ok(bundle.files.includes(`node_modules/@img/sharp-linux-arm64/lib/sharp-linux-arm64-${version}.node`));
    });

    it("exports one function per step handler and the sweep, as Lambda's `index.<name>` expects (x64 host)", async function () {
      this.timeout(180_000);
      if (!existsSync(handlersEntry) || process.arch !== "x64" || process.platform !== "linux") this.skip();

      const bundle = await buildFunctionBundle({ entry: handlersEntry, cpu: "x64", outDir: path.join(workDir, "handlers-x64") });
      const exported = runInBundle(bundle.zipPath, "const m = require('./index.js'); console.log(JSON.stringify(Object.keys(m).filter((k) => typeof m[k] === 'function').sort()))");

      assert.ok(bundle.bytes <= MAX_BUNDLE_BYTES, `${bundle.bytes} bytes`);
      assert.deepEqual(JSON.parse(exported), [...STEP_HANDLERS, SWEEP_HANDLER, ERASE_HANDLER].sort());
    });
  });

  describe("holds deployed code only", () => {
    // Anything outside functions/ in a deployed bundle is infrastructure, a dev tool or a test that leaked in.
    // The Functions Node worker provides @azure/functions-core; the Azure package is allowed 32 MiB.
    const deployedEntries = [
      { entry: "functions/aws/handlers.ts", external: [], maxBytes: MAX_BUNDLE_BYTES },
      { entry: "functions/azure/app.ts", external: ["@azure/functions-core"], maxBytes: 32 * 1024 * 1024 },
    ];
    for (const { entry, external, maxBytes } of deployedEntries) {
      it(`bundles only files under functions/ for ${entry}`, async function () {
        this.timeout(180_000);

        const bundle = await buildFunctionBundle({ entry, cpu: "x64", external, maxBytes, outDir: path.join(workDir, `sources-${path.basename(path.dirname(entry))}`) });

        assert.ok(bundle.sources.includes(entry), `the entry itself is listed: ${bundle.sources.join(", ")}`);
        assert.deepEqual(bundle.sources.filter((source) => !source.startsWith("functions/")), []);
        assert.deepEqual(bundle.sources.filter((source) => /durableReplay|sampleImages|memoryPorts/.test(source)), []);
      });
    }
  });
});
