import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { SWEEP_HANDLER } from "../workflow";
import { JOB_METRICS, type StepLogRecord, type StepRecordSink } from "../observability";

/**
 * The Lambda side of the telemetry: the record through Powertools Logger (JSON on stdout, which
 * Lambda ships to the function's log group: https://docs.aws.amazon.com/powertools/typescript/latest/features/logger/),
 * and, for a record that ends a job, JobsSucceeded, JobsSuperseded or JobsFailed (in total, and by ErrorCode) as
 * EMF lines that CloudWatch turns into metrics (https://docs.aws.amazon.com/powertools/typescript/latest/features/metrics/).
 * Both write bare JSON lines to stdout, not through Lambda's patched console (https://github.com/aws-powertools/powertools-lambda-typescript/pull/1786).
 */
export function awsTelemetrySink(logger: Logger, metrics: Metrics): StepRecordSink {
  return (record: StepLogRecord) => {
    const level = record.outcome === "succeeded" ? "info" : record.outcome === "retrying" ? "warn" : "error";
    logger[level](`${record.step} ${record.outcome}`, { ...record });
    if (!record.job) return;
    if (record.job === "succeeded") {
      metrics.addMetric(JOB_METRICS.succeeded, MetricUnit.Count, 1);
    } else if (record.job === "superseded") {
      metrics.addMetric(JOB_METRICS.superseded, MetricUnit.Count, 1);
    } else {
      // The total has no ErrorCode dimension: an alarm cannot sum metrics it must first search for.
      metrics.addMetric(JOB_METRICS.failed, MetricUnit.Count, 1);
      const byCode = metrics.singleMetric();
      byCode.addDimension(JOB_METRICS.errorCodeDimension, record.errorCode ?? "INTERNAL");
      byCode.addMetric(JOB_METRICS.failed, MetricUnit.Count, 1);
    }
    if (record.step === SWEEP_HANDLER && record.job === "failed") metrics.addMetric(JOB_METRICS.stuckFailed, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  };
}


/**
 * The sink the Lambda handlers use: one logger and one metrics buffer per execution environment.
 * The service name (the metrics' `service` dimension) is the stack's pipeline name, which the
 * component sets as POWERTOOLS_SERVICE_NAME, so two stacks in one account never share a metric.
 */
export function createAwsTelemetry(env: NodeJS.ProcessEnv = process.env): StepRecordSink {
  const serviceName = env.POWERTOOLS_SERVICE_NAME || JOB_METRICS.service;
  return awsTelemetrySink(new Logger({ serviceName }), new Metrics({ namespace: JOB_METRICS.namespace, serviceName }));
}
