import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { BlobServiceClient, type UserDelegationKey } from "@azure/storage-blob";
import { BlobSasSigner } from "../../../functions/azure/apiSigner";

/** The service's Get User Delegation Key, recorded: the key it returns spans exactly the times asked for. */
function delegationService() {
  const asked: Array<{ startsOn: Date; expiresOn: Date }> = [];
  const service = {
    async getUserDelegationKey(startsOn: Date, expiresOn: Date): Promise<UserDelegationKey> {
      asked.push({ startsOn, expiresOn });
      return { signedObjectId: "oid", signedTenantId: "tid", signedStartsOn: startsOn, signedExpiresOn: expiresOn, signedService: "b", signedVersion: "2025-01-05", value: randomBytes(32).toString("base64") };
    },
  };
  return { asked, service: service as unknown as BlobServiceClient };
}

const HOUR = 3600 * 1000;

describe("functions/azure/apiSigner: user-delegation SAS", () => {
  const blobs = new BlobServiceClient("https://acct.blob.core.windows.net");
  const containers = { uploads: "uploads", renditions: "renditions" };
  const sasTimes = (url: string) => {
    const query = new URL(url).searchParams;
    return { expires: new Date(query.get("se") as string), keyExpires: new Date(query.get("ske") as string), permissions: query.get("sp") };
  };

  it("signs a 12-hour download with a key that outlives it (a SAS fails once its key has expired)", async () => {
    const { asked, service } = delegationService();
    const signer = new BlobSasSigner(blobs, containers, { kind: "user-delegation", blobs: service, accountName: "acct" });
    const expiresAt = new Date(Date.now() + 12 * HOUR);

    const url = await signer.signDownload("photos/cat.jpg/medium.jpg", expiresAt);

    const { expires, keyExpires, permissions } = sasTimes(url);
    assert.equal(permissions, "r");
    assert.equal(expires.getTime(), Math.floor(expiresAt.getTime() / 1000) * 1000);
    assert.ok(keyExpires.getTime() >= expires.getTime(), `key ${keyExpires.toISOString()} ≥ SAS ${expires.toISOString()}`);
    assert.equal(asked.length, 1);
    assert.ok(asked[0].expiresOn.getTime() - asked[0].startsOn.getTime() <= 7 * 24 * HOUR, "a key spans at most 7 days");
  });

  it("reuses one key for short SAS, and asks for a longer one when a SAS would outlive it", async () => {
    const { asked, service } = delegationService();
    const signer = new BlobSasSigner(blobs, containers, { kind: "user-delegation", blobs: service, accountName: "acct" });

    await signer.signUpload({ key: "u/a.jpg", contentType: "image/jpeg", bytes: 10, expiresAt: new Date(Date.now() + 5 * 60 * 1000) });
    await signer.signDownload("a.jpg/thumb.jpg", new Date(Date.now() + 15 * 60 * 1000));
    assert.equal(asked.length, 1, "the first key (2 hours) covers both");

    const late = await signer.signDownload("a.jpg/large.jpg", new Date(Date.now() + 6 * HOUR));
    assert.equal(asked.length, 2);
    const { expires, keyExpires } = sasTimes(late);
    assert.ok(keyExpires.getTime() >= expires.getTime());
  });
});
