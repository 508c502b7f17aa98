import assert from "node:assert/strict";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { ACTIVITY_NAMES, azureStepAppSettings, readAzureAppEnvironment, readAzureProcessingOptions } from "../../../functions/azure/contract";

describe("the Azure runtime contract", () => {
  it("names one activity per step, after the workflow's step names", () => {
    assert.deepEqual(ACTIVITY_NAMES, {
      validate: "Validate",
      resize: "Resize",
      applyFilters: "ApplyFilters",
      optimize: "Optimize",
      notifySuccess: "NotifySuccess",
      notifyError: "NotifyError",
    });
  });

  it("reads back exactly what the component writes", () => {
    const processing = { ...defaultProcessingOptions(), formats: ["avif" as const] };
    const written = azureStepAppSettings({
      storageAccountName: "acct",
      containers: { uploads: "in", work: "tmp", renditions: "out" },
      jobsTable: "jobs",
      eventGridTopicEndpoint: "https://topic.westeurope-1.eventgrid.azure.net/api/events",
      processing,
      retentionDays: 7,
    });

    assert.equal(written.STORAGE_ACCOUNT_NAME, "acct");
    assert.equal(written.JOB_RETENTION_DAYS, "7");
    assert.deepEqual(readAzureAppEnvironment(written), {
      connectionString: undefined,
      storageAccountName: "acct",
      containers: { uploads: "in", work: "tmp", renditions: "out" },
      jobsTable: "jobs",
      eventGridTopicEndpoint: "https://topic.westeurope-1.eventgrid.azure.net/api/events",
      retentionDays: 7,
    });
    assert.deepEqual(readAzureProcessingOptions(written).formats, ["avif"]);
  });

  it("refuses a missing account name, table or a malformed number with CONFIG_INVALID naming the setting", () => {
    assert.throws(() => readAzureAppEnvironment({ JOBS_TABLE: "jobs" }), { code: "CONFIG_INVALID", message: /STORAGE_ACCOUNT_NAME/ });
    assert.throws(() => readAzureAppEnvironment({ STORAGE_ACCOUNT_NAME: "acct" }), { code: "CONFIG_INVALID", message: /JOBS_TABLE/ });
    assert.throws(() => readAzureAppEnvironment({ STORAGE_ACCOUNT_NAME: "acct", JOBS_TABLE: "jobs", JOB_RETENTION_DAYS: "-3" }), { code: "CONFIG_INVALID", message: /JOB_RETENTION_DAYS/ });
  });

  it("reads the deployed processing options, and fails permanently on a broken setting", () => {
    assert.deepEqual(readAzureProcessingOptions({ PIPELINE_OPTIONS: JSON.stringify({ formats: ["avif"] }) }).formats, ["avif"]);
    assert.throws(() => readAzureProcessingOptions({ PIPELINE_OPTIONS: "{" }), { code: "CONFIG_INVALID", message: /App setting PIPELINE_OPTIONS is not valid JSON/ });
    assert.throws(() => readAzureProcessingOptions({ PIPELINE_OPTIONS: JSON.stringify({ formats: ["bmp"] }) }), { code: "CONFIG_INVALID", message: /formats/ });
  });
});
