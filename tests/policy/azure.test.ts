import * as assert from "node:assert/strict";
import {
  appInsightsWorkspaceBased,
  azureResourcePolicies,
  eventDeliveryAlerts,
  eventSubscriptionDeadLetter,
  functionAppAlerts,
  functionAppApplicationInsights,
  functionAppFtpsDisabled,
  functionAppHttpsOnly,
  functionAppManagedIdentity,
  functionAppMinimumTls,
  storageHttpsOnly,
  storageMinimumTls,
  storageNoPublicBlobAccess,
  storageNoSharedKeyAccess,
  storageUploadsBlobProtection,
} from "../../policy/azure";
import { AZURE } from "../../policy/types";
import { diagnosticsOf, UNKNOWN, violationsOf, type TestResource } from "../helpers/policyHarness";

const SECURE_ACCOUNT = { enableHttpsTrafficOnly: true, minimumTlsVersion: "TLS1_2", allowBlobPublicAccess: false, allowSharedKeyAccess: false };

function account(props: Record<string, unknown> = {}, name = "pipelinedata"): TestResource {
  return { type: AZURE.storageAccount[0], name, props: { kind: "StorageV2", accountName: undefined, name: `${name}1a2b`, ...SECURE_ACCOUNT, ...props } };
}

const connectionSetting = { name: "APPLICATIONINSIGHTS_CONNECTION_STRING", value: "InstrumentationKey=k;IngestionEndpoint=https://x" };

function functionApp(props: Record<string, unknown> = {}, siteConfig: Record<string, unknown> = {}): TestResource {
  return {
    type: AZURE.webApp[0],
    name: "pipeline-func",
    props: {
      name: "pipeline-func1a2b",
      kind: "functionapp,linux",
      httpsOnly: true,
      identity: { type: "SystemAssigned" },
      siteConfig: { ftpsState: "Disabled", minTlsVersion: "1.2", appSettings: [connectionSetting], ...siteConfig },
      ...props,
    },
  };
}

const insights: TestResource = { type: AZURE.appInsights[0], name: "pipeline-insights", props: { kind: "web", applicationType: "web", workspaceResourceId: "/subscriptions/s/resourceGroups/g/providers/Microsoft.OperationalInsights/workspaces/w" } };

