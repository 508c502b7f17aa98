import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { AwsImagePipeline } from "../../../components/aws/imagePipeline";
import { dashboardWidgets } from "../../../components/aws/dashboard";
import { loadConfig } from "../../../components/config";
import { setupPulumiMocks, type PulumiMocks, type RecordedResource } from "../../helpers/pulumiMocks";

const NAME = "image-pipeline-prod";
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const ALERTS_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${NAME}-alarms-topic`;
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${NAME}-workflow`;
const STEPS = ["validate", "resize", "applyFilters", "optimize", "notifySuccess", "notifyError"];

describe("AWS alarms, alerts topic and dashboard", () => {
  let mocks: PulumiMocks;
  const code = new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.validate = async () => ({});") });
  const alarm = (suffix: string): RecordedResource => mocks.get(ALARM, `${NAME}-alarms-${suffix}`);

  before(async () => {
    mocks = await setupPulumiMocks({ project: "image-pipeline", stack: "prod", region: REGION, accountId: ACCOUNT });
    new AwsImagePipeline(NAME, { config: loadConfig({ alertEmail: "oncall@example.com" }), code });
    await mocks.settle();
  });

  describe("the alerts topic", () => {
    it("is encrypted with its own rotating key that CloudWatch alarms of this account may use", () => {
      const key = mocks.get("aws:kms/key:Key", `${NAME}-alarms-key`);
      const topic = mocks.get("aws:sns/topic:Topic", `${NAME}-alarms-topic`);

      assert.equal(topic.inputs.kmsMasterKeyId, key.state.arn);
      assert.equal(key.inputs.enableKeyRotation, true);
      const policy = JSON.parse(key.inputs.policy);
      assert.deepEqual(policy.Statement[1], {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
      });
      assert.deepEqual(policy.Statement[0].Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
    });

    it("mails alertEmail", () => {
      const subscription = mocks.get("aws:sns/topicSubscription:TopicSubscription", `${NAME}-alarms-email`);

      assert.deepEqual([subscription.inputs.topic, subscription.inputs.protocol, subscription.inputs.endpoint], [ALERTS_TOPIC_ARN, "email", "oncall@example.com"]);
    });
  });

  describe("the alarms", () => {
    it("are these twenty-seven, each named after the pipeline", () => {
      const names = mocks.ofType(ALARM).map((a) => a.inputs.name).sort();

      assert.deepEqual(names, [
        "executions-failed",
        "executions-throttled",
        "executions-timed-out",
        "dead-letters",
        "start-retries",
        "stuck-jobs",
        "failure-rate",
        "reprocess-failed",
        "erase-errors",
        "erase-throttles",
        "erase-destination-failures",
        "erase-dead-letters",
        "sweep-errors",
        "api-5xx",
        "api-errors",
        ...STEPS.flatMap((step) => [`${step}-errors`, `${step}-throttles`]),
      ].map((suffix) => `${NAME}-alarms-${suffix}`).sort());
    });

    it("all alarm and recover to the alerts topic, and treat missing data as not breaching", () => {
      for (const a of mocks.ofType(ALARM)) {
        assert.deepEqual(a.inputs.alarmActions, [ALERTS_TOPIC_ARN], a.name);
        assert.deepEqual(a.inputs.okActions, [ALERTS_TOPIC_ARN], a.name);
        assert.equal(a.inputs.treatMissingData, "notBreaching", a.name);
        assert.equal(a.inputs.comparisonOperator, "GreaterThanThreshold", a.name);
        assert.equal(a.inputs.evaluationPeriods, 1, a.name);
        assert.match(a.inputs.alarmDescription, /^[A-Z].+\.$/, a.name);
      }
    });

    it("watch the state machine's failed (more than 5), timed-out and throttled executions over 5 minutes", () => {
      const expected = { "executions-failed": ["ExecutionsFailed", 5], "executions-timed-out": ["ExecutionsTimedOut", 0], "executions-throttled": ["ExecutionThrottled", 0] } as const;
      for (const [suffix, [metricName, threshold]] of Object.entries(expected)) {
        const { inputs } = alarm(suffix);
        assert.deepEqual(
          [inputs.namespace, inputs.metricName, inputs.dimensions, inputs.statistic, inputs.period, inputs.threshold],
          ["AWS/States", metricName, { StateMachineArn: STATE_MACHINE_ARN }, "Sum", 300, threshold],
          suffix,
        );
      }
    });

    it("watch each step function's errors (more than 5) and throttles (any) by its name", () => {
      for (const step of STEPS) {
        const errors = alarm(`${step}-errors`).inputs;
        const throttles = alarm(`${step}-throttles`).inputs;
        assert.deepEqual([errors.namespace, errors.metricName, errors.dimensions, errors.statistic, errors.threshold], ["AWS/Lambda", "Errors", { FunctionName: `${NAME}-${step}` }, "Sum", 5]);
        assert.deepEqual([throttles.namespace, throttles.metricName, throttles.dimensions, throttles.threshold], ["AWS/Lambda", "Throttles", { FunctionName: `${NAME}-${step}` }, 0]);
      }
    });

    it("page on any message in the upload dead-letter queue", () => {
      const { inputs } = alarm("dead-letters");
      const queue = mocks.get("aws:sqs/queue:Queue", `${NAME}-trigger-dead-letters`);

      assert.deepEqual(
        [inputs.namespace, inputs.metricName, inputs.dimensions, inputs.statistic, inputs.threshold],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: queue.state.name }, "Maximum", 0],
      );
      assert.equal(queue.state.name, `${NAME}-trigger-dead-letters`);
    });

    it("page on any start EventBridge retries, from the upload rule's RetryInvocationAttempts", () => {
      const { inputs } = alarm("start-retries");
      const rule = mocks.get("aws:cloudwatch/eventRule:EventRule", `${NAME}-trigger-rule`);

      assert.deepEqual(
        [inputs.namespace, inputs.metricName, inputs.dimensions, inputs.statistic, inputs.period, inputs.threshold],
        ["AWS/Events", "RetryInvocationAttempts", { RuleName: rule.state.name }, "Sum", 300, 0],
      );
      assert.equal(rule.state.name, `${NAME}-trigger-rule`);
    });

    it("page on any error, throttle or undeliverable failure record of the erase function, by its name", () => {
      const expected = { "erase-errors": "Errors", "erase-throttles": "Throttles", "erase-destination-failures": "DestinationDeliveryFailures" } as const;
      for (const [suffix, metricName] of Object.entries(expected)) {
        const { inputs } = alarm(suffix);
        assert.deepEqual(
          [inputs.namespace, inputs.metricName, inputs.dimensions, inputs.statistic, inputs.period, inputs.threshold],
          ["AWS/Lambda", metricName, { FunctionName: `${NAME}-eraseUpload` }, "Sum", 300, 0],
          suffix,
        );
      }
    });

    it("page on any message in the erase dead-letter queue, the one the delete rule and the erase function's failures go to", () => {
      const { inputs } = alarm("erase-dead-letters");
      const queue = mocks.get("aws:sqs/queue:Queue", `${NAME}-erase-dead-letters`);
      const target = mocks.get("aws:cloudwatch/eventTarget:EventTarget", `${NAME}-erase-target`);
      const failures = mocks.get("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", `${NAME}-erase-failures`);

      assert.deepEqual(
        [inputs.namespace, inputs.metricName, inputs.dimensions, inputs.statistic, inputs.period, inputs.threshold],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: `${NAME}-erase-dead-letters` }, "Maximum", 300, 0],
      );
      assert.equal(queue.state.name, `${NAME}-erase-dead-letters`);
      assert.equal(target.inputs.deadLetterConfig.arn, queue.state.arn);
      assert.equal(failures.inputs.destinationConfig.onFailure.destination, queue.state.arn);
    });

    it("page on any error of the stuck-job sweep's function, by its name", () => {
      const { inputs } = alarm("sweep-errors");

      assert.deepEqual([inputs.namespace, inputs.metricName, inputs.dimensions, inputs.statistic, inputs.threshold], ["AWS/Lambda", "Errors", { FunctionName: `${NAME}-sweepStuckJobs` }, "Sum", 0]);
    });

    it("page on any failed reprocess run (one that went over its tolerated failures)", () => {
      const { inputs } = alarm("reprocess-failed");

      assert.deepEqual(
        [inputs.namespace, inputs.metricName, inputs.dimensions, inputs.statistic, inputs.threshold],
        ["AWS/States", "ExecutionsFailed", { StateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${NAME}-reprocess` }, "Sum", 0],
      );
    });

    it("page on more than 5 server errors of the HTTP API in 5 minutes, and on any crash of its function", () => {
      const httpApi = mocks.get("aws:apigatewayv2/api:Api", `${NAME}-api-http`);
      const errors = alarm("api-5xx").inputs;
      const crashes = alarm("api-errors").inputs;

      assert.deepEqual([errors.namespace, errors.metricName, errors.dimensions, errors.statistic, errors.period, errors.threshold], ["AWS/ApiGateway", "5xx", { ApiId: httpApi.state.id }, "Sum", 300, 5]);
      assert.deepEqual([crashes.namespace, crashes.metricName, crashes.dimensions, crashes.statistic, crashes.threshold], ["AWS/Lambda", "Errors", { FunctionName: `${NAME}-api` }, "Sum", 0]);
    });

    it("page on any job the stuck-job sweep failed, from the steps' own metric in this stack's service", () => {
      const { inputs } = alarm("stuck-jobs");

      assert.deepEqual([inputs.namespace, inputs.metricName, inputs.dimensions, inputs.statistic, inputs.threshold], ["ImagePipeline", "StuckJobsFailed", { service: NAME }, "Sum", 0]);
    });

    it("compute the job failure rate over 15 minutes with metric math, above 10 % once at least 10 jobs ended", () => {
      const { inputs } = alarm("failure-rate");

      assert.equal(inputs.threshold, 10);
      assert.equal(inputs.metricName, undefined);
      assert.deepEqual(inputs.metricQueries, [
        { id: "failed", returnData: false, metric: { namespace: "ImagePipeline", metricName: "JobsFailed", dimensions: { service: NAME }, stat: "Sum", period: 900 } },
        { id: "succeeded", returnData: false, metric: { namespace: "ImagePipeline", metricName: "JobsSucceeded", dimensions: { service: NAME }, stat: "Sum", period: 900 } },
        { id: "total", returnData: false, expression: "FILL(failed, 0) + FILL(succeeded, 0)", label: "jobs ended" },
        { id: "rate", returnData: true, expression: "IF(total >= 10, 100 * FILL(failed, 0) / total, 0)", label: "failed jobs (%)" },
      ]);
    });

    it("tell the steps which service their metrics belong to, the one the alarms select", () => {
      const validate = mocks.get("aws:lambda/function:Function", `${NAME}-validate`);

      assert.equal(validate.inputs.environment.variables.POWERTOOLS_SERVICE_NAME, NAME);
    });
  });

  describe("the dashboard", () => {
    it("is named after the pipeline and shows every alarm", () => {
      const dashboard = mocks.get("aws:cloudwatch/dashboard:Dashboard", `${NAME}-monitoring-dashboard`);
      const body = JSON.parse(dashboard.inputs.dashboardBody) as { widgets: Array<{ type: string; properties: { alarms?: string[]; region?: string } }> };

      assert.equal(dashboard.inputs.dashboardName, `${NAME}-monitoring`);
      const alarms = body.widgets.find((w) => w.type === "alarm")!.properties.alarms!;
      assert.deepEqual(alarms.sort(), mocks.ofType(ALARM).map((a) => a.state.arn).sort());
      assert.equal(alarms.length, 27);
      assert.ok(body.widgets.filter((w) => w.type === "metric").every((w) => w.properties.region === REGION));
    });
  });
});

describe("dashboardWidgets", () => {
  const widgets = dashboardWidgets({
    stateMachineArn: "arn:aws:states:eu-west-1:111122223333:stateMachine:p-workflow",
    functionNames: { validate: "p-validate", resize: "p-resize", applyFilters: "p-applyFilters", optimize: "p-optimize", notifySuccess: "p-notifySuccess", notifyError: "p-notifyError" },
    erase: { functionName: "p-eraseUpload", deadLetterQueueName: "p-erase-dead-letters" },
    sweepFunctionName: "p-sweepStuckJobs",
    service: "p",
    alarmArns: ["arn:aws:cloudwatch:eu-west-1:111122223333:alarm:p-a"],
    region: "eu-west-1",
  });
  const titled = (title: string) => {
    const found = widgets.find((w) => w.properties.title === title);
    assert.ok(found, `no widget "${title}" among ${widgets.map((w) => w.properties.title).join(", ")}`);
    return found.properties;
  };

  it("shows images per minute as jobs ended per 60 s, by outcome", () => {
    const images = titled("Images per minute");

    assert.equal(images.period, 60);
    assert.equal(images.stat, "Sum");
    assert.deepEqual(images.metrics, [
      ["ImagePipeline", "JobsSucceeded", "service", "p", { label: "succeeded" }],
      ["ImagePipeline", "JobsFailed", "service", "p", { label: "failed" }],
    ]);
  });

  it("shows p50 and p95 end to end from the state machine's ExecutionTime", () => {
    assert.deepEqual(titled("End to end (ms): execution time p50 / p95").metrics, [
      ["AWS/States", "ExecutionTime", "StateMachineArn", "arn:aws:states:eu-west-1:111122223333:stateMachine:p-workflow", { stat: "p50", label: "p50" }],
      ["AWS/States", "ExecutionTime", "StateMachineArn", "arn:aws:states:eu-west-1:111122223333:stateMachine:p-workflow", { stat: "p95", label: "p95" }],
    ]);
  });

  it("shows p50 and p95 of every step from its function's Duration", () => {
    for (const step of STEPS) {
      assert.deepEqual(titled(`${step} (ms): duration p50 / p95`).metrics, [
        ["AWS/Lambda", "Duration", "FunctionName", `p-${step}`, { stat: "p50", label: "p50" }],
        ["AWS/Lambda", "Duration", "FunctionName", `p-${step}`, { stat: "p95", label: "p95" }],
      ]);
    }
  });

  it("shows failed jobs by error code with a search over the ErrorCode dimension of this service", () => {
    assert.deepEqual(titled("Failed jobs by error code").metrics, [
      [{ expression: `SEARCH('{ImagePipeline,ErrorCode,service} MetricName="JobsFailed" service="p"', 'Sum', 300)`, id: "byCode", label: "" }],
    ]);
  });

  it("shows erasure on delete: the erase function's invocations, errors and throttles, and its dead-letter queue's depth", () => {
    assert.deepEqual(titled("Erasure on delete: invocations, errors, dead letters").metrics, [
      ["AWS/Lambda", "Invocations", "FunctionName", "p-eraseUpload", { stat: "Sum", label: "erasures" }],
      ["AWS/Lambda", "Errors", "FunctionName", "p-eraseUpload", { stat: "Sum", label: "errors" }],
      ["AWS/Lambda", "Throttles", "FunctionName", "p-eraseUpload", { stat: "Sum", label: "throttles" }],
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "p-erase-dead-letters", { stat: "Maximum", label: "dead letters" }],
    ]);
  });

  it("shows the stuck-job sweep: its runs and errors, and the jobs it failed from the steps' own metric", () => {
    assert.deepEqual(titled("Stuck-job sweep: runs, errors, jobs failed with TIMEOUT").metrics, [
      ["AWS/Lambda", "Invocations", "FunctionName", "p-sweepStuckJobs", { stat: "Sum", label: "runs" }],
      ["AWS/Lambda", "Errors", "FunctionName", "p-sweepStuckJobs", { stat: "Sum", label: "errors" }],
      ["ImagePipeline", "StuckJobsFailed", "service", "p", { stat: "Sum", label: "jobs failed (TIMEOUT)" }],
    ]);
  });

  it("lays the widgets out without overlap on the 24-column grid", () => {
    const cells = new Set<string>();
    for (const w of widgets) {
      assert.ok(w.x + w.width <= 24, `${String(w.properties.title)} overflows`);
      for (let x = w.x; x < w.x + w.width; x++) for (let y = w.y; y < w.y + w.height; y++) {
        const cell = `${x},${y}`;
        assert.ok(!cells.has(cell), `${String(w.properties.title)} overlaps at ${cell}`);
        cells.add(cell);
      }
    }
  });
});
