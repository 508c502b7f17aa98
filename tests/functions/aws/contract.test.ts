import assert from "node:assert/strict";
import { defaultProcessingOptions } from "../../../functions/core/options";
import { lambdaEnvironment, readLambdaEnvironment, readLambdaProcessingOptions, readStuckAfterSeconds } from "../../../functions/aws/contract";

describe("the AWS runtime contract", () => {
  it("reads back exactly what the component writes", () => {
    const env = lambdaEnvironment({
      uploadsBucket: "up",
      renditionsBucket: "out",
      jobsTable: "jobs",
      topicArn: "arn:aws:sns:eu-west-1:123456789012:events",
      processing: { ...defaultProcessingOptions(), formats: ["jpeg"] },
      retentionDays: 30,
    });

    assert.equal(env.WORK_PREFIX, "work/");
    assert.equal(env.JOB_RETENTION_DAYS, "30");
    assert.deepEqual(readLambdaEnvironment(env), {
      uploadsBucket: "up",
      renditionsBucket: "out",
      workPrefix: "work/",
      jobsTable: "jobs",
      topicArn: "arn:aws:sns:eu-west-1:123456789012:events",
      retentionDays: 30,
    });
    assert.deepEqual(readLambdaProcessingOptions(env).formats, ["jpeg"]);
  });

  it("names the missing or malformed variable in a CONFIG_INVALID error", () => {
    assert.throws(() => readLambdaEnvironment({ RENDITIONS_BUCKET: "out", JOBS_TABLE: "jobs" }), { code: "CONFIG_INVALID", message: /UPLOADS_BUCKET/ });
    assert.throws(() => readLambdaProcessingOptions({ PIPELINE_OPTIONS: "[" }), { code: "CONFIG_INVALID", message: /Environment variable PIPELINE_OPTIONS is not valid JSON/ });
    assert.throws(() => readStuckAfterSeconds({}), { code: "CONFIG_INVALID", message: /STUCK_AFTER_SECONDS/ });
    assert.throws(() => readStuckAfterSeconds({ STUCK_AFTER_SECONDS: "soon" }), { code: "CONFIG_INVALID", message: /STUCK_AFTER_SECONDS/ });
    assert.equal(readStuckAfterSeconds({ STUCK_AFTER_SECONDS: "1200" }), 1200);
  });
});
