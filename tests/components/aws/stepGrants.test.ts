import * as assert from "node:assert/strict";
import sharp from "sharp";
import { stepFunctionPolicy, type PolicyDocument } from "../../../components/aws/iam";
import { processingOptionsSchema, type ProcessingOptions } from "../../../functions/core/options";
import type { Area, ObjectStore, Ports } from "../../../functions/ports";
import { runStep, type OptimizeResult, type StepOutputs, type ValidatedJob } from "../../../functions/steps";
import type { StepHandler } from "../../../functions/workflow";
import { memoryPorts } from "../../../local/memoryPorts";
import { SAMPLE_REFS } from "./policyAssertions";

/**
 * The step roles against what the steps really do: each step runs on memory ports that record
 * every object call, each call becomes the S3 action(s) and object ARN the AWS adapter would
 * need, and the step's own policy document must allow it (and no Deny may match). A role that
 * lacks a grant fails here instead of with AccessDenied on the first deployed upload.
 */

const REFS = SAMPLE_REFS;
// Written out, not read from the adapter: uploads in their bucket, renditions in theirs, work objects under work/ of the renditions bucket.
const OBJECT_ARN: Record<Area, (key: string) => string> = {
  uploads: (key) => `arn:aws:s3:::p-uploads/${key}`,
  renditions: (key) => `arn:aws:s3:::p-renditions/${key}`,
  work: (key) => `arn:aws:s3:::p-renditions/work/${key}`,
};
const BUCKET_ARN: Record<Area, string> = { uploads: "arn:aws:s3:::p-uploads", renditions: "arn:aws:s3:::p-renditions", work: "arn:aws:s3:::p-renditions" };

interface Needed {
  action: string;
  resource: string;
  call: string;
}

/** The S3 permissions an object call needs (GetObject covers HEAD; a pinned version also needs GetObjectVersion). */
function recording(objects: ObjectStore, needed: Needed[]): ObjectStore {
  const need = (call: string, resource: string, ...actions: string[]) => {
    for (const action of actions) needed.push({ action, resource, call });
  };
  return {
    get: (area, key, version, range) => {
      need(`get ${area}/${key}`, OBJECT_ARN[area](key), "s3:GetObject", ...(version?.versionId ? ["s3:GetObjectVersion"] : []));
      return objects.get(area, key, version, range);
    },
    head: (area, key, version) => {
      need(`head ${area}/${key}`, OBJECT_ARN[area](key), "s3:GetObject", ...(version?.versionId ? ["s3:GetObjectVersion"] : []));
      return objects.head(area, key, version);
    },
    put: (area, key, body, contentType) => {
      need(`put ${area}/${key}`, OBJECT_ARN[area](key), "s3:PutObject");
      return objects.put(area, key, body, contentType);
    },
    list: (area, prefix, page) => {
      need(`list ${area}/${prefix}`, BUCKET_ARN[area], "s3:ListBucket");
      return objects.list(area, prefix, page);
    },
    delete: (area, key, options) => {
      need(`delete ${area}/${key}`, OBJECT_ARN[area](key), "s3:DeleteObject", ...(options?.allVersions ? ["s3:DeleteObjectVersion", "s3:ListBucketVersions"] : []));
      return objects.delete(area, key, options);
    },
  };
}

const matches = (pattern: string, value: string) => new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(value);
const says = (document: PolicyDocument, effect: "Allow" | "Deny", { action, resource }: Needed) =>
  document.Statement.some((s) => s.Effect === effect && s.Action.includes(action) && s.Resource.some((pattern) => matches(pattern, resource)));

function assertAllowed(handler: StepHandler, needed: Needed[]): void {
  const document = stepFunctionPolicy(handler, REFS);
  for (const need of needed) {
    assert.ok(says(document, "Allow", need) && !says(document, "Deny", need), `${handler}'s role does not allow ${need.action} on ${need.resource} (${need.call})`);
  }
}

describe("AWS step roles against the steps' own object calls", () => {
  const cases: { what: string; options: ProcessingOptions; upload: () => Promise<Buffer>; quiet: StepHandler[] }[] = [
    { what: "the default config", options: processingOptionsSchema.parse({}), quiet: ["applyFilters"], upload: () => sharp({ create: { width: 1200, height: 800, channels: 3, background: "teal" } }).jpeg().toBuffer() },
    {
      what: "effects and a narrow upload (skipped files, cleared keys)",
      options: processingOptionsSchema.parse({ filters: ["grayscale", "placeholder"] }),
      quiet: [],
      upload: () => sharp({ create: { width: 300, height: 200, channels: 3, background: "olive" } }).png().toBuffer(),
    },
  ];

  for (const { what, options, upload, quiet } of cases) {
    it(`allow every call of validate, resize, applyFilters, optimize and notifySuccess with ${what}`, async () => {
      const ports = memoryPorts();
      await ports.objects.put("uploads", "photos/cat.jpg", await upload(), "image/jpeg");
      const { etag, versionId } = await ports.objects.head("uploads", "photos/cat.jpg");
      const calls: Partial<Record<StepHandler, number>> = {};
      const step = async <T>(handler: StepHandler, input: unknown): Promise<T> => {
        const needed: Needed[] = [];
        const recorded: Ports = { ...ports, objects: recording(ports.objects, needed) };
        const output = (await runStep(handler, input, recorded, options)) as T;
        assertAllowed(handler, needed);
        calls[handler] = needed.length;
        return output;
      };

      const validated = await step<ValidatedJob>("validate", { sourceKey: "photos/cat.jpg", sourceEtag: etag, sourceVersion: versionId });
      const processed = [await step<StepOutputs>("resize", validated), await step<StepOutputs>("applyFilters", validated)];
      const optimized = await step<OptimizeResult>("optimize", { ...validated, processed });
      await step("notifySuccess", { ...validated, processed, optimized });

      assert.ok(optimized.outputs > 0);
      // Every step but the ones this config leaves idle touched storage, so each role was really put to the test.
      for (const [handler, count] of Object.entries(calls)) assert.equal(count > 0, !quiet.includes(handler as StepHandler), `${handler}: ${count} object calls`);
    });
  }

  it("catch a role that lacks a grant the step uses", () => {
    // Resize writing a final file under a role that may only write work objects: the check must refuse it.
    const narrow: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "WriteIntermediates", Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::p-renditions/work/*"] }] };
    const need: Needed = { action: "s3:PutObject", resource: OBJECT_ARN.renditions("photos/cat.jpg/thumb.webp"), call: "put" };

    assert.equal(says(narrow, "Allow", need), false);
    assert.equal(says(narrow, "Allow", { ...need, resource: OBJECT_ARN.work("job/x.png") }), true);
  });
});
