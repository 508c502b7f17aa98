import { SWEEP_INTERVAL_MINUTES, type StepHandler } from "../../components/workflow";

/**
 * Names shared by the Function App code and the infrastructure that wires it:
 * function names, the upload-events queue, app setting keys. No SDK import, so
 * components/azure can import them without pulling the runtime in.
 */

/** The Durable orchestrator that walks components/workflow.ts. */
export const ORCHESTRATOR_NAME = "ImagePipeline";

/** The queue-triggered durable client that starts one orchestration per upload. */
export const STARTER_NAME = "StartImagePipeline";

/** Event Grid delivers the uploads container's BlobCreated events to this queue (CloudEvents 1.0 JSON). */
export const UPLOAD_EVENTS_QUEUE = "upload-events";

/**
 * App setting prefix of the identity-based storage connection the host, Durable
 * Functions and the queue trigger share (`AzureWebJobsStorage__queueServiceUri`...).
 */
export const STORAGE_CONNECTION = "AzureWebJobsStorage";

export const VALIDATE_ACTIVITY = "Validate";
export const RESIZE_ACTIVITY = "Resize";
export const APPLY_FILTERS_ACTIVITY = "ApplyFilters";
export const OPTIMIZE_ACTIVITY = "Optimize";
export const NOTIFY_SUCCESS_ACTIVITY = "NotifySuccess";
export const NOTIFY_ERROR_ACTIVITY = "NotifyError";

/** One activity function per step handler; the orchestrator calls them by these names. */
export const ACTIVITY_NAMES: Readonly<Record<StepHandler, string>> = {
  validate: VALIDATE_ACTIVITY,
  resize: RESIZE_ACTIVITY,
  applyFilters: APPLY_FILTERS_ACTIVITY,
  optimize: OPTIMIZE_ACTIVITY,
  notifySuccess: NOTIFY_SUCCESS_ACTIVITY,
  notifyError: NOTIFY_ERROR_ACTIVITY,
};

/** The timer-triggered stuck-job sweep (functions/steps/sweep.ts), and its NCRONTAB schedule. */
export const SWEEP_FUNCTION_NAME = "SweepStuckJobs";
export const SWEEP_SCHEDULE = `0 */${SWEEP_INTERVAL_MINUTES} * * * *`;

/** App settings the functions read (the adapters read their own: STORAGE_ACCOUNT_NAME, *_CONTAINER, JOBS_TABLE...). */
export const PIPELINE_OPTIONS_SETTING = "PIPELINE_OPTIONS";
