import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Runs one benchmark variant in a fresh Node process so that its peak RSS
 * (`process.resourceUsage().maxRSS`) belongs to that variant alone. The child
 * is the same TypeScript file, started through tsx, with `--bench-child <json>`.
 */

const CHILD_FLAG = "--bench-child";
const RESULT_PREFIX = "BENCH_RESULT ";

/**
 * @param entry absolute path of the .ts module whose `runChildIfRequested` handles the spec
 * @param spec JSON-serialisable description of the work
 * @param env extra environment (e.g. MALLOC_ARENA_MAX)
 * @param cpus pin the child to this many CPUs (Linux `taskset`), e.g. 1 to mimic a one-vCPU function
 * @throws {Error} when the child exits non-zero or prints no result, or pinning is asked for without taskset
 */
export function runInChild<T>(entry: string, spec: unknown, env: NodeJS.ProcessEnv = {}, cpus?: number): Promise<T> {
  const node = [process.execPath, "--require", require.resolve("tsx/cjs"), entry, CHILD_FLAG, JSON.stringify(spec)];
  if (cpus !== undefined && !canPin()) return Promise.reject(new Error("pinning a benchmark to CPUs needs Linux taskset"));
  const [command, ...args] = cpus === undefined ? node : [TASKSET, "-c", `0-${cpus - 1}`, ...node];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) {
        reject(new Error(`benchmark child exited with ${code}: ${stderr.trim().split("\n").slice(-5).join(" | ")}`));
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
    });
  });
}

const TASKSET = "/usr/bin/taskset";

/** Whether `runInChild` can pin children to CPUs here. */
export function canPin(): boolean {
  return process.platform === "linux" && existsSync(TASKSET);
}

/** In the child: the spec it was started with, or undefined in the parent. */
export function childSpec<T>(): T | undefined {
  const at = process.argv.indexOf(CHILD_FLAG);
  return at < 0 ? undefined : (JSON.parse(process.argv[at + 1]) as T);
}

/** In the child: hands the result to the parent. */
export function reportToParent(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}
