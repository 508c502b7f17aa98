import * as assert from "node:assert/strict";
import { loadConfig, parseAzureUploader } from "../../../components/config";
import { isPipelineError } from "../../../functions/core/errors";

/** Asserts loadConfig rejects `raw` with CONFIG_INVALID and a message matching every pattern. */
function assertRejected(raw: Record<string, unknown>, ...patterns: RegExp[]): void {
  assert.throws(
    () => loadConfig(raw),
    (error: unknown) => {
      assert.ok(isPipelineError(error), "a PipelineError");
      assert.equal(error.code, "CONFIG_INVALID");
      for (const pattern of patterns) assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("stack config on Azure: what a plan cannot honour", () => {
  it("rejects a step timeout above the plan's ceiling, naming the key and the limit", () => {
    assertRejected({ cloud: "azure", steps: { optimize: { timeoutSeconds: 7200 } } }, /image-pipeline:steps\.optimize\.timeoutSeconds/, /3600 s/, /7200/);
  });

  it("rejects a step that needs more memory than a Flex instance has, and says how to get more", () => {
    assertRejected({ cloud: "azure", steps: { resize: { memoryMb: 3072 } } }, /image-pipeline:steps\.resize\.memoryMb/, /2048 MB/, /flexInstanceMemoryMb to 4096/);
  });

  it("accepts the same step on 4 GB Flex instances", () => {
    const config = loadConfig({ cloud: "azure", azure: { flexInstanceMemoryMb: 4096 }, steps: { resize: { memoryMb: 3072 } } });

    assert.equal(config.azure.flexInstanceMemoryMb, 4096);
  });

  it("rejects stack-wide memory above an EP1 instance once, on the memoryMb key", () => {
    assert.throws(
      () => loadConfig({ cloud: "azure", azure: { plan: "premium" }, memoryMb: 4096 }),
      (error: unknown) => {
        assert.ok(isPipelineError(error));
        assert.equal(error.message.match(/image-pipeline:memoryMb/g)?.length, 1);
        assert.match(error.message, /premium plan has 3584 MB/);
        return true;
      },
    );
  });

  it("accepts 4 GB steps on the dedicated plan, and leaves AWS memory to the Lambda rules", () => {
    assert.equal(loadConfig({ cloud: "azure", azure: { plan: "dedicated" }, memoryMb: 4096 }).memoryMb, 4096);
    assert.equal(loadConfig({ cloud: "aws", memoryMb: 4096 }).memoryMb, 4096);
  });

  it("rejects a Flex instance size the plan does not offer", () => {
    assertRejected({ cloud: "azure", azure: { flexInstanceMemoryMb: 1024 } }, /image-pipeline:azure\.flexInstanceMemoryMb/);
  });

  it("keeps 2 GB Flex instances as the default", () => {
    assert.equal(loadConfig({ cloud: "azure" }).azure.flexInstanceMemoryMb, 2048);
  });

  it("accepts 512 MB Flex instances only with steps and an image size limit that fit them", () => {
    const config = loadConfig({ cloud: "azure", azure: { flexInstanceMemoryMb: 512 }, memoryMb: 512, limits: { maxPixels: 24_000_000 } });
    assert.equal(config.azure.flexInstanceMemoryMb, 512);

    // The default image limit (100 MP) does not fit: a HEIC is decoded whole.
    assertRejected({ cloud: "azure", azure: { flexInstanceMemoryMb: 512 }, memoryMb: 512 }, /image-pipeline:azure\.flexInstanceMemoryMb/, /at most 24000000 pixels/, /maxPixels is 100000000/);
    // The default step memory (1024 MB) does not fit either, and the way out names the next size.
    assertRejected({ cloud: "azure", azure: { flexInstanceMemoryMb: 512 }, limits: { maxPixels: 24_000_000 } }, /image-pipeline:memoryMb/, /has 512 MB/, /flexInstanceMemoryMb to 2048/);
  });
});

describe("stack config on Azure: uploaders", () => {
  it("accepts object ids of users, and of groups and service principals by their type", () => {
    const config = loadConfig({ cloud: "azure", uploaders: ["0a1b2c3d-0000-4000-8000-000000000001", "Group:0A1B2C3D-0000-4000-8000-000000000002"] });

    assert.deepEqual(config.uploaders.map(parseAzureUploader), [
      { objectId: "0a1b2c3d-0000-4000-8000-000000000001", principalType: "User" },
      { objectId: "0a1b2c3d-0000-4000-8000-000000000002", principalType: "Group" },
    ]);
  });

  it("rejects an email or an unknown type, saying where to find the object id", () => {
    assertRejected({ cloud: "azure", uploaders: ["alice@example.com"] }, /image-pipeline:uploaders\[0\]/, /az ad user show --id <email> --query id/, /alice@example\.com/);
    assertRejected({ cloud: "azure", uploaders: ["Device:0a1b2c3d-0000-4000-8000-000000000001"] }, /image-pipeline:uploaders\[0\]/);
  });

  it("rejects the same principal listed twice", () => {
    assertRejected({ cloud: "azure", uploaders: ["0a1b2c3d-0000-4000-8000-000000000001", "0A1B2C3D-0000-4000-8000-000000000001"] }, /image-pipeline:uploaders: lists the same principal twice/);
  });
});
