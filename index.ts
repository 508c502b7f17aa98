import * as pulumi from "@pulumi/pulumi";
import { configFromStackValues, type PipelineConfig } from "./components/config";
import { isPipelineError } from "./functions/core/errors";
import { PIPELINE_COMPONENTS } from "./components/clouds";
import type { ImagePipelineOutputs } from "./components/outputs";

// Reads and validates the stack config, then wires one component. No resource logic here.
function readConfig(): PipelineConfig {
  try {
    // The whole config map, so a misspelt key is reported too: https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/pulumi/functions/runtime.allConfig.html
    return configFromStackValues(pulumi.runtime.allConfig());
  } catch (error) {
    // RunError prints the message without a stack trace: the message says what to fix.
    if (isPipelineError(error)) throw new pulumi.RunError(`[${error.code}] ${error.message}`);
    throw error;
  }
}

const config = readConfig();
const name = `${pulumi.getProject()}-${pulumi.getStack()}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 40);

const pipeline: ImagePipelineOutputs = new PIPELINE_COMPONENTS[config.cloud](name, { config });

export const cloud = config.cloud;
export const uploadsStore = pipeline.uploadsStore;
export const renditionsStore = pipeline.renditionsStore;
export const workflowId = pipeline.workflowId;
export const jobsTable = pipeline.jobsTable;
export const notificationsTopic = pipeline.notificationsTopic;
export const uploadCommand = pipeline.uploadCommand;
export const deadLetters = pipeline.deadLetters;
export const uploadersGrant = pipeline.uploadersGrant;
export const apiUrl = pipeline.apiUrl;
export const renditionsUrl = pipeline.renditionsUrl;
export const reprocessStarter = pipeline.reprocessStarter;
