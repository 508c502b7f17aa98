import { existsSync, readFileSync } from "node:fs";

/** Measuring helpers the benchmarks share. */

/** The median (the mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Peak resident memory of this process. On Linux `resourceUsage().maxRSS`
 * survives fork+exec, so a child would report its parent's peak when that was
 * higher; VmHWM belongs to the child's own address space.
 */
export function peakRssMb(): number {
  const status = existsSync("/proc/self/status") ? readFileSync("/proc/self/status", "utf8") : "";
  const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(status);
  return (hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS) / 1024;
}

/** Wall and CPU ms per call, median of `iterations` after one warm-up. */
export async function timedCpu(run: () => Promise<unknown>, iterations: number): Promise<{ ms: number; cpuMs: number }> {
  await run();
  const samples: number[] = [];
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(before);
  return { ms: median(samples), cpuMs: (cpu.user + cpu.system) / 1000 / iterations };
}
