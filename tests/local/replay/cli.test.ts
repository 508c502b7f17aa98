import assert from "node:assert/strict";
import { BlobServiceClient, StorageSharedKeyCredential as BlobKey } from "@azure/storage-blob";
import { QueueServiceClient, StorageSharedKeyCredential as QueueKey } from "@azure/storage-queue";
import { AzureCliCredential } from "@azure/identity";
import { azureReplayTarget, runReplayCli, type AzureReplayClients } from "../../../local/replay/cli";
import { startAzurite, type AzuriteEmulator } from "../../../local/emulators";
import { Capture } from "../../helpers/capture";

function io(stackOutputs?: (stack: string) => Promise<Record<string, unknown>>) {
  const [stdout, stderr] = [new Capture(), new Capture()];
  return { stdout, stderr, stackOutputs, out: () => stdout.text, err: () => stderr.text };
}

const ACCOUNT_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ip-dev-rg/providers/Microsoft.Storage/storageAccounts/ipdev1a2bdata";
/** What `pulumi stack output --json` prints for a deployed Azure stack (the parts replay reads). */
const AZURE_OUTPUTS = {
  cloud: "azure",
  deadLetters: "https://ipdev1a2bdata.blob.core.windows.net/dead-letters",
  uploadersGrant: `${ACCOUNT_ID}/blobServices/default/containers/uploads`,
};

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

  it("starts AWS runs on the state machine index.ts exports as workflowId", async () => {
    const streams = io(async () => ({ cloud: "aws", deadLetters: "https://sqs.eu-west-1.amazonaws.com/123456789012/dl" }));
    assert.equal(await runReplayCli(["--stack", "dev"], streams), 2);
    assert.match(streams.err(), /^\[STACK_OUTPUTS_UNREADABLE\] The stack dev has no output "workflowId"/);
  });

  it("refuses a --cloud that is not the stack's", async () => {
    const streams = io(async () => AZURE_OUTPUTS);
    assert.equal(await runReplayCli(["--stack", "dev-azure", "--cloud", "aws"], streams), 2);
    assert.match(streams.err(), /^\[USAGE_INVALID\] --cloud aws was given, but the stack dev-azure is deployed to azure/);
  });

  it("finds an Azure stack's queue service beside its dead-letter container, and the account to grant roles on", () => {
    assert.deepEqual(azureReplayTarget(AZURE_OUTPUTS, "dev-azure"), {
      blobService: "https://ipdev1a2bdata.blob.core.windows.net",
      queueService: "https://ipdev1a2bdata.queue.core.windows.net",
      deadLettersContainer: "dead-letters",
      accountId: ACCOUNT_ID,
    });
    assert.throws(() => azureReplayTarget({ deadLetters: "https://sqs.eu-west-1.amazonaws.com/1/dl" }, "x"), /not a blob container URL/);
  });

  it("asks for an Azure sign-in when there is none (no Azure CLI on this machine)", async function () {
    this.timeout(20_000);
    const streams = io(async () => AZURE_OUTPUTS);
    // The real SDK clients with a credential that cannot sign in; it fails before any request leaves.
    const credential = new AzureCliCredential();
    const azureClients = () => ({
      deadLetters: new BlobServiceClient("https://127.0.0.1:1/devstoreaccount1", credential).getContainerClient("dead-letters"),
      queues: { "upload-events": new QueueServiceClient("https://127.0.0.1:1/devstoreaccount1", credential).getQueueClient("upload-events"), "delete-events": new QueueServiceClient("https://127.0.0.1:1/devstoreaccount1", credential).getQueueClient("delete-events") },
    });

    assert.equal(await runReplayCli(["--stack", "dev-azure"], { ...streams, azureClients }), 2, streams.err());

    assert.match(streams.err(), /^\[AZURE_SIGN_IN_REQUIRED\] Listing, reading or deleting the dead-letter blobs in \S+ needs an Azure sign-in, and there is none: run `az login`/);
  });

  describe("a deployed Azure stack (its storage played by azurite)", function () {
    this.timeout(60_000);
    let azurite: AzuriteEmulator;
    const clients = (key?: { blob?: string; queue?: string }): (() => AzureReplayClients) => () => {
      // Azurite's account stands in for the stack's; a wrong key plays a missing role (both answer 403).
      const blobs = key?.blob ? new BlobServiceClient(azurite.blobEndpoint, new BlobKey(azurite.accountName, key.blob)) : BlobServiceClient.fromConnectionString(azurite.connectionString);
      const queues = key?.queue ? new QueueServiceClient(azurite.queueEndpoint, new QueueKey(azurite.accountName, key.queue)) : QueueServiceClient.fromConnectionString(azurite.connectionString);
      return { deadLetters: blobs.getContainerClient("dead-letters"), queues: { "upload-events": queues.getQueueClient("upload-events"), "delete-events": queues.getQueueClient("delete-events") } };
    };
    const WRONG_KEY = Buffer.from("not the account key").toString("base64");
    const container = () => BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("dead-letters");
    const queue = (name: string) => QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(name);
    const blobCreated = (key: string) => ({ specversion: "1.0", type: "Microsoft.Storage.BlobCreated", source: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a", id: `id-${key}`, subject: `/blobServices/default/containers/uploads/blobs/${key}`, data: { eTag: "0x8D1" } });
    const seed = async (name: string, events: object[]) => {
      const body = JSON.stringify(events.map((event) => ({ ...event, deadletterreason: "MaxDeliveryAttemptsExceeded", deliveryattempts: 30 })));
      await container().getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
    };
    const names = async () => {
      const found: string[] = [];
      for await (const blob of container().listBlobsFlat()) found.push(blob.name);
      return found;
    };

    before(async () => {
      azurite = await startAzurite({ inMemory: true });
      await container().create();
      for (const name of ["upload-events", "delete-events"]) await queue(name).create();
    });
    after(async () => azurite?.stop());

    it("reports an empty dead-letter container and exits 0", async () => {
      const streams = io(async () => AZURE_OUTPUTS);
      assert.equal(await runReplayCli(["--stack", "dev-azure"], { ...streams, azureClients: clients() }), 0, streams.err());
      assert.equal(streams.out(), "[DEAD_LETTERS_EMPTY] No dead letters in https://ipdev1a2bdata.blob.core.windows.net/dead-letters: nothing to replay.\n");
    });

    it("names the role and the scope a refused listing needs, and keeps everything", async () => {
      await seed("UPLOADS-CREATED/2026/11/29/19/a.json", [blobCreated("photos/a.jpg")]);
      const streams = io(async () => AZURE_OUTPUTS);

      assert.equal(await runReplayCli(["--stack", "dev-azure"], { ...streams, azureClients: clients({ blob: WRONG_KEY }) }), 2);

      assert.match(streams.err(), /^\[REPLAY_FORBIDDEN\] Listing, reading or deleting the dead-letter blobs in .* was refused \(403 /);
      assert.ok(streams.err().includes(`--role "Storage Blob Data Contributor" --scope ${ACCOUNT_ID}/blobServices/default/containers/dead-letters`), streams.err());
      assert.deepEqual(await names(), ["UPLOADS-CREATED/2026/11/29/19/a.json"]);
    });

    it("names the queue role when sending is refused, and keeps the blob", async () => {
      const streams = io(async () => AZURE_OUTPUTS);

      assert.equal(await runReplayCli(["--stack", "dev-azure"], { ...streams, azureClients: clients({ queue: WRONG_KEY }) }), 2);

      assert.ok(streams.err().startsWith("[REPLAY_FORBIDDEN] Sending to the queue "), streams.err());
      assert.ok(streams.err().includes(`--role "Storage Queue Data Message Sender" --scope ${ACCOUNT_ID}/queueServices/default/queues/upload-events`), streams.err());
      assert.deepEqual(await names(), ["UPLOADS-CREATED/2026/11/29/19/a.json"]);
    });

    it("says when a queue does not exist, and keeps the blob", async () => {
      const streams = io(async () => AZURE_OUTPUTS);
      const withoutQueue = () => ({ ...clients()(), queues: { ...clients()().queues, "upload-events": queue("no-such-queue") } });

      assert.equal(await runReplayCli(["--stack", "dev-azure"], { ...streams, azureClients: withoutQueue }), 2);

      assert.match(streams.err(), /^\[REPLAY_TARGET_NOT_FOUND\] Sending to the queue \S+\/upload-events failed: it does not exist \(QueueNotFound\)/);
      assert.deepEqual(await names(), ["UPLOADS-CREATED/2026/11/29/19/a.json"]);
    });

    it("re-drives every dead letter, one line each and a summary, and empties the container", async () => {
      await seed("UPLOADS-CREATED/2026/11/29/19/b.json", [blobCreated("photos/b.jpg"), blobCreated("photos/c.jpg")]);
      const streams = io(async () => AZURE_OUTPUTS);

      assert.equal(await runReplayCli(["--stack", "dev-azure"], { ...streams, azureClients: clients() }), 0);

      const lines = streams.out().trimEnd().split("\n");
      assert.equal(lines.length, 3);
      assert.match(lines[0], /^REPLAYED {3}UPLOADS-CREATED\/2026\/11\/29\/19\/a\.json photos\/a\.jpg → upload-events as job \S+ \(message [^)]+\) \[dead-lettered: MaxDeliveryAttemptsExceeded\]$/);
      assert.match(lines[1], /^REPLAYED {3}UPLOADS-CREATED\/2026\/11\/29\/19\/b\.json photos\/b\.jpg → upload-events .*, photos\/c\.jpg → upload-events /);
      assert.equal(lines[2], "2 dead letter(s) replayed, 0 kept; 3 event(s) re-driven");
      assert.deepEqual(await names(), []);
      const { receivedMessageItems } = await queue("upload-events").receiveMessages({ numberOfMessages: 32 });
      assert.deepEqual(receivedMessageItems.map((item) => JSON.parse(Buffer.from(item.messageText, "base64").toString("utf8")).subject).sort(), [
        "/blobServices/default/containers/uploads/blobs/photos/a.jpg",
        "/blobServices/default/containers/uploads/blobs/photos/b.jpg",
        "/blobServices/default/containers/uploads/blobs/photos/c.jpg",
      ]);
    });

    it("exits 1 when a dead letter is kept", async () => {
      await seed("UPLOADS-CREATED/2026/11/29/20/d.json", [{ ...blobCreated("photos/d.jpg"), type: "Microsoft.Storage.BlobTierChanged" }]);
      const streams = io(async () => AZURE_OUTPUTS);

      assert.equal(await runReplayCli(["--stack", "dev-azure"], { ...streams, azureClients: clients() }), 1);

      assert.match(streams.out(), /^UNREADABLE UPLOADS-CREATED\/2026\/11\/29\/20\/d\.json \[dead-lettered: MaxDeliveryAttemptsExceeded\] — names no upload of this pipeline; kept\n0 dead letter\(s\) replayed, 1 kept; 0 event\(s\) re-driven\n$/);
    });
  });
});
