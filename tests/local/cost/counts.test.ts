import assert from "node:assert/strict";
import { loadConfig, type Cloud } from "../../../components/config";
import type { Manifest } from "../../../functions/steps";
import { Meter, type Usage } from "../../../local/cost/meter";
import { MemoryNotifier } from "../../../local/memoryPorts";
import { processInput, startFlavour, type JobRow } from "../../../local/runtime";
import { samplePhoto } from "../../../local/sampleImages";

/** One generated 2400×1800 JPEG (wider than the largest rendition) through a metered flavour, default config. */
async function meteredImage(cloud: Cloud): Promise<{ usage: Usage; row: JobRow; manifest: Manifest; uploadBytes: number }> {
  const body = await samplePhoto({ width: 2400, height: 1800 });
  const meter = new Meter();
  const flavour = await startFlavour(cloud, { processing: loadConfig({ cloud }).processing, notifier: new MemoryNotifier(), meter });
  try {
    const row = await processInput(flavour, { key: "photos/cat.jpg", body });
    assert.equal(row.status, "succeeded", row.errorMessage);
    const manifest = JSON.parse((await flavour.ports.objects.get("renditions", row.manifestKey as string)).toString("utf8")) as Manifest;
    return { usage: meter.snapshot(), row, manifest, uploadBytes: body.length };
  } finally {
    await flavour.stop();
  }
}

const calls = (usage: Usage, jobId: string, key: string) => usage.perJob[jobId]?.[key]?.calls ?? 0;
const bytes = (usage: Usage, jobId: string, key: string) => usage.perJob[jobId]?.[key]?.bytes ?? 0;

/** Bytes moved between steps (#13): the steps' reads; their only writes are the outputs and the manifest (counted above). */
function assertMovedBetweenSteps(run: Awaited<ReturnType<typeof meteredImage>>, read: string, written: string): void {
  const { usage, row, manifest, uploadBytes } = run;
  assert.ok(uploadBytes > 65536, "the upload is larger than Validate's header read");
  // The upload once (Resize) plus Validate's first 64 KiB: 1.0x the upload, well under the 1.5x goal.
  assert.equal(bytes(usage, row.jobId, read), uploadBytes + 65536);
  const outputBytes = manifest.outputs.reduce((sum, output) => sum + output.bytes, 0);
  assert.ok(bytes(usage, row.jobId, written) > outputBytes, "the writes are the outputs and the manifest");
  assert.ok(bytes(usage, row.jobId, written) < outputBytes + 64 * 1024, "and nothing of image size besides");
}

describe("counted operations of one image, default config", function () {
  this.timeout(120_000);

  describe("AWS flavour", function () {
    let run: Awaited<ReturnType<typeof meteredImage>>;
    before(async () => (run = await meteredImage("aws")));

    it("counts one object PUT per output in the manifest, plus the manifest", function () {
      const { usage, row, manifest } = run;
      // Defaults: renditions thumb, medium, large × formats webp, jpeg = 6 encodes; filters: only the
      // placeholder, which travels inline in the manifest (no object). What #14.7 left out is listed in `skipped`.
      assert.equal(manifest.outputs.length + manifest.skipped.length, 6);
      // The design (#13): Resize writes the chosen outputs to their keys, ApplyFilters writes nothing (no effect),
      // Optimize writes the manifest last (1); no intermediates.
      assert.equal(calls(usage, row.jobId, "s3:PutObject"), manifest.outputs.length + 1);
      // Reads: Validate HEADs the upload and GETs its first 64 KiB, Resize GETs it; ApplyFilters reads nothing;
      // Resize and Optimize HEAD the upload's newest version before their writes (a newer upload supersedes the job;
      // ApplyFilters, writing nothing, does not); NotifySuccess HEADs it once more, after its last write, to tell
      // whether it was deleted meanwhile (erasure).
      assert.equal(calls(usage, row.jobId, "s3:HeadObject"), 4);
      assert.equal(calls(usage, row.jobId, "s3:GetObject"), 2);
      assert.equal(calls(usage, row.jobId, "sns:Publish"), 1);
      assert.deepEqual(usage.unattributed, {});
    });

    it("moves the upload once plus Validate's 64 KiB between steps", function () {
      assertMovedBetweenSteps(run, "s3:GetObject", "s3:PutObject");
    });

    it("counts the state transitions of one Standard execution", function () {
      const { usage, row } = run;
      // Validate, IsDuplicate? (Choice), Process (Parallel), Resize, ApplyFilters, Optimize, NotifySuccess.
      assert.equal(calls(usage, row.jobId, "stepfunctions:StateTransition"), 7);
      assert.equal(calls(usage, row.jobId, "stepfunctions:StateTransition:retry"), 0);
      assert.equal(calls(usage, row.jobId, "stepfunctions:Execution"), 1);
    });

    it("counts one Lambda invocation per task and the job record's writes in units", function () {
      const { usage, row } = run;
      for (const handler of ["validate", "resize", "applyFilters", "optimize", "notifySuccess"]) assert.equal(calls(usage, row.jobId, `lambda:invoke:${handler}`), 1, handler);
      assert.ok((usage.perJob[row.jobId]["lambda:invoke:resize"].durationMs ?? 0) > 0);
      // Validate creates the record, NotifySuccess finishes it and marks it announced: 3 writes of a
      // sub-KB item. The sparse open-jobs index holds keys only: the record enters it and leaves it (2);
      // the finish changes nothing the index holds, so it writes nothing there.
      assert.equal(usage.perJob[row.jobId]["dynamodb:WriteRequestUnits"].units, 3);
      assert.equal(usage.perJob[row.jobId]["dynamodb:WriteRequestUnits:open-jobs"].units, 2);
    });
  });

  describe("Azure flavour", function () {
    let run: Awaited<ReturnType<typeof meteredImage>>;
    before(async () => (run = await meteredImage("azure")));

    it("counts the same object writes as AWS: the outputs and the manifest", function () {
      const { usage, row, manifest } = run;
      // uploadData sends a blob of this size in one Put Blob request.
      assert.equal(calls(usage, row.jobId, "blob:PutBlob"), manifest.outputs.length + 1);
      // The upload's properties: the HEADs AWS makes (Validate; Resize and Optimize before their writes; NotifySuccess
      // after them), plus one the SDK's downloadToBuffer makes for Resize's whole read, to learn the blob's size.
      assert.equal(calls(usage, row.jobId, "blob:GetBlobProperties"), 5);
      assert.equal(calls(usage, row.jobId, "eventgrid:Publish"), 1);
      assert.deepEqual(usage.unattributed, {});
    });

    it("moves the upload once plus Validate's 64 KiB between steps, as on AWS", function () {
      assertMovedBetweenSteps(run, "blob:GetBlob", "blob:PutBlob");
    });

    it("counts the orchestration's history: five activities, each scheduled and completed once", function () {
      const { usage, row } = run;
      assert.equal(calls(usage, row.jobId, "durable:history:TaskScheduled"), 5);
      assert.equal(calls(usage, row.jobId, "durable:history:TaskCompleted"), 5);
      assert.equal(calls(usage, row.jobId, "durable:history:ExecutionStarted"), 1);
      // The starter, one orchestrator invocation per episode, one per activity.
      assert.equal(calls(usage, row.jobId, "functions:invoke:starter"), 1);
      assert.equal(calls(usage, row.jobId, "functions:invoke:orchestrator"), calls(usage, row.jobId, "durable:history:OrchestratorStarted"));
    });
  });
});
