import * as assert from "node:assert/strict";
import { ClientSecretCredential, DefaultAzureCredential } from "@azure/identity";
import { deployerCredential, packageBlobProvider, packageBlobUrl, uploadPackage, type PackageBlobInputs, type PackageBlobOutputs, type UploadRetry } from "../../../components/azure/packageBlob";

const inputs: PackageBlobInputs = {
  blobEndpoint: "https://acct.blob.core.windows.net/",
  containerName: "deployments",
  blobName: "released-package.zip",
  filePath: "/tmp/app.zip",
  sha256: "a".repeat(64),
};

const storageError = (statusCode: number) => Object.assign(new Error(`status ${statusCode}`), { statusCode });

/** A client that fails with the given statuses first, then succeeds; and a clock that only moves when slept. */
function scripted(...failures: number[]) {
  const uploads: Array<{ filePath: string; options: unknown }> = [];
  let clock = 0;
  const client = {
    async uploadFile(filePath: string, options: unknown) {
      uploads.push({ filePath, options });
      const status = failures.shift();
      if (status !== undefined) throw storageError(status);
    },
  };
  const retry: UploadRetry = { timeoutMs: 60_000, delayMs: 10_000, sleep: async (ms) => void (clock += ms), now: () => clock };
  return { client, retry, uploads };
}

describe("code package upload (Entra ID)", () => {
  it("uploads the zip as application/zip with its hash", async () => {
    const { client, retry, uploads } = scripted();

    await uploadPackage(inputs, client, retry);

    assert.deepEqual(uploads, [{ filePath: "/tmp/app.zip", options: { blobHTTPHeaders: { blobContentType: "application/zip" }, metadata: { sha256: inputs.sha256 } } }]);
  });

  it("waits for a fresh role assignment (403) and a fresh container (404) to apply", async () => {
    const { client, retry, uploads } = scripted(403, 403, 404);

    await uploadPackage(inputs, client, retry);

    assert.equal(uploads.length, 4);
  });

  it("gives up on a 403 that outlasts the wait, saying which role the deployer needs", async () => {
    const { client, retry } = scripted(...Array(10).fill(403));

    await assert.rejects(uploadPackage(inputs, client, retry), /Storage Blob Data Contributor on the "deployments" container/);
  });

  it("does not retry other errors", async () => {
    const { client, retry, uploads } = scripted(400);

    await assert.rejects(uploadPackage(inputs, client, retry), /status 400/);
    assert.equal(uploads.length, 1);
  });

  it("replaces the blob when its name or place changes, and uploads again when only the content does", async () => {
    const olds: PackageBlobOutputs = { ...inputs, url: packageBlobUrl(inputs) };
    const diff = packageBlobProvider.diff!.bind(packageBlobProvider);

    assert.deepEqual(await diff(olds.url, olds, { ...inputs, filePath: "/elsewhere/app.zip" }), { changes: false, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await diff(olds.url, olds, { ...inputs, sha256: "b".repeat(64) }), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await diff(olds.url, olds, { ...inputs, blobName: "hub-0123.zip" }), { changes: true, replaces: ["blobName"], deleteBeforeReplace: false });
  });

  it("names the blob by endpoint, container and name", () => {
    assert.equal(packageBlobUrl(inputs), "https://acct.blob.core.windows.net/deployments/released-package.zip");
  });

  it("signs in as the ARM_* service principal when azure-native does, else with DefaultAzureCredential", () => {
    assert.ok(deployerCredential({ ARM_CLIENT_ID: "c", ARM_CLIENT_SECRET: "s", ARM_TENANT_ID: "t" }) instanceof ClientSecretCredential);
    assert.ok(deployerCredential({}) instanceof DefaultAzureCredential);
  });
});
