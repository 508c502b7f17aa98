import { PutBucketCorsCommand, S3Client } from "@aws-sdk/client-s3";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import type { Cloud } from "../../components/config";
import type { StorageSigner } from "../../functions/api/signer";
import { S3Signer } from "../../functions/aws/apiSigner";
import { LOCAL_AWS_CREDENTIALS } from "../../functions/aws/adapters";
import { BlobSasSigner } from "../../functions/azure/apiSigner";
import { CONTAINERS } from "../../functions/azure/contract";
import { LOCAL_AWS_NAMES, type AwsFlavour } from "../aws/flavour";
import type { AzureFlavour } from "../azure/flavour";
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from "../emulators";
import type { LocalFlavour } from "../flavour";

/**
 * Each local flavour's signer over its emulator, and the CORS rule that lets the page
 * (another origin than the emulator) upload straight to the emulator, as a deployed
 * bucket or storage account must let the site's origin upload.
 */

export interface LocalStorageAccess {
  signer: StorageSigner;
  /** Lets `origin` upload (POST/PUT) to the uploads store from a browser. */
  allowBrowserUploads(origin: string): Promise<void>;
  close(): void;
}

export const LOCAL_STORAGE_ACCESS: Record<Cloud, (flavour: LocalFlavour) => LocalStorageAccess> = {
  aws: (flavour) => {
    const { s3: emulator } = flavour as AwsFlavour;
    const s3 = new S3Client({ region: "us-east-1", endpoint: emulator.endpoint, forcePathStyle: true, credentials: LOCAL_AWS_CREDENTIALS, maxAttempts: 1 });
    return {
      signer: new S3Signer({ s3, uploadsBucket: LOCAL_AWS_NAMES.uploadsBucket, renditionsBucket: LOCAL_AWS_NAMES.renditionsBucket }),
      async allowBrowserUploads(origin) {
        await s3.send(
          new PutBucketCorsCommand({
            Bucket: LOCAL_AWS_NAMES.uploadsBucket,
            CORSConfiguration: { CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ["POST"], AllowedHeaders: ["*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 600 }] },
          }),
        );
      },
      close: () => s3.destroy(),
    };
  },
  azure: (flavour) => {
    const blobs = BlobServiceClient.fromConnectionString((flavour as AzureFlavour).azurite.connectionString);
    // Azurite has no user-delegation keys: the same one-blob, create-only SAS, signed with the emulator's account key.
    const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY);
    return {
      signer: new BlobSasSigner(blobs, CONTAINERS, { kind: "account-key", credential }),
      async allowBrowserUploads(origin) {
        await blobs.setProperties({ cors: [{ allowedOrigins: origin, allowedMethods: "PUT,OPTIONS", allowedHeaders: "*", exposedHeaders: "etag", maxAgeInSeconds: 600 }] });
      },
      close: () => undefined,
    };
  },
};
