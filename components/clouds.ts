import type * as pulumi from "@pulumi/pulumi";
import type { Cloud, PipelineConfig } from "./config";
import type { ImagePipelineOutputs } from "./outputs";
import { AwsImagePipeline } from "./aws/imagePipeline";
import { AzureImagePipeline } from "./azure/imagePipeline";

/**
 * Every cloud's pipeline component, by the `cloud` config value. A new cloud adds
 * components/<cloud>/ and one entry here; the compiler asks for it once the cloud
 * is in CLOUDS (config.ts).
 */
export type PipelineComponent = new (name: string, args: { config: PipelineConfig }, opts?: pulumi.ComponentResourceOptions) => ImagePipelineOutputs;

export const PIPELINE_COMPONENTS: Readonly<Record<Cloud, PipelineComponent>> = {
  aws: AwsImagePipeline,
  azure: AzureImagePipeline,
};
