import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { main } from "../../../local/cli";
import { Capture } from "../../helpers/capture";

describe("npm start -- serve (local/serve/cli.ts)", function () {
  this.timeout(60_000);
  let taken: Server;

  before(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  });

  after(() => new Promise((resolve) => taken.close(resolve)));

  it("refuses a taken port with one SERVE_PORT_IN_USE line and exit 3, before any emulator starts", async () => {
    const port = (taken.address() as AddressInfo).port;
    const stdout = new Capture();
    const stderr = new Capture();

    const code = await main(["serve", "--port", String(port)], { stdout, stderr });

    assert.equal(code, 3);
    assert.match(stderr.text, new RegExp(`^\\[SERVE_PORT_IN_USE\\] Port ${port} on 127\\.0\\.0\\.1 is taken; give another with --port`));
    assert.doesNotMatch(stderr.text, /^\s+at /m);
    assert.equal(stdout.text, "");
  });

  it("refuses a bad option value with one USAGE_INVALID line and exit 2", async () => {
    const stderr = new Capture();

    const code = await main(["serve", "--port", "70000"], { stdout: new Capture(), stderr });

    assert.equal(code, 2);
    assert.match(stderr.text, /^\[USAGE_INVALID\] option '--port <port>' argument '70000' is invalid\. --port must be a whole number from 0 to 65535\./);
  });

  it("prints its help with exit 0", async () => {
    const stdout = new Capture();

    const code = await main(["serve", "--help"], { stdout, stderr: new Capture() });

    assert.equal(code, 0);
    assert.match(stdout.text, /^Usage: npm start -- serve \[options\]/);
    assert.match(stdout.text, /--cloud <cloud>/);
  });
});
