import { readFileSync } from "node:fs";
import { processingOptionsSchema } from "../functions/core/options";
import { runStep } from "../functions/steps";
import type { StepHandler } from "../functions/workflow";
import { memoryPorts } from "../local/memoryPorts";

/**
 * The cold-start bench's bundle entry (bench/coldStart.ts): `node steps.js <handler> <inputs.json> [options]`.
 * Loading this file loads the steps and sharp; then it serves the step's first call, the same call
 * once more (warm), and prints the timings as one JSON line. `options`: processing options
 * other than the defaults, as JSON text.
 */
const loadedMs = performance.now();
const loadedCpu = process.cpuUsage();

async function main(): Promise<void> {
  const [handler, inputsFile, optionsText] = process.argv.slice(2) as [StepHandler, string, string | undefined];
  const options = processingOptionsSchema.parse(optionsText ? JSON.parse(optionsText) : {});
  const { inputs, upload } = JSON.parse(readFileSync(inputsFile, "utf8")) as { inputs: Record<string, unknown>; upload: { key: string; file: string } };
  const ports = memoryPorts();
  await ports.objects.put("uploads", upload.key, readFileSync(upload.file), "image/jpeg");
  const input = inputs[handler] as { sourceEtag?: string; sourceVersion?: string };
  // The seeded upload has its own ETag and version: point the input at them.
  const { etag, versionId } = await ports.objects.head("uploads", upload.key);
  const pinned = { ...input, sourceEtag: etag, sourceVersion: versionId };
  const started = performance.now();
  await runStep(handler, pinned, ports, options);
  const done = performance.now();
  const cpu = process.cpuUsage();
  await runStep(handler, pinned, ports, options);
  const warmMs = performance.now() - done;
  const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
  console.log(JSON.stringify({ what: handler, loadedMs, firstCallMs: done - started, warmCallMs: warmMs, totalMs: done, loadedCpuMs: cpuMs(loadedCpu), totalCpuMs: cpuMs(cpu) }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
