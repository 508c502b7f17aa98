import * as assert from "node:assert/strict";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { awsTelemetrySink } from "../../../functions/aws/telemetry";
import { observeStep, sweptJobRecord } from "../../../functions/observability";
import { runStep } from "../../../functions/steps";
import { memoryPorts } from "../../../local/memoryPorts";

interface EmfLine {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/** Every JSON line written to stdout and stderr while `act` runs (Powertools writes logs and EMF there; Lambda ships both). */
async function captureOutput(act: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      written.push(chunk.toString());
      return true;
    }) as typeof stream.write;
  }
  try {
    await act();
  } finally {
    streams.forEach((stream, i) => (stream.write = originals[i]!));
  }
  return written.join("").split("\n").filter((line) => line.trim().startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
}

const emfLines = (lines: Record<string, unknown>[]) => lines.filter((line): line is EmfLine => "_aws" in line && typeof line._aws === "object" && line._aws !== null && "CloudWatchMetrics" in line._aws);

describe("AWS telemetry (Powertools Logger + Embedded Metric Format)", () => {
  const saved = { dev: process.env.POWERTOOLS_DEV, disabled: process.env.POWERTOOLS_METRICS_DISABLED };
  before(() => {
    // As on Lambda: no dev mode (which would disable metrics), metrics on.
    delete process.env.POWERTOOLS_DEV;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
  });
  after(() => {
    for (const [key, value] of [["POWERTOOLS_DEV", saved.dev], ["POWERTOOLS_METRICS_DISABLED", saved.disabled]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const sink = () => awsTelemetrySink(new Logger({ serviceName: "image-pipeline" }), new Metrics({ namespace: "ImagePipeline", serviceName: "image-pipeline" }));

  it("emits JobsFailed with the job's error code when the real NotifyError step records a failure", async () => {
    const ports = memoryPorts();
    const input = { input: { jobId: "job-emf-1", sourceKey: "bad.jpg", error: { Error: "PermanentError", Cause: "CORRUPT_IMAGE: The file is not a readable image." } }, runId: "run-1" };
    const telemetry = sink();

    const lines = await captureOutput(async () => {
      await observeStep("notifyError", input, () => runStep("notifyError", input, ports, defaultProcessingOptions()), telemetry);
    });

    const metrics = emfLines(lines);
    const byCode = metrics.find((line) => line.ErrorCode !== undefined);
    assert.ok(byCode, `no EMF line with an ErrorCode among ${JSON.stringify(lines)}`);
    assert.equal(byCode.ErrorCode, "CORRUPT_IMAGE");
    assert.equal(byCode.JobsFailed, 1);
    assert.deepEqual(byCode._aws.CloudWatchMetrics[0]!.Namespace, "ImagePipeline");
    assert.deepEqual(byCode._aws.CloudWatchMetrics[0]!.Dimensions, [["service", "ErrorCode"]]);
    assert.deepEqual(byCode._aws.CloudWatchMetrics[0]!.Metrics, [{ Name: "JobsFailed", Unit: "Count" }]);
    const total = metrics.find((line) => line.ErrorCode === undefined);
    assert.ok(total, "no JobsFailed total without ErrorCode");
    assert.equal(total.JobsFailed, 1);
    assert.deepEqual(total._aws.CloudWatchMetrics[0]!.Dimensions, [["service"]]);
    assert.equal(total.service, "image-pipeline");
    assert.equal(ports.notifier.events[0]!.error?.code, "CORRUPT_IMAGE");
  });

  it("writes the step's structured log record with job id, step, duration and outcome", async () => {
    const ports = memoryPorts();
    const input = { jobId: "job-emf-2", sourceKey: "bad.jpg", error: { Error: "PermanentError", Cause: "TOO_LARGE: over the limit." } };
    const telemetry = sink();

    const lines = await captureOutput(async () => {
      await observeStep("notifyError", input, () => runStep("notifyError", input, ports, defaultProcessingOptions()), telemetry);
    });

    const log = lines.find((line) => line.source === "image-pipeline");
    assert.ok(log, `no log record among ${JSON.stringify(lines)}`);
    assert.equal(log.level, "INFO");
    assert.equal(log.message, "notifyError succeeded");
    assert.equal(log.jobId, "job-emf-2");
    assert.equal(log.step, "notifyError");
    assert.equal(log.outcome, "succeeded");
    assert.equal(log.job, "failed");
    assert.equal(log.errorCode, "TOO_LARGE");
    assert.equal(typeof log.durationMs, "number");
  });

  it("emits JobsSucceeded (and no failure) when NotifySuccess published the outcome", async () => {
    const lines = await captureOutput(async () => {
      sink()({ source: "image-pipeline", jobId: "job-emf-3", step: "notifySuccess", durationMs: 4, outcome: "succeeded", job: "succeeded" });
    });

    const metrics = emfLines(lines);
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0]!.JobsSucceeded, 1);
    assert.equal(metrics[0]!.JobsFailed, undefined);
  });

  it("counts a job the sweep gave up on as failed with TIMEOUT and as stuck", async () => {
    const lines = await captureOutput(async () => {
      sink()(sweptJobRecord("job-emf-4"));
    });

    const metrics = emfLines(lines);
    assert.equal(metrics.find((line) => line.ErrorCode === "TIMEOUT")?.JobsFailed, 1);
    const total = metrics.find((line) => line.ErrorCode === undefined);
    assert.equal(total?.JobsFailed, 1);
    assert.equal(total?.StuckJobsFailed, 1);
  });

  it("counts a superseded job as JobsSuperseded, never as failed or stuck, from NotifySuccess and from the sweep", async () => {
    const lines = await captureOutput(async () => {
      sink()({ source: "image-pipeline", jobId: "job-emf-6", step: "notifySuccess", durationMs: 3, outcome: "succeeded", job: "superseded" });
      sink()(sweptJobRecord("job-emf-7", "superseded"));
    });

    const metrics = emfLines(lines);
    assert.deepEqual(
      metrics.map((line) => [line.JobsSuperseded, line.JobsFailed, line.StuckJobsFailed, line.JobsSucceeded]),
      [
        [1, undefined, undefined, undefined],
        [1, undefined, undefined, undefined],
      ],
    );
  });

  it("emits no metric for a step that does not end a job, and logs a retried failure as a warning", async () => {
    const lines = await captureOutput(async () => {
      sink()({ source: "image-pipeline", jobId: "job-emf-5", step: "resize", durationMs: 9, outcome: "retrying", errorCode: "THROTTLED" });
    });

    assert.equal(emfLines(lines).length, 0);
    assert.equal(lines.find((line) => line.jobId === "job-emf-5")?.level, "WARN");
  });
});