describe("Azure policies", () => {
  describe("storage account hardening", () => {
    it("passes an account with HTTPS only, TLS 1.2, no public blobs and no shared keys", async () => {
      for (const policy of [storageHttpsOnly, storageMinimumTls, storageNoPublicBlobAccess, storageNoSharedKeyAccess]) {
        assert.deepEqual(await violationsOf(policy, account()), [], policy.name);
      }
    });

    it("azure-storage-https-only reports HTTP allowed or left to the default", async () => {
      assert.deepEqual(await violationsOf(storageHttpsOnly, account({ enableHttpsTrafficOnly: false })), ['The azure-native.storage.StorageAccount "pipelinedata" has enableHttpsTrafficOnly false; set it to true.']);
      assert.deepEqual(await violationsOf(storageHttpsOnly, account({ enableHttpsTrafficOnly: undefined })), ['The azure-native.storage.StorageAccount "pipelinedata" has enableHttpsTrafficOnly unset; set it to true.']);
    });

    it("azure-storage-minimum-tls-1-2 reports TLS 1.0 and accepts TLS 1.3", async () => {
      assert.deepEqual(await violationsOf(storageMinimumTls, account({ minimumTlsVersion: "TLS1_0" })), ['The azure-native.storage.StorageAccount "pipelinedata" has minimumTlsVersion "TLS1_0"; set it to "TLS1_2".']);
      assert.deepEqual(await violationsOf(storageMinimumTls, account({ minimumTlsVersion: "TLS1_3" })), []);
    });

    it("azure-storage-no-public-blob-access reports public access allowed or unset", async () => {
      assert.deepEqual(await violationsOf(storageNoPublicBlobAccess, account({ allowBlobPublicAccess: true })), ['The azure-native.storage.StorageAccount "pipelinedata" has allowBlobPublicAccess true; set it to false.']);
      assert.equal((await violationsOf(storageNoPublicBlobAccess, account({ allowBlobPublicAccess: undefined }))).length, 1);
    });

    it("azure-storage-no-shared-key-access reports shared keys allowed", async () => {
      assert.deepEqual(await violationsOf(storageNoSharedKeyAccess, account({ allowSharedKeyAccess: true })), [
        'The azure-native.storage.StorageAccount "pipelinedata" has allowSharedKeyAccess true; set it to false and use Microsoft Entra ID (managed identity) access.',
      ]);
    });
  });

  describe("azure-storage-uploads-blob-protection", () => {
    const data = account();
    const uploadsContainer: TestResource = { type: "azure-native:storage:BlobContainer", name: "pipeline-uploads", props: { accountName: "pipelinedata1a2b", containerName: "uploads" }, propertyDependencies: { accountName: ["pipelinedata"] } };
    const blobService = (props: Record<string, unknown>): TestResource => ({
      type: AZURE.blobServiceProperties[0],
      name: "pipeline-blob-service",
      props: { accountName: "pipelinedata1a2b", blobServicesName: "default", ...props },
      propertyDependencies: { accountName: ["pipelinedata"] },
    });
    const protectedService = blobService({ isVersioningEnabled: true, deleteRetentionPolicy: { enabled: true, days: 7 } });

    it("passes an uploads account with versioning and soft delete", async () => {
      assert.deepEqual(await violationsOf(storageUploadsBlobProtection, [data, uploadsContainer, protectedService]), []);
    });

    it("ignores accounts that hold no uploads", async () => {
      assert.deepEqual(await violationsOf(storageUploadsBlobProtection, [account({}, "pipelinecode")]), []);
    });

    it("reports an uploads account without blob service settings", async () => {
      assert.deepEqual(await violationsOf(storageUploadsBlobProtection, [data, uploadsContainer]), [
        'The azure-native.storage.StorageAccount "pipelinedata" holds uploads but has no BlobServiceProperties; add one with isVersioningEnabled true and deleteRetentionPolicy { enabled: true, days: 7 or more }.',
      ]);
    });

    it("reports versioning off and soft delete off", async () => {
      assert.deepEqual(await violationsOf(storageUploadsBlobProtection, [data, uploadsContainer, blobService({ isVersioningEnabled: false })]), [
        'The azure-native.storage.StorageAccount "pipelinedata" holds uploads but its blob service settings do not protect them: isVersioningEnabled is false, deleteRetentionPolicy.enabled is unset; enable versioning and soft delete.',
      ]);
    });

    it("reports soft delete without retention days", async () => {
      const [message] = await violationsOf(storageUploadsBlobProtection, [data, uploadsContainer, blobService({ isVersioningEnabled: true, deleteRetentionPolicy: { enabled: true } })]);
      assert.match(message, /deleteRetentionPolicy\.days is unset/);
    });

    it("recognizes the uploads account by its own name", async () => {
      assert.equal((await violationsOf(storageUploadsBlobProtection, [account({}, "uploadsstore")])).length, 1);
    });

    it("skips settings whose link is unknown at preview", async () => {
      const unlinked: TestResource = { ...protectedService, props: { ...protectedService.props, accountName: UNKNOWN }, propertyDependencies: {} };
      assert.deepEqual(await diagnosticsOf(storageUploadsBlobProtection, [account({}, "uploadsstore"), unlinked]), []);
    });
  });

  describe("Function App rules", () => {
    it("pass a hardened Function App", async () => {
      for (const policy of [functionAppHttpsOnly, functionAppFtpsDisabled, functionAppMinimumTls, functionAppManagedIdentity]) {
        assert.deepEqual(await violationsOf(policy, functionApp()), [], policy.name);
      }
    });

    it("ignore plain web apps", async () => {
      const webApp = functionApp({ kind: "app,linux", httpsOnly: false, identity: undefined }, { ftpsState: "AllAllowed" });
      for (const policy of [functionAppHttpsOnly, functionAppFtpsDisabled, functionAppManagedIdentity]) assert.deepEqual(await violationsOf(policy, webApp), []);
    });

    it("azure-function-app-https-only reports httpsOnly false", async () => {
      assert.deepEqual(await violationsOf(functionAppHttpsOnly, functionApp({ httpsOnly: false })), ['The azure-native.web.WebApp "pipeline-func" has httpsOnly false; set it to true.']);
    });

    it("azure-function-app-ftps-disabled reports FTPS allowed or left to the default", async () => {
      assert.deepEqual(await violationsOf(functionAppFtpsDisabled, functionApp({}, { ftpsState: "FtpsOnly" })), ['The azure-native.web.WebApp "pipeline-func" has siteConfig.ftpsState "FtpsOnly"; set it to "Disabled".']);
      assert.equal((await violationsOf(functionAppFtpsDisabled, functionApp({ siteConfig: undefined }))).length, 1);
    });

    it("azure-function-app-minimum-tls-1-2 reports TLS 1.0", async () => {
      assert.deepEqual(await violationsOf(functionAppMinimumTls, functionApp({}, { minTlsVersion: "1.0" })), ['The azure-native.web.WebApp "pipeline-func" has siteConfig.minTlsVersion "1.0"; set it to "1.2".']);
    });

    it("azure-function-app-managed-identity reports no or user-assigned-only identity and accepts both", async () => {
      assert.deepEqual(await violationsOf(functionAppManagedIdentity, functionApp({ identity: undefined })), [
        'The azure-native.web.WebApp "pipeline-func" has identity type unset; set identity.type to "SystemAssigned" (or "SystemAssigned, UserAssigned").',
      ]);
      assert.equal((await violationsOf(functionAppManagedIdentity, functionApp({ identity: { type: "UserAssigned" } }))).length, 1);
      assert.deepEqual(await violationsOf(functionAppManagedIdentity, functionApp({ identity: { type: "SystemAssigned, UserAssigned" } })), []);
    });

    it("skip settings unknown at preview", async () => {
      for (const policy of [functionAppHttpsOnly, functionAppFtpsDisabled, functionAppMinimumTls, functionAppManagedIdentity]) {
        assert.deepEqual(await diagnosticsOf(policy, functionApp({ httpsOnly: UNKNOWN, identity: UNKNOWN, siteConfig: UNKNOWN })), [], policy.name);
      }
    });
  });

  describe("azure-eventgrid-dead-letter", () => {
    const subscription = (props: Record<string, unknown>): TestResource => ({ type: AZURE.eventSubscription[0], name: "uploads-created", props: { systemTopicName: "storage-events", ...props } });

    it("passes a subscription that dead-letters to a container, with its identity or without", async () => {
      const destination = { endpointType: "StorageBlob", resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/data", blobContainerName: "dead-letters" };
      assert.deepEqual(await violationsOf(eventSubscriptionDeadLetter, subscription({ deadLetterWithResourceIdentity: { identity: { type: "SystemAssigned" }, deadLetterDestination: destination } })), []);
      assert.deepEqual(await violationsOf(eventSubscriptionDeadLetter, subscription({ deadLetterDestination: destination })), []);
      assert.deepEqual(await violationsOf(eventSubscriptionDeadLetter, subscription({ deadLetterDestination: UNKNOWN })), [], "unknown at preview");
    });

    it("reports a subscription without a dead-letter destination", async () => {
      assert.deepEqual(await violationsOf(eventSubscriptionDeadLetter, subscription({})), [
        'The azure-native.eventgrid.SystemTopicEventSubscription "uploads-created" has no dead-letter destination; set deadLetterWithResourceIdentity to a blob container its identity may write to.',
      ]);
    });
  });

  describe("azure-app-insights-workspace-based", () => {
    it("passes a workspace-based component and reports a classic one", async () => {
      assert.deepEqual(await violationsOf(appInsightsWorkspaceBased, insights), []);
      assert.deepEqual(await violationsOf(appInsightsWorkspaceBased, { ...insights, props: { kind: "web" } }), [
        'The azure-native.applicationinsights.Component "pipeline-insights" has no workspaceResourceId; link it to a Log Analytics workspace.',
      ]);
    });
  });

  describe("azure-function-app-application-insights", () => {
    it("passes a Function App with the connection string setting and a component", async () => {
      assert.deepEqual(await violationsOf(functionAppApplicationInsights, [functionApp(), insights]), []);
    });

    it("accepts the setting from a WebAppApplicationSettings resource", async () => {
      const app = functionApp({}, { appSettings: [] });
      const settings: TestResource = { type: AZURE.webAppSettings[0], name: "pipeline-func-settings", props: { name: "pipeline-func1a2b", properties: { APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=k" } }, propertyDependencies: { name: ["pipeline-func"] } };
      assert.deepEqual(await violationsOf(functionAppApplicationInsights, [app, settings, insights]), []);
    });

    it("reports a Function App without the setting", async () => {
      assert.deepEqual(await violationsOf(functionAppApplicationInsights, [functionApp({}, { appSettings: [{ name: "OTHER", value: "x" }] }), insights]), [
        'The azure-native.web.WebApp "pipeline-func" has no APPLICATIONINSIGHTS_CONNECTION_STRING app setting; set it to the Application Insights component\'s connection string.',
      ]);
    });

    it("reports a stack with Function Apps but no component", async () => {
      assert.deepEqual(await violationsOf(functionAppApplicationInsights, [functionApp()]), [
        "The stack has Function Apps but no Application Insights component; add a workspace-based azure-native.applicationinsights.Component.",
      ]);
    });

    it("accepts a connection string unknown at preview", async () => {
      assert.deepEqual(await diagnosticsOf(functionAppApplicationInsights, [functionApp({}, { appSettings: [{ ...connectionSetting, value: UNKNOWN }] }), insights]), []);
    });
  });

  describe("at preview", () => {
    it("no Azure resource rule fails or reports when every property is unknown", async () => {
      const keys = ["kind", "enableHttpsTrafficOnly", "minimumTlsVersion", "allowBlobPublicAccess", "allowSharedKeyAccess", "httpsOnly", "siteConfig", "identity", "workspaceResourceId"];
      const props = Object.fromEntries(keys.map((k) => [k, UNKNOWN]));
      for (const policy of azureResourcePolicies) {
        for (const type of [...AZURE.storageAccount, ...AZURE.webApp, ...AZURE.appInsights]) assert.deepEqual(await diagnosticsOf(policy, { type, name: "r", props }), [], `${policy.name} on ${type}`);
      }
    });
  });

  describe("azure-function-app-alerts", () => {
    const GROUP = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/actionGroups/alerts";
    const logAlert = (props: Record<string, unknown>, name = "pipeline-failure-rate"): TestResource => ({
      type: AZURE.logAlert[0],
      name,
      props: { kind: "LogAlert", enabled: true, scopes: ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/components/ai"], actions: { actionGroups: [GROUP] }, ...props },
    });
    const metricAlert = (props: Record<string, unknown>): TestResource => ({ type: AZURE.metricAlert[0], name: "pipeline-metric-alert", props: { enabled: true, actions: [{ actionGroupId: GROUP }], ...props } });

    it("passes a stack whose Function App has a log alert or a metric alert notifying an action group", async () => {
      assert.deepEqual(await violationsOf(functionAppAlerts, [functionApp(), logAlert({})]), []);
      assert.deepEqual(await violationsOf(functionAppAlerts, [functionApp(), metricAlert({})]), []);
    });

    it("reports a Function App in a stack without any alert", async () => {
      assert.deepEqual(await violationsOf(functionAppAlerts, [functionApp()]), [
        'The azure-native.web.WebApp "pipeline-func" has no Azure Monitor alert; add an azure-native.monitor.ScheduledQueryRule (or MetricAlert) with actions.actionGroups naming an azure-native.monitor.ActionGroup.',
      ]);
    });

    it("reports alerts that notify no action group, or are disabled", async () => {
      const expected = (names: string) => [
        `The azure-native.web.WebApp "pipeline-func" has alerts (${names}) that notify no action group or are disabled; add an azure-native.monitor.ScheduledQueryRule (or MetricAlert) with actions.actionGroups naming an azure-native.monitor.ActionGroup.`,
      ];
      assert.deepEqual(await violationsOf(functionAppAlerts, [functionApp(), logAlert({ actions: { actionGroups: [] } })]), expected("pipeline-failure-rate"));
      assert.deepEqual(await violationsOf(functionAppAlerts, [functionApp(), logAlert({ enabled: false })]), expected("pipeline-failure-rate"));
      assert.deepEqual(await violationsOf(functionAppAlerts, [functionApp(), metricAlert({ actions: [] })]), expected("pipeline-metric-alert"));
    });

    it("waits for an action group id unknown at preview", async () => {
      assert.deepEqual(await violationsOf(functionAppAlerts, [functionApp(), logAlert({ actions: { actionGroups: [UNKNOWN] } })]), []);
    });

    it("has nothing to say about a stack without Function Apps", async () => {
      assert.deepEqual(await violationsOf(functionAppAlerts, [functionApp({ kind: "app,linux" })]), []);
    });
  });
  describe("azure-event-delivery-alerts", () => {
    const GROUP = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/actionGroups/alerts";
    const ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/data";
    const deleted: TestResource = {
      type: AZURE.eventSubscription[0],
      name: "uploads-deleted",
      props: {
        deliveryWithResourceIdentity: { identity: { type: "SystemAssigned" }, destination: { endpointType: "StorageQueue", resourceId: ACCOUNT, queueName: "delete-events" } },
        deadLetterWithResourceIdentity: { identity: { type: "SystemAssigned" }, deadLetterDestination: { endpointType: "StorageBlob", resourceId: ACCOUNT, blobContainerName: "dead-letters" } },
      },
    };
    const logAlert = (name: string, query: unknown, props: Record<string, unknown> = {}): TestResource => ({
      type: AZURE.logAlert[0],
      name,
      props: { kind: "LogAlert", enabled: true, criteria: { allOf: [{ query, operator: "GreaterThan", threshold: 0 }] }, actions: { actionGroups: [GROUP] }, ...props },
    });
    const poison = logAlert("erase-poison-queue", 'traces | where message has "MaxDequeueCount" and message has "delete-events-poison" | summarize moved = sum(itemCount)');
    const deadLetters = logAlert("erase-dead-letters", 'StorageBlobLogs | where Uri has "/dead-letters/" and Uri contains "/dead-letters/UPLOADS-DELETED-1A2B/" | summarize written = count()');
    const noPoisonAlert = [
      'The azure-native.eventgrid.SystemTopicEventSubscription "uploads-deleted" delivers to the queue "delete-events" and no enabled alert notifying an action group watches "delete-events-poison"; add an azure-native.monitor.ScheduledQueryRule whose query counts the messages moved there (the queue trigger\'s MaxDequeueCount trace).',
    ];
    const noDeadLetterAlert = [
      'The azure-native.eventgrid.SystemTopicEventSubscription "uploads-deleted" dead-letters into the container "dead-letters" and no enabled alert notifying an action group watches its blobs; add an azure-native.monitor.ScheduledQueryRule on StorageBlobLogs writes under "/dead-letters/".',
    ];

    it("passes a subscription whose queue's poison queue and dead-letter container each have an alert", async () => {
      assert.deepEqual(await violationsOf(eventDeliveryAlerts, [deleted, poison, deadLetters]), []);
    });

    it("reports a subscription whose poison queue no alert watches, ignoring alerts on another queue", async () => {
      const otherQueue = logAlert("poison-queue", 'traces | where message has "MaxDequeueCount" and message has "upload-events-poison" | summarize moved = sum(itemCount)');

      assert.deepEqual(await violationsOf(eventDeliveryAlerts, [deleted, otherQueue, deadLetters]), noPoisonAlert);
    });

    it("reports a subscription whose dead-letter container no alert watches", async () => {
      assert.deepEqual(await violationsOf(eventDeliveryAlerts, [deleted, poison]), noDeadLetterAlert);
    });

    it("does not count disabled alerts or alerts that notify no action group", async () => {
      const disabled = logAlert("erase-poison-queue", 'traces | where message has "delete-events-poison"', { enabled: false });
      const silent = logAlert("erase-dead-letters", 'StorageBlobLogs | where Uri has "/dead-letters/"', { actions: { actionGroups: [] } });

      assert.deepEqual(await violationsOf(eventDeliveryAlerts, [deleted, disabled, silent]), [...noPoisonAlert, ...noDeadLetterAlert]);
    });

    it("waits for queue names and queries unknown at preview", async () => {
      const unknownQueue: TestResource = { ...deleted, props: { ...deleted.props, deliveryWithResourceIdentity: UNKNOWN } };
      assert.deepEqual(await violationsOf(eventDeliveryAlerts, [unknownQueue, deadLetters]), []);
      assert.deepEqual(await violationsOf(eventDeliveryAlerts, [deleted, logAlert("unknown", UNKNOWN)]), []);
    });
  });
});
