import { statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { animationBenchmarks } from "./animation";
import { coldStartBenchmarks } from "./coldStart";
import { coreBenchmarks } from "./core";
import { encoderBenchmarks } from "./encoders";
import { pipelineBenchmarks } from "./pipeline";
import type { BenchContext, BenchResult, Benchmark } from "./types";

/**
 * `npm run bench [-- --only core,intermediate,pipeline] [--quick] [--json out.json]`
 *
 * Runs the registered benchmark modules in order and prints one markdown
 * report on stdout (progress goes to stderr). A module registers by adding its
 * `Benchmark`s to BENCHMARKS below.
 */

const BENCHMARKS: Benchmark[] = [...coreBenchmarks, ...encoderBenchmarks, ...pipelineBenchmarks, ...animationBenchmarks, ...coldStartBenchmarks];

interface Args {
  only?: string[];
  quick: boolean;
  json?: string;
}

/** A bad option: one `[USAGE_INVALID]` line on stderr, exit code 2 (as `npm start`'s). */
class BenchUsageError extends Error {}

/** Commander's own messages as one coded line. */
function codedUsageLine(text: string): string {
  const message = text.replace(/^error:\s*/i, "").split(/\r?\n/).map((line) => line.trim()).filter(Boolean).join(" ");
  return `[USAGE_INVALID] ${message}${/[.!?)]$/.test(message) ? "" : "."} See --help.\n`;
}

/** `--json`'s folder must exist: found out before minutes of benchmarks, not after. */
function jsonTarget(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("--json needs a file name.");
  const folder = path.dirname(path.resolve(value));
  if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) throw new InvalidArgumentError(`the folder of ${value} does not exist.`);
  if (statSync(value, { throwIfNoEntry: false })?.isDirectory()) throw new InvalidArgumentError(`${value} is a folder; give a file name.`);
  return value;
}

function parseArgs(argv: string[]): Args {
  const names = BENCHMARKS.map((b) => b.name);
  const program = new Command("npm run bench --")
    .option("--only <names>", `comma-separated benchmarks to run, of: ${names.join(", ")}`, (value: string) => {
      const only = value.split(",").map((name) => name.trim()).filter(Boolean);
      const unknown = only.filter((name) => !names.includes(name));
      if (unknown.length > 0) throw new InvalidArgumentError(`no benchmark named ${unknown.join(", ")}; known: ${names.join(", ")}`);
      return only;
    })
    .option("--quick", "fewer images and rounds, for a smoke run", false)
    .option("--json <file>", "also write the raw figures as JSON", jsonTarget)
    .addHelpText("after", `\nBenchmarks:\n${BENCHMARKS.map((b) => `  ${b.name.padEnd(14)} ${b.description}`).join("\n")}`)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(codedUsageLine(text)) });
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) throw new BenchUsageError(error.message, { cause: error });
    throw error;
  }
  return program.opts<Args>();
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    // --help and --version end here too, with commander's exit code 0.
    process.exit((error.cause as CommanderError).exitCode === 0 ? 0 : 2);
  }
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
