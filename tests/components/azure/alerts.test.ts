import * as assert from "node:assert/strict";
import { PipelineAlerts } from "../../../components/azure/alerts";
import { PipelineWorkbook, workbookContent, workbookId } from "../../../components/azure/workbook";
import { setupPulumiMocks, type PulumiMocks, type RecordedResource } from "../../helpers/pulumiMocks";

const RULE = "azure-native:monitor:ScheduledQueryRule";
const INSIGHTS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/components/ip-insights";
const WORKSPACE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ip-logs";
const EVENTS_TOPIC = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.EventGrid/systemTopics/ip-storage-events";
const TAGS = { project: "image-pipeline", stack: "prod", "data-classification": "internal" };

describe("Azure alerts and workbook", () => {
  let mocks: PulumiMocks;
  const rule = (suffix: string): RecordedResource => mocks.get(RULE, `ip-alerts-${suffix}`);
  const condition = (suffix: string) => rule(suffix).inputs.criteria.allOf[0];

  before(async () => {
    mocks = await setupPulumiMocks({ stack: "prod" });
    new PipelineAlerts("ip-alerts", { resourceGroupName: "rg", location: "westeurope", insightsId: INSIGHTS, workspaceId: WORKSPACE, deleteEventsSubscriptionName: "ip-uploads-deleted-1a2b3c", eventsTopicId: EVENTS_TOPIC, alertEmail: "oncall@example.com", tags: TAGS });
    new PipelineAlerts("quiet-alerts", { resourceGroupName: "rg", location: "westeurope", insightsId: INSIGHTS, workspaceId: WORKSPACE, tags: TAGS });
    new PipelineWorkbook("ip-monitoring", { resourceGroupName: "rg", location: "westeurope", insightsId: INSIGHTS, tags: TAGS });
    await mocks.settle();
  });

  describe("the action group", () => {
    it("is global, enabled, and mails alertEmail in the common alert schema", () => {
      const group = mocks.get("azure-native:monitor:ActionGroup", "ip-alerts-action-group");

      assert.equal(group.inputs.location, "global");
      assert.equal(group.inputs.enabled, true);
      assert.equal(group.inputs.groupShortName, "imgpipeline");
      assert.ok(group.inputs.groupShortName.length <= 12);
      assert.deepEqual(group.inputs.emailReceivers, [{ name: "alert-email", emailAddress: "oncall@example.com", useCommonAlertSchema: true }]);
      assert.deepEqual(group.inputs.tags, TAGS);
    });

    it("has no receiver without alertEmail (the alerts still fire in the portal)", () => {
      assert.deepEqual(mocks.get("azure-native:monitor:ActionGroup", "quiet-alerts-action-group").inputs.emailReceivers, []);
    });
  });

  describe("the Event Grid delivery alert", () => {
    it("pages on any failed delivery of the system topic's storage events in 5 minutes, as a metric alert to the action group", () => {
      const alert = mocks.get("azure-native:monitor:MetricAlert", "ip-alerts-event-delivery-retries");
      const groupId = mocks.get("azure-native:monitor:ActionGroup", "ip-alerts-action-group").state.id;

      assert.deepEqual(alert.inputs.scopes, [EVENTS_TOPIC]);
      assert.equal(alert.inputs.location, "global");
      assert.deepEqual([alert.inputs.evaluationFrequency, alert.inputs.windowSize, alert.inputs.severity, alert.inputs.enabled, alert.inputs.autoMitigate], ["PT5M", "PT5M", 1, true, true]);
      assert.equal(alert.inputs.criteria.odataType, "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria");
      assert.deepEqual(alert.inputs.criteria.allOf, [
        { criterionType: "StaticThresholdCriterion", name: "failed-deliveries", metricNamespace: "Microsoft.EventGrid/systemTopics", metricName: "DeliveryAttemptFailCount", operator: "GreaterThan", threshold: 0, timeAggregation: "Total" },
      ]);
      assert.deepEqual(alert.inputs.actions, [{ actionGroupId: groupId }]);
      assert.deepEqual(alert.inputs.tags, TAGS);
    });

    it("is left out without the topic", () => {
      assert.deepEqual(mocks.ofType("azure-native:monitor:MetricAlert").map((r) => r.name), ["ip-alerts-event-delivery-retries"]);
    });
  });

  describe("the log alerts", () => {
    it("are these ten", () => {
      assert.deepEqual(
        mocks.ofType(RULE).filter((r) => r.name.startsWith("ip-alerts-")).map((r) => r.name).sort(),
        ["api-server-errors", "dead-letters", "erase-dead-letters", "erase-failures", "erase-poison-queue", "failed-orchestrations", "failure-rate", "function-failures", "poison-queue", "stuck-jobs", "sweep-failures"].map((s) => `ip-alerts-${s}`),
      );
    });

    it("without the delete subscription's name, watch every dead letter in one alert", () => {
      const quiet = mocks.ofType(RULE).filter((r) => r.name.startsWith("quiet-alerts-")).map((r) => r.name.replace("quiet-alerts-", ""));

      assert.ok(!quiet.includes("erase-dead-letters"));
      assert.equal(
        mocks.get(RULE, "quiet-alerts-dead-letters").inputs.criteria.allOf[0].query,
        'StorageBlobLogs | where OperationName in ("PutBlob", "PutBlockList") and Uri has "/dead-letters/" | summarize written = count()',
      );
    });

    it("each notify the action group, run every 5 minutes at severity 1, resolve by themselves and fire on one failing period", () => {
      const groupId = mocks.get("azure-native:monitor:ActionGroup", "ip-alerts-action-group").state.id;
      for (const r of mocks.ofType(RULE).filter((r) => r.name.startsWith("ip-alerts-"))) {
        assert.deepEqual(r.inputs.actions, { actionGroups: [groupId] }, r.name);
        assert.equal(r.inputs.kind, "LogAlert", r.name);
        assert.equal(r.inputs.evaluationFrequency, "PT5M", r.name);
        assert.equal(r.inputs.severity, 1, r.name);
        assert.equal(r.inputs.enabled, true, r.name);
        assert.equal(r.inputs.autoMitigate, true, r.name);
        assert.equal(r.inputs.displayName, r.name);
        assert.deepEqual(r.inputs.criteria.allOf[0].failingPeriods, { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }, r.name);
        assert.equal(r.inputs.criteria.allOf[0].operator, "GreaterThan", r.name);
        assert.deepEqual(r.inputs.tags, TAGS, r.name);
      }
      assert.notEqual(mocks.get("azure-native:monitor:ActionGroup", "quiet-alerts-action-group").state.id, groupId);
      assert.deepEqual(rule("failed-orchestrations").inputs.actions.actionGroups, [groupId]);
    });

    it("count failed orchestrations from the Durable extension's tracking events, more than 5 in 5 minutes", () => {
      const c = condition("failed-orchestrations");

      assert.deepEqual(rule("failed-orchestrations").inputs.scopes, [INSIGHTS]);
      assert.equal(rule("failed-orchestrations").inputs.windowSize, "PT5M");
      assert.equal(
        c.query,
        'traces | where customDimensions.Category == "Host.Triggers.DurableTask" and tostring(customDimensions.prop__functionType) == "Orchestrator" and tostring(customDimensions.prop__state) == "Failed" | summarize failed = sum(itemCount)',
      );
      assert.deepEqual([c.timeAggregation, c.metricMeasureColumn, c.threshold], ["Total", "failed", 5]);
    });

    it("count failed function invocations (requests), more than 5 in 5 minutes", () => {
      const c = condition("function-failures");

      assert.equal(c.query, "requests | where success == false | summarize failed = sum(itemCount)");
      assert.deepEqual([c.timeAggregation, c.metricMeasureColumn, c.threshold], ["Total", "failed", 5]);
    });

    it("fire on any upload event moved to the poison queue", () => {
      const c = condition("poison-queue");

      assert.equal(c.query, `traces | where message has "MaxDequeueCount" and message contains "'upload-events-poison'" | summarize moved = sum(itemCount)`);
      assert.equal(c.threshold, 0);
    });

    it("fire on any upload event dead-lettered into the dead-letters container (any but the delete subscription's), from the workspace's blob logs", () => {
      const c = condition("dead-letters");

      assert.deepEqual(rule("dead-letters").inputs.scopes, [WORKSPACE]);
      assert.equal(
        c.query,
        'StorageBlobLogs | where OperationName in ("PutBlob", "PutBlockList") and Uri has "/dead-letters/" and not(Uri contains "/dead-letters/ip-uploads-deleted-1a2b3c/") | summarize written = count()',
      );
      assert.deepEqual([c.timeAggregation, c.metricMeasureColumn, c.threshold], ["Total", "written", 0]);
    });

    it("fire on any delete event dead-lettered under the delete subscription's folder", () => {
      const c = condition("erase-dead-letters");

      assert.deepEqual(rule("erase-dead-letters").inputs.scopes, [WORKSPACE]);
      assert.equal(rule("erase-dead-letters").inputs.windowSize, "PT5M");
      assert.equal(
        c.query,
        'StorageBlobLogs | where OperationName in ("PutBlob", "PutBlockList") and Uri has "/dead-letters/" and Uri contains "/dead-letters/ip-uploads-deleted-1a2b3c/" | summarize written = count()',
      );
      assert.deepEqual([c.timeAggregation, c.metricMeasureColumn, c.threshold], ["Total", "written", 0]);
    });

    it("fire on more than 5 server errors the API answered in 5 minutes, read from its requests' status codes", () => {
      const c = condition("api-server-errors");

      assert.deepEqual(rule("api-server-errors").inputs.scopes, [INSIGHTS]);
      assert.equal(c.query, 'requests | where operation_Name in ("ApiUploads", "ApiJobs", "ApiDocument") and toint(resultCode) >= 500 | summarize failed = sum(itemCount)');
      assert.deepEqual([c.timeAggregation, c.metricMeasureColumn, c.threshold], ["Total", "failed", 5]);
    });

    it("fire on any failed invocation of the EraseUpload function, from its requests", () => {
      const c = condition("erase-failures");

      assert.deepEqual(rule("erase-failures").inputs.scopes, [INSIGHTS]);
      assert.equal(c.query, 'requests | where operation_Name == "EraseUpload" and success == false | summarize failed = sum(itemCount)');
      assert.deepEqual([c.timeAggregation, c.metricMeasureColumn, c.threshold], ["Total", "failed", 0]);
    });

    it("fire on any delete event moved to the delete-events poison queue", () => {
      const c = condition("erase-poison-queue");

      assert.equal(c.query, `traces | where message has "MaxDequeueCount" and message contains "'delete-events-poison'" | summarize moved = sum(itemCount)`);
      assert.deepEqual([c.timeAggregation, c.metricMeasureColumn, c.threshold], ["Total", "moved", 0]);
    });

    it("fire on any failed run of the SweepStuckJobs function", () => {
      const c = condition("sweep-failures");

      assert.equal(c.query, 'requests | where operation_Name == "SweepStuckJobs" and success == false | summarize failed = sum(itemCount)');
      assert.deepEqual([c.timeAggregation, c.metricMeasureColumn, c.threshold], ["Total", "failed", 0]);
    });

    it("fire on any job the stuck-job sweep failed, from its records", () => {
      const c = condition("stuck-jobs");

      assert.equal(
        c.query,
        'traces | extend r = parse_json(message) | where tostring(r.source) == "image-pipeline" and tostring(r.step) == "sweepStuckJobs" and tostring(r.job) == "failed" | summarize swept = sum(itemCount)',
      );
      assert.equal(c.threshold, 0);
    });

    it("compute the job failure rate over 15 minutes from the records that end jobs, above 10 % once 10 jobs ended", () => {
      const c = condition("failure-rate");

      assert.equal(rule("failure-rate").inputs.windowSize, "PT15M");
      assert.equal(
        c.query,
        'traces | extend r = parse_json(message) | where tostring(r.source) == "image-pipeline" and isnotempty(tostring(r.job)) | summarize failed = sumif(itemCount, tostring(r.job) == "failed"), total = sum(itemCount) | extend rate = iff(total >= 10, 100.0 * failed / total, 0.0)',
      );
      assert.deepEqual([c.timeAggregation, c.metricMeasureColumn, c.threshold], ["Total", "rate", 10]);
    });
  });

  describe("the workbook", () => {
    it("is a shared workbook on the Application Insights component, with a stable GUID name", () => {
      const workbook = mocks.get("azure-native:applicationinsights:Workbook", "ip-monitoring-workbook");

      assert.deepEqual([workbook.inputs.kind, workbook.inputs.category, workbook.inputs.sourceId, workbook.inputs.displayName], ["shared", "workbook", INSIGHTS, "ip-monitoring image pipeline"]);
      assert.match(workbook.inputs.resourceName, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(workbook.inputs.resourceName, workbookId("ip-monitoring"));
      assert.notEqual(workbookId("ip-monitoring"), workbookId("other-monitoring"));
      assert.deepEqual(JSON.parse(workbook.inputs.serializedData), workbookContent());
    });

    it("has the dashboard's panels as KQL query items over the component", () => {
      const content = workbookContent() as { version: string; items: Array<{ type: number; content: { title: string; query: string; resourceType: string; version: string } }> };

      assert.equal(content.version, "Notebook/1.0");
      assert.deepEqual(content.items.map((i) => i.content.title), [
        "Images per minute",
        "Time per step (ms): p50 / p95",
        "End to end (ms): p50 / p95",
        "Failed jobs by error code",
        "Erasure on delete: invocations and failures",
        "Stuck-job sweep: runs and failures",
      ]);
      for (const item of content.items) {
        assert.equal(item.type, 3);
        assert.equal(item.content.version, "KqlItem/1.0");
        assert.equal(item.content.resourceType, "microsoft.insights/components");
      }
      for (const item of content.items.slice(0, 4)) assert.match(item.content.query, /^traces \| extend r = parse_json\(message\) \| where tostring\(r\.source\) == "image-pipeline"/);
      assert.match(content.items[1]!.content.query, /percentiles\(todouble\(r\.durationMs\), 50, 95\) by step = tostring\(r\.step\)$/);
      assert.match(content.items[3]!.content.query, /tostring\(r\.job\) == "failed" \| summarize failed = sum\(itemCount\) by bin\(timestamp, 5m\), errorCode = tostring\(r\.errorCode\)/);
      assert.equal(content.items[4]!.content.query, 'requests | where operation_Name == "EraseUpload" | summarize erasures = sum(itemCount), failed = sumif(itemCount, success == false) by bin(timestamp, 5m) | render timechart');
      assert.equal(content.items[5]!.content.query, 'requests | where operation_Name == "SweepStuckJobs" | summarize runs = sum(itemCount), failed = sumif(itemCount, success == false) by bin(timestamp, 5m) | render timechart');
    });
  });
});
