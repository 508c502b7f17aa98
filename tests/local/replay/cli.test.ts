import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { runReplayCli } from "../../../local/replay/cli";

function io(stackOutputs?: (stack: string) => Promise<Record<string, unknown>>) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = "";
  stderr.on("data", (chunk) => (err += chunk));
  return { stdout, stderr, stackOutputs, err: () => err };
}

describe("npm run replay", () => {
  it("needs --stack", async () => {
    const streams = io();
    assert.equal(await runReplayCli([], streams), 2);
    assert.match(streams.err(), /^\[USAGE_INVALID\] .*--stack/);
  });

  it("says so when the Pulumi CLI is not installed (it is not, on this machine)", async function () {
    this.timeout(20_000);
    const streams = io();
    assert.equal(await runReplayCli(["--stack", "dev"], { ...streams, stackOutputs: undefined }), 2);
    assert.match(streams.err(), /^\[(PULUMI_NOT_FOUND|STACK_OUTPUTS_UNREADABLE)\] /);
  });

  it("names the output a stack lacks", async () => {
    const streams = io(async () => ({ uploadsStore: "uploads" }));
    assert.equal(await runReplayCli(["--stack", "dev"], streams), 2);
    assert.match(streams.err(), /^\[STACK_OUTPUTS_UNREADABLE\] The stack dev has no output "deadLetters"/);
  });

  it("refuses a deployed Azure stack with what to do instead", async () => {
    const streams = io(async () => ({}));
    assert.equal(await runReplayCli(["--stack", "dev-azure", "--cloud", "azure"], streams), 2);
    assert.match(streams.err(), /^\[REPLAY_UNSUPPORTED\] .*uploading it again/);
  });
});
