import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Server } from "node:net";
import { networkInterfaces } from "node:os";
import { LocalRuntimeError } from "../../local/errors";
import { provisionAws, startAzurite, startDynamo, startS3 } from "../../local/emulators";

/** Occupies a free port on 127.0.0.1 until closed. */
async function occupyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Whether the port can be listened on again. */
async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** An address of this machine other than loopback, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === "IPv4" && !entry.internal)?.address;
}

function portInUse(port: number) {
  return (error: unknown) => {
    assert.ok(error instanceof LocalRuntimeError, `expected a LocalRuntimeError, got ${String(error)}`);
    assert.equal(error.code, "EMULATOR_PORT_IN_USE");
    assert.match(error.message, new RegExp(`Port ${port}\\b`));
    assert.match(error.message, /leave the port unset/);
    return true;
  };
}

describe("local emulators", () => {
  describe("a requested port that is already in use", () => {
    let taken: { port: number; server: Server };

    before(async () => {
      taken = await occupyPort();
    });

    after(async () => {
      await closeServer(taken.server);
    });

    it("stops S3 from starting with EMULATOR_PORT_IN_USE", async () => {
      await assert.rejects(startS3({ port: taken.port }), portInUse(taken.port));
    });

    it("stops DynamoDB from starting with EMULATOR_PORT_IN_USE", async () => {
      await assert.rejects(startDynamo({ port: taken.port }), portInUse(taken.port));
    });

    it("stops azurite from starting with EMULATOR_PORT_IN_USE", async () => {
      await assert.rejects(startAzurite({ tablePort: taken.port }), portInUse(taken.port));
    });
  });

  describe("S3 and DynamoDB", () => {
    it("listen on 127.0.0.1 only", async function () {
      const [s3, dynamo] = await Promise.all([startS3(), startDynamo()]);
      try {
        assert.match(s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.match(dynamo.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(await accepts("127.0.0.1", s3.port), true);
        const external = externalAddress();
        if (external) {
          assert.equal(await accepts(external, s3.port), false, `S3 must not accept connections on ${external}`);
          assert.equal(await accepts(external, dynamo.port), false, `DynamoDB must not accept connections on ${external}`);
        }
      } finally {
        await Promise.all([s3.stop(), dynamo.stop()]);
      }
    });

    it("free their ports and remove the temp folder when stopped, even if stopped twice", async () => {
      const [s3, dynamo] = await Promise.all([startS3({ buckets: ["uploads"] }), startDynamo()]);
      assert.equal(existsSync(s3.dir), true);

      await Promise.all([s3.stop(), dynamo.stop(), s3.stop()]);

      assert.equal(existsSync(s3.dir), false);
      assert.equal(await isFree(s3.port), true);
      assert.equal(await isFree(dynamo.port), true);
    });

    it("provision the same buckets and table twice without failing", async () => {
      const [s3, dynamo] = await Promise.all([startS3(), startDynamo()]);
      const settings = { s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, uploadsBucket: "uploads", renditionsBucket: "renditions", tableName: "jobs" };
      try {
        await provisionAws(settings);

        await provisionAws(settings);
      } finally {
        await Promise.all([s3.stop(), dynamo.stop()]);
      }
    });
  });

  describe("azurite", () => {
    it("listens on 127.0.0.1 only, and stop() frees its ports, ends the process and removes the temp folder", async () => {
      const azurite = await startAzurite();
      const ports = [azurite.blobPort, azurite.tablePort, azurite.queuePort];
      assert.match(azurite.blobEndpoint, /^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
      assert.match(azurite.tableEndpoint, /^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
      assert.match(azurite.connectionString, /AccountName=devstoreaccount1;/);
      const external = externalAddress();
      if (external) for (const port of ports) assert.equal(await accepts(external, port), false, `azurite must not accept connections on ${external}:${port}`);

      await azurite.stop();

      assert.equal(existsSync(azurite.dir), false);
      for (const port of ports) assert.equal(await isFree(port), true, `port ${port} is free again`);
      assert.throws(() => process.kill(azurite.pid, 0), { code: "ESRCH" });
    });

    it("reports EMULATOR_FAILED with its output when it does not come up in time", async () => {
      await assert.rejects(startAzurite({ startTimeoutMs: 1 }), (error: unknown) => {
        assert.ok(error instanceof LocalRuntimeError);
        assert.equal(error.code, "EMULATOR_FAILED");
        assert.match(error.message, /Azurite did not start: no answer within 1 ms/);
        assert.match(error.message, /last output/);
        return true;
      });
    });
  });
});
