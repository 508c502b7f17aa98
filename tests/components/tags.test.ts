import * as assert from "node:assert/strict";
import { pipelineTags } from "../../components/tags";

describe("pipelineTags", () => {
  it("keeps the user's own tags", () => {
    const tags = pipelineTags({ tags: { owner: "platform-team", "cost-center": "42" }, dataClassification: "internal" }, "image-pipeline", "dev");

    assert.deepEqual(tags, { owner: "platform-team", "cost-center": "42", project: "image-pipeline", stack: "dev", "data-classification": "internal" });
  });

  it("lets the required tags win over user tags of the same name", () => {
    const tags = pipelineTags(
      { tags: { project: "someone-else", stack: "prod", "data-classification": "public" }, dataClassification: "confidential" },
      "image-pipeline",
      "dev-azure",
    );

    assert.deepEqual(tags, { project: "image-pipeline", stack: "dev-azure", "data-classification": "confidential" });
  });
});
