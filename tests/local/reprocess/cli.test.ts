import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { runReprocessCli } from "../../../local/reprocess/cli";

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk) => (out += chunk));
  stderr.on("data", (chunk) => (err += chunk));
  return { stdout, stderr, out: () => out, err: () => err };
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
