import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import * as esbuild from "esbuild";
import sharp from "sharp";
import { DEPLOYED_BUILD_OPTIONS, PROJECT_ROOT } from "../components/bundle";
import { defaultProcessingOptions, type ProcessingOptionsInput } from "../functions/core";
import { runStep, type StepOutputs, type ValidatedJob } from "../functions/steps";
import type { StepHandler } from "../functions/workflow";
import { memoryPorts } from "../local/memoryPorts";
import { samplePhoto } from "../local/sampleImages";
import type { BenchContext, BenchResult, Benchmark } from "./types";

/**
 * Cold start per step: a fresh Node process loads a step's bundle (esbuild, minified, sharp
 * external and loaded from node_modules, as components/bundle.ts builds the deployed one) and
 * serves its first call. The bench bundle is bench/coldStartEntry.ts (the real step handlers
 * on in-memory ports: no cloud SDK client, no network); the deployed AWS entry
 * (functions/aws/handlers.ts, SDK clients included) is timed loading only.
 */

/** The deployed functions' esbuild settings (components/bundle.ts), without the zip and sharp's Linux binaries. */
async function bundle(entry: string, outfile: string): Promise<void> {
  await esbuild.build({ ...DEPLOYED_BUILD_OPTIONS, entryPoints: [path.join(PROJECT_ROOT, entry)], outfile });
}

interface ColdStartTiming {
  what: string;
  /** Process start to the end of the bundle's `require` (Node's own start included). */
  loadedMs: number;
  /** The first call alone. */
  firstCallMs?: number;
  /** The same call again in the same process: the work itself, without what a first call adds. */
  warmCallMs?: number;
  /** Process start to the first call's answer. */
  totalMs: number;
  /** CPU (user + system, all threads) by then: steadier than wall time on a shared machine. */
  loadedCpuMs?: number;
  totalCpuMs?: number;
}

/** The encoder settings that trade about 10 % (JPEG) and 5 % (WebP) larger files for about half the encode CPU. */
const FAST_ENCODERS: ProcessingOptionsInput = { webpEffort: 2, optimize: { jpegTrellis: false } };

function runChild(script: string, args: string[]): Promise<ColdStartTiming> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, NODE_PATH: path.join(PROJECT_ROOT, "node_modules") }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split("\n").pop() as string) as ColdStartTiming) : reject(new Error(`cold-start child exited ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`))));
  });
}

