import assert from "node:assert/strict";
import { createApiApp } from "../../../functions/api/app";
import { apiSettingsSchema } from "../../../functions/api/settings";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { ACTIVITY_NAMES, API_FUNCTIONS, azureStepAppSettings, readAzureAppEnvironment, readAzureProcessingOptions, REPROCESS_ROUTE } from "../../../functions/azure/contract";
import { memoryPorts } from "../../../local/memoryPorts";

/** Whether a Functions route template (literals, `{name}`, a final `{*rest}`) matches a path under the route prefix, as ASP.NET Core routing does (case-insensitive). */
function routeMatches(template: string, path: string): boolean {
  const want = template.split("/");
  const have = path.split("/");
  for (const [i, segment] of want.entries()) {
    if (segment.startsWith("{*")) return i === want.length - 1;
    if (i >= have.length || have[i] === "") return false;
    if (!segment.startsWith("{") && segment.toLowerCase() !== have[i].toLowerCase()) return false;
  }
  return have.length === want.length;
}

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

  it("routes every path of the API's OpenAPI document to exactly one API function, and none of the reprocess routes", async () => {
    const app = createApiApp({ ports: memoryPorts(), signer: { signUpload: async () => ({ method: "PUT", url: "", headers: {} }), signDownload: async () => "" }, options: defaultProcessingOptions(), settings: apiSettingsSchema.parse({}), streaming: false });
    const document = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
    // Each documented path with its parameters filled in, without the leading slash (the host's prefix is `api/`).
    const paths = [...Object.keys(document.paths), "/openapi.json"].map((path) => path.replace(/\{[^}]+\}/g, "0b8e6a52").slice(1));
    assert.ok(paths.includes("uploads") && paths.includes("jobs/0b8e6a52/events"), paths.join(" "));

    for (const path of paths) {
      const serving = Object.entries(API_FUNCTIONS).filter(([, route]) => routeMatches(route, path));
      assert.equal(serving.length, 1, `${path}: ${serving.map(([name]) => name).join(", ") || "no function"}`);
    }
    for (const path of [REPROCESS_ROUTE, `${REPROCESS_ROUTE}/abc123`]) {
      assert.deepEqual(Object.entries(API_FUNCTIONS).filter(([, route]) => routeMatches(route, path)), [], path);
    }
    // The matcher itself: a catch-all takes its prefix alone and anything under it; literals are whole segments.
    assert.ok(routeMatches("uploads/{*rest}", "uploads") && routeMatches("uploads/{*rest}", "Uploads/a/b"));
    assert.ok(!routeMatches("uploads/{*rest}", "uploadsx") && !routeMatches("openapi.json", "openapi.json/x") && routeMatches("{*path}", REPROCESS_ROUTE));
  });
});
