import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildFunctionBundle, PROJECT_ROOT } from "../../components/bundle";

/** HEIC decoding inside a deployed bundle: libheif's WebAssembly must survive esbuild and run from the zip alone. */
describe("function bundle with the HEIC decoder", () => {
  let workDir: string;

  before(() => {
    workDir = mkdtempSync(path.join(tmpdir(), "bundle-heic-"));
  });

  after(() => rmSync(workDir, { recursive: true, force: true }));

  it("decodes a HEIC upright from the unzipped bundle, with nothing resolved from the project (x64 host)", async function () {
    this.timeout(180_000);
    if (process.arch !== "x64" || process.platform !== "linux") this.skip();
    const entry = path.join(workDir, "entry.ts");
    const core = path.join(PROJECT_ROOT, "functions", "core").split(path.sep).join("/");
    writeFileSync(
      entry,
      [
        `import { processImage, processingOptionsSchema } from "${core}";`,
        "export async function probe(heic: Buffer): Promise<string> {",
        '  const { info, outputs } = await processImage(heic, processingOptionsSchema.parse({ renditions: ["only:400"], formats: ["jpeg"], filters: [] }));',
        "  return JSON.stringify({ format: info.format, width: outputs[0].width, height: outputs[0].height });",
        "}",
      ].join("\n"),
    );
    const bundle = await buildFunctionBundle({ entry, cpu: "x64", outDir: path.join(workDir, "out") });
    const runDir = path.join(workDir, "run");
    execFileSync("unzip", ["-q", bundle.zipPath, "-d", runDir]);
    const heic = path.join(PROJECT_ROOT, "tests", "fixtures", "heic", "irot-p3.heic");

    const output = execFileSync(process.execPath, ["-e", `require('./index.js').probe(require('fs').readFileSync(${JSON.stringify(heic)})).then((r) => console.log(r))`], {
      cwd: runDir,
      encoding: "utf8",
      env: { ...process.env, NODE_PATH: "" },
    });

    assert.deepEqual(JSON.parse(output.trim().split("\n").pop()!), { format: "heif", width: 64, height: 96 });
    assert.ok(readFileSync(path.join(runDir, "index.js"), "utf8").includes("heif_context_alloc"), "libheif is inside index.js");
  });
});