export async function runColdStartBenchmark(context: BenchContext): Promise<BenchResult> {
  const dir = path.join(context.cacheDir, "cold-start");
  await mkdir(dir, { recursive: true });
  const stepsBundle = path.join(dir, "steps.js");
  const awsBundle = path.join(dir, "aws-handlers.js");
  context.log("  bundling the steps and the AWS entry...");
  await Promise.all([bundle("bench/coldStartEntry.ts", stepsBundle), bundle("functions/aws/handlers.ts", awsBundle)]);

  // Inputs each step's first call needs, prepared here (the children only read them).
  const megapixels = 1;
  const upload = await samplePhoto({ width: 1155, height: 866, seed: 9 });
  const ports = memoryPorts();
  const options = defaultProcessingOptions();
  await ports.objects.put("uploads", "cold/photo.jpg", upload, "image/jpeg");
  const { etag, versionId } = await ports.objects.head("uploads", "cold/photo.jpg");
  const start = { sourceKey: "cold/photo.jpg", sourceEtag: etag, sourceVersion: versionId, runId: "cold" };
  const job = (await runStep("validate", start, ports, options)) as ValidatedJob;
  const processed = [(await runStep("resize", job, ports, options)) as StepOutputs, (await runStep("applyFilters", job, ports, options)) as StepOutputs];
  const inputs: Record<string, unknown> = { validate: start, resize: job, applyFilters: job, optimize: { ...job, processed }, notifySuccess: { ...job, processed, optimized: { manifestKey: "cold/photo.jpg/manifest.json", outputs: 1, bytesIn: 1, bytesOut: 1 } } };
  const uploadFile = path.join(dir, "upload.jpg");
  await writeFile(uploadFile, upload);
  await writeFile(path.join(dir, "inputs.json"), JSON.stringify({ inputs, upload: { key: "cold/photo.jpg", file: uploadFile } }));

  const rounds = context.quick ? 2 : 5;
  const rows: ColdStartTiming[] = [];
  const handlers: StepHandler[] = ["validate", "resize", "applyFilters", "optimize", "notifySuccess"];
  const runs: Array<{ handler: StepHandler; what: string; options?: ProcessingOptionsInput }> = [
    ...handlers.map((handler) => ({ handler, what: `${handler} (first call, ${megapixels} MP JPEG)` })),
    { handler: "resize", what: `resize with the fast encoders (\`webpEffort: 2\`, \`optimize.jpegTrellis: false\`)`, options: FAST_ENCODERS },
  ];
  for (const run of runs) {
    const timings: ColdStartTiming[] = [];
    const args = [run.handler, path.join(dir, "inputs.json"), ...(run.options ? [JSON.stringify(run.options)] : [])];
    for (let round = 0; round < rounds; round++) timings.push(await runChild(stepsBundle, args));
    rows.push(medianTiming(run.what, timings));
    context.log(`  ${run.what}: ${Math.round(rows[rows.length - 1].totalMs)} ms`);
  }
  const loads: ColdStartTiming[] = [];
  const loader = path.join(dir, "load.js");
  await writeFile(loader, `const t0 = performance.now(); require(${JSON.stringify(awsBundle)}); const t = performance.now(); const c = process.cpuUsage(); const cpu = (c.user + c.system) / 1000; console.log(JSON.stringify({ what: "x", loadedMs: t, totalMs: t, requireMs: t - t0, loadedCpuMs: cpu, totalCpuMs: cpu }));\n`);
  for (let round = 0; round < rounds; round++) loads.push(await runChild(loader, []));
  rows.push(medianTiming("deployed AWS entry (functions/aws/handlers.ts) loaded, no call", loads));

  const ms = (value: number | undefined) => (value === undefined ? "-" : `${Math.round(value)} ms`);
  const markdown = [
    "## Cold start per step",
    "",
    `A fresh Node ${process.version} process per row (median of ${rounds}): process start → bundle loaded (esbuild bundle, minified; sharp ${sharp.versions.sharp} required from node_modules, its native load included) → the step's first call answered, on in-memory ports (no SDK client, no network), a generated photo-like 1 MP JPEG. Goal ≤ 300 ms. A bare \`node -e "require('sharp')"\` is part of every row.`,
    "",
    "| step | loaded (from process start) | first call | total | CPU when loaded | CPU total | the call warm | total − warm call |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (row) =>
        `| ${row.what} | ${ms(row.loadedMs)} | ${ms(row.firstCallMs)} | ${ms(row.totalMs)} | ${ms(row.loadedCpuMs)} | ${ms(row.totalCpuMs)} | ${ms(row.warmCallMs)} | ${ms(row.warmCallMs === undefined ? undefined : row.totalMs - row.warmCallMs)} |`,
    ),
  ].join("\n");
  return { name: "coldstart", markdown, data: rows };
}

function medianTiming(what: string, timings: ColdStartTiming[]): ColdStartTiming {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const firstCalls = timings.map((t) => t.firstCallMs).filter((v): v is number => v !== undefined);
  const warmCalls = timings.map((t) => t.warmCallMs).filter((v): v is number => v !== undefined);
  return {
    what,
    loadedMs: median(timings.map((t) => t.loadedMs)),
    ...(firstCalls.length > 0 ? { firstCallMs: median(firstCalls) } : {}),
    ...(warmCalls.length > 0 ? { warmCallMs: median(warmCalls) } : {}),
    totalMs: median(timings.map((t) => t.totalMs)),
    loadedCpuMs: median(timings.map((t) => t.loadedCpuMs ?? 0)),
    totalCpuMs: median(timings.map((t) => t.totalCpuMs ?? 0)),
  };
}

export const coldStartBenchmarks: Benchmark[] = [{ name: "coldstart", description: "per step: a fresh process loads the step's bundle and serves its first call", run: runColdStartBenchmark }];
