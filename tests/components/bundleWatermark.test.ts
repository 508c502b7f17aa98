import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildFunctionBundle, bundledAssets, PROJECT_ROOT } from "../../components/bundle";

/** A `file:` watermark travels inside the function bundle and is read from there, not from the project. */
describe("function bundle with a file: watermark", () => {
  let workDir: string;

  before(() => {
    workDir = mkdtempSync(path.join(tmpdir(), "bundle-watermark-"));
  });

  after(() => rmSync(workDir, { recursive: true, force: true }));

  it("carries the file under assets/ and the unzipped bundle decodes it with nothing from the project (x64 host)", async function () {
    this.timeout(180_000);
    if (process.arch !== "x64" || process.platform !== "linux") this.skip();
    const entry = path.join(workDir, "entry.ts");
    const functions = path.join(PROJECT_ROOT, "functions").split(path.sep).join("/");
    writeFileSync(
      entry,
      [
        `import { processingOptionsSchema } from "${functions}/core/options";`,
        `import { loadWatermark } from "${functions}/steps/watermark";`,
        "export async function probe(): Promise<string> {",
        '  const mark = await loadWatermark({} as never, processingOptionsSchema.parse({ watermark: { source: "file:tests/fixtures/watermark/mark.png" } }));',
        "  return JSON.stringify({ width: mark?.width, height: mark?.height });",
        "}",
      ].join("\n"),
    );
    const bundle = await buildFunctionBundle({ entry, cpu: "x64", outDir: path.join(workDir, "out"), extraFiles: bundledAssets(["tests/fixtures/watermark/mark.png"]) });
    const runDir = path.join(workDir, "run");
    execFileSync("unzip", ["-q", bundle.zipPath, "-d", runDir]);

    const output = execFileSync(process.execPath, ["-e", "require('./index.js').probe().then((r) => console.log(r))"], { cwd: runDir, encoding: "utf8", env: { ...process.env, NODE_PATH: "" } });

    assert.ok(bundle.files.includes("assets/tests/fixtures/watermark/mark.png"), bundle.files.join(", "));
    assert.deepEqual(JSON.parse(output.trim().split("\n").pop()!), { width: 64, height: 32 });
  });

  it("refuses a file that is not in the project, naming the key", () => {
    assert.throws(() => bundledAssets(["brand/no-such-logo.png"]), /CONFIG_INVALID.*watermark\.source.*brand\/no-such-logo\.png/);
    assert.throws(() => bundledAssets(["../outside.png"]), /CONFIG_INVALID/);
  });

  it("names each file by its project path under assets/", () => {
    const files = bundledAssets(["tests/fixtures/watermark/mark.png"]);

    assert.deepEqual(Object.keys(files), ["assets/tests/fixtures/watermark/mark.png"]);
    assert.equal(files["assets/tests/fixtures/watermark/mark.png"].subarray(1, 4).toString("latin1"), "PNG");
  });
});
