import assert from "node:assert/strict";
import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { policyViolation } from "../../../local/serve/s3PostPolicy";

describe("local/serve/s3PostPolicy: S3's POST policy checks in front of s3rver", () => {
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  const s3 = new S3Client({ region: "us-east-1", endpoint: "http://127.0.0.1:1", forcePathStyle: true, credentials });

  after(() => s3.destroy());

  /** The fields the SDK signs, lower-cased as the gate reads them. */
  async function signedFields(overrides: Record<string, string> = {}) {
    const { fields } = await createPresignedPost(s3, { Bucket: "b", Key: "u/o/id/a.jpg", Conditions: [["content-length-range", 1, 10], ["starts-with", "$x-amz-meta-tag", "ok"]], Fields: { "x-amz-meta-tag": "ok-1" }, Expires: 60 });
    return new Map(Object.entries({ ...fields, ...overrides }).map(([name, value]) => [name.toLowerCase(), value]));
  }

  it("passes a form the SDK signed, within its size range", async () => {
    assert.equal(policyViolation(await signedFields(), 10, credentials, new Date()), undefined);
  });

  it("refuses a tampered signature, another access key, a file out of range and a broken starts-with", async () => {
    const fields = await signedFields();
    const tampered = new Map(fields).set("x-amz-signature", "0".repeat(64));

    assert.equal(policyViolation(tampered, 5, credentials, new Date())?.code, "SignatureDoesNotMatch");
    assert.equal(policyViolation(fields, 5, { ...credentials, accessKeyId: "OTHER" }, new Date())?.code, "InvalidAccessKeyId");
    assert.equal(policyViolation(fields, 11, credentials, new Date())?.code, "EntityTooLarge");
    assert.equal(policyViolation(fields, 0, credentials, new Date())?.code, "EntityTooSmall");
    assert.match(policyViolation(await signedFields({ "x-amz-meta-tag": "bad" }), 5, credentials, new Date())?.message ?? "", /\["starts-with", "\$x-amz-meta-tag", "ok"\]/);
    assert.equal(policyViolation(fields, 5, credentials, new Date(Date.now() + 120_000))?.message, "Invalid according to Policy: Policy expired.");
  });
});
