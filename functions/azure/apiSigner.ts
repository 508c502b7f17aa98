import { BlobSASPermissions, BlobServiceClient, generateBlobSASQueryParameters, SASProtocol, StorageSharedKeyCredential, type UserDelegationKey } from "@azure/storage-blob";
import type { StorageSigner, UploadGrant, UploadRequestToSign } from "../api/signer";
import type { AzureContainers } from "./contract";

/**
 * The API's signer on Azure: a SAS for one blob, create-only (`c`: a new blob, never an
 * overwrite), minutes long, for the upload; read-only (`r`) SAS for private renditions.
 * Deployed, the SAS is a user-delegation SAS from the app's managed identity (no account
 * key exists: shared keys are off). Azurite has no user-delegation keys, so the local
 * runtime signs with the emulator's well-known account key: the same permissions,
 * another signing key.
 */

export type SasKey = { kind: "user-delegation"; blobs: BlobServiceClient; accountName: string } | { kind: "account-key"; credential: StorageSharedKeyCredential };

/**
 * A SAS fails once its user-delegation key has expired, whatever its own expiry
 * (https://learn.microsoft.com/en-us/rest/api/storageservices/create-user-delegation-sas), so each key outlives every SAS
 * signed with it: at least 2 hours, or the SAS's expiry plus an hour (signed URLs may last 12 hours), within the 7 days a key
 * may span (https://learn.microsoft.com/en-us/javascript/api/@azure/storage-blob/blobgetuserdelegationkeyparameters). A key is
 * reused for an hour while it outlives the SAS being signed.
 */
const DELEGATION_KEY_MIN_MS = 2 * 3600 * 1000;
const DELEGATION_KEY_MARGIN_MS = 3600 * 1000;
const DELEGATION_KEY_REFRESH_MS = 3600 * 1000;
/** 7 days less the 5 minutes the key starts back (for clock skew), and a margin. */
const DELEGATION_KEY_MAX_MS = 7 * 24 * 3600 * 1000 - 10 * 60 * 1000;

export class BlobSasSigner implements StorageSigner {
  private delegation?: { key: UserDelegationKey; fetchedAt: number };

  constructor(
    private readonly blobs: BlobServiceClient,
    private readonly containers: Pick<AzureContainers, "uploads" | "renditions">,
    private readonly key: SasKey,
  ) {}

  async signUpload({ key, contentType, expiresAt }: UploadRequestToSign): Promise<UploadGrant> {
    // `c` creates a new blob and cannot overwrite one: https://learn.microsoft.com/en-us/rest/api/storageservices/create-user-delegation-sas
    const url = await this.sign(this.containers.uploads, key, "c", expiresAt);
    // Put Blob needs x-ms-blob-type; a SAS cannot limit the size, so Validate refuses an oversized blob (TOO_LARGE): https://learn.microsoft.com/en-us/rest/api/storageservices/put-blob
    return { method: "PUT", url, headers: { "x-ms-blob-type": "BlockBlob", "Content-Type": contentType } };
  }

  async signDownload(key: string, expiresAt: Date): Promise<string> {
    return this.sign(this.containers.renditions, key, "r", expiresAt);
  }

  private async sign(containerName: string, blobName: string, permissions: string, expiresOn: Date): Promise<string> {
    // A few minutes back for clock skew between this host and the storage service.
    const startsOn = new Date(Date.now() - 5 * 60 * 1000);
    const values = { containerName, blobName, permissions: BlobSASPermissions.parse(permissions), startsOn, expiresOn };
    const query =
      this.key.kind === "account-key"
        ? generateBlobSASQueryParameters({ ...values, protocol: SASProtocol.HttpsAndHttp }, this.key.credential)
        : generateBlobSASQueryParameters({ ...values, protocol: SASProtocol.Https }, await this.delegationKey(this.key.blobs, expiresOn), this.key.accountName);
    return `${this.blobs.getContainerClient(containerName).getBlobClient(blobName).url}?${query.toString()}`;
  }

  /** Get User Delegation Key, with the app's identity (an RBAC role granting generateUserDelegationKey): https://learn.microsoft.com/en-us/rest/api/storageservices/get-user-delegation-key */
  private async delegationKey(blobs: BlobServiceClient, sasExpiresOn: Date): Promise<UserDelegationKey> {
    const now = Date.now();
    const cached = this.delegation;
    if (cached && now - cached.fetchedAt < DELEGATION_KEY_REFRESH_MS && cached.key.signedExpiresOn.getTime() >= sasExpiresOn.getTime()) return cached.key;
    const lifetime = Math.min(DELEGATION_KEY_MAX_MS, Math.max(DELEGATION_KEY_MIN_MS, sasExpiresOn.getTime() + DELEGATION_KEY_MARGIN_MS - now));
    const key = await blobs.getUserDelegationKey(new Date(now - 5 * 60 * 1000), new Date(now + lifetime));
    this.delegation = { key, fetchedAt: now };
    return key;
  }
}
