import { app } from "@azure/functions";
import * as df from "durable-functions";
import { STEP_HANDLERS } from "../workflow";
import { activityHandlers } from "./activities";
import { apiHandler } from "./api";
import {
  ACTIVITY_NAMES,
  API_FUNCTIONS,
  APP_SETTINGS,
  CONTAINERS,
  DELETE_EVENTS_QUEUE,
  ERASE_FUNCTION_NAME,
  LIST_UPLOADS_ACTIVITY,
  ORCHESTRATOR_NAME,
  REPROCESS_ORCHESTRATOR_NAME,
  REPROCESS_ROUTE,
  REPROCESS_STARTER_NAME,
  REPROCESS_STATUS_NAME,
  STARTER_NAME,
  STORAGE_CONNECTION,
  SWEEP_FUNCTION_NAME,
  SWEEP_SCHEDULE,
  UPLOAD_EVENTS_QUEUE,
} from "./contract";
import { activityEnvironmentFromEnv } from "./activities";
import { createListUploadsActivity, reprocessOrchestrator } from "./reprocess";
import { createReprocessStart, createReprocessStatus } from "./reprocessHttp";
import { pipelineOrchestrator } from "./orchestrator";
import { createSweepHandler } from "./sweep";
import { createEraseHandler, createUploadStarter } from "./trigger";

/**
 * Entry point of the Function App bundle (package.json `main`): registers the
 * starter, the orchestrator, one activity per step, the stuck-job sweep's
 * timer, erasure on delete and the HTTP API with the v4 programming
 * model. Handlers live in their own modules so the local runtime can run them
 * without the Functions host.
 */

df.app.client.storageQueue(STARTER_NAME, {
  queueName: UPLOAD_EVENTS_QUEUE,
  connection: STORAGE_CONNECTION,
  handler: createUploadStarter(process.env[APP_SETTINGS.uploadsContainer] || CONTAINERS.uploads),
});

df.app.orchestration(ORCHESTRATOR_NAME, pipelineOrchestrator);

for (const handler of STEP_HANDLERS) {
  df.app.activity(ACTIVITY_NAMES[handler], { handler: activityHandlers[handler] });
}

// Reprocess: POST /api/reprocess { "prefix": "photos/" } starts a listing-driven fan-out (./reprocess.ts); GET /api/reprocess/{id} follows it (./reprocessHttp.ts).
df.app.orchestration(REPROCESS_ORCHESTRATOR_NAME, reprocessOrchestrator);
df.app.activity(LIST_UPLOADS_ACTIVITY, { handler: createListUploadsActivity(() => activityEnvironmentFromEnv().ports.objects) });
df.app.client.http(REPROCESS_STARTER_NAME, { route: REPROCESS_ROUTE, methods: ["POST"], authLevel: "function", handler: createReprocessStart() });
df.app.client.http(REPROCESS_STATUS_NAME, { route: `${REPROCESS_ROUTE}/{id}`, methods: ["GET"], authLevel: "function", handler: createReprocessStatus() });

df.app.client.timer(SWEEP_FUNCTION_NAME, { schedule: SWEEP_SCHEDULE, handler: createSweepHandler() });

app.storageQueue(ERASE_FUNCTION_NAME, {
  queueName: DELETE_EVENTS_QUEUE,
  connection: STORAGE_CONNECTION,
  handler: createEraseHandler(process.env[APP_SETTINGS.uploadsContainer] || CONTAINERS.uploads),
});

// Each top-level path of the API goes to the one app, which routes within it (routes must not overlap: see API_FUNCTIONS).
for (const [name, route] of Object.entries(API_FUNCTIONS)) app.http(name, { route, methods: ["GET", "POST", "DELETE"], authLevel: "anonymous", handler: apiHandler });
