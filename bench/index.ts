import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { coreBenchmarks } from "./core";
import type { BenchContext, BenchResult, Benchmark } from "./types";

/**
 * `npm run bench [-- --only core,intermediate] [--quick] [--json out.json]`
 *
 * Runs the registered benchmark modules in order and prints one markdown
 * report on stdout (progress goes to stderr). A module registers by adding its
 * `Benchmark`s to BENCHMARKS below.
 */

const BENCHMARKS: Benchmark[] = [...coreBenchmarks];

interface Args {
  only?: string[];
  quick: boolean;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (name: string) => {
      const inline = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      if (!inline) throw new Error(`${name} needs a value`);
      return inline;
    };
    if (arg === "--quick") args.quick = true;
    else if (arg.startsWith("--only")) args.only = value("--only").split(",").map((name) => name.trim()).filter(Boolean);
    else if (arg.startsWith("--json")) args.json = value("--json");
    else if (arg === "--help" || arg === "-h") {
      console.log(`usage: npm run bench -- [--only ${BENCHMARKS.map((b) => b.name).join(",")}] [--quick] [--json file]`);
      for (const benchmark of BENCHMARKS) console.log(`  ${benchmark.name.padEnd(14)} ${benchmark.description}`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}; try --help`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const unknown = (args.only ?? []).filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) throw new Error(`no benchmark named ${unknown.join(", ")}; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
  const selected = BENCHMARKS.filter((b) => !args.only || args.only.includes(b.name));
  const context: BenchContext = {
    quick: args.quick,
    log: (line) => process.stderr.write(`${line}\n`),
    cacheDir: path.join(os.tmpdir(), "image-pipeline-bench"),
  };
  const results: BenchResult[] = [];
  for (const benchmark of selected) {
    context.log(`# ${benchmark.name}: ${benchmark.description}`);
    const result = await benchmark.run(context);
    results.push(result);
    console.log(`${result.markdown}\n`);
  }
  if (args.json) await writeFile(args.json, JSON.stringify(results.map(({ name, data }) => ({ name, data })), null, 2));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
