import assert from "node:assert/strict";
import { runReprocessCli } from "../../../local/reprocess/cli";
import { Capture } from "../../helpers/capture";

function io() {
  const [stdout, stderr] = [new Capture(), new Capture()];
  return { stdout, stderr, out: () => stdout.text, err: () => stderr.text };
}

describe("npm run reprocess: usage errors are one coded line, exit 2", () => {
  it("refuses --failed-only without --from", async () => {
    const streams = io();
    const code = await runReprocessCli(["photos", "--failed-only"], streams);
    assert.equal(code, 2);
    assert.match(streams.err(), /^\[USAGE_INVALID\] --failed-only needs --from/);
  });

  it("refuses a run without uploads to load", async () => {
    const streams = io();
    const code = await runReprocessCli([], streams);
    assert.equal(code, 2);
    assert.match(streams.err(), /^\[INPUT_NONE\] /);
  });

  it("refuses a date that is not one", async () => {
    const streams = io();
    const code = await runReprocessCli(["photos", "--since", "yesterday-ish"], streams);
    assert.equal(code, 2);
    assert.match(streams.err(), /^\[USAGE_INVALID\] .*--since must be a date/);
  });

  it("refuses --resume of a folder that holds no reprocess", async () => {
    const streams = io();
    const code = await runReprocessCli([__filename, "--resume", __dirname], streams);
    assert.equal(code, 2);
    assert.match(streams.err(), /^\[INPUT_NOT_FOUND\] .*reprocess\.json/);
  });
});
