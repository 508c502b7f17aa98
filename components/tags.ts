import * as pulumi from "@pulumi/pulumi";
import type { PipelineConfig } from "./config";

/**
 * The tags every taggable resource carries, on both clouds. The three the
 * policy pack requires (`project`, `stack`, `data-classification`) are set
 * last, so a user tag of the same name never replaces them.
 *
 * @example pipelineTags({ tags: { owner: "team" }, dataClassification: "internal" })
 */
export function pipelineTags(
  config: Pick<PipelineConfig, "tags" | "dataClassification">,
  project: string = pulumi.getProject(),
  stack: string = pulumi.getStack(),
): Record<string, string> {
  return { ...config.tags, project, stack, "data-classification": config.dataClassification };
}
