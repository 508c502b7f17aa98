import { PutBucketCorsCommand, S3Client } from "@aws-sdk/client-s3";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import type { Hono } from "hono";
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
import { s3PostPolicyGate } from "./s3PostPolicy";

/**
 * Each local flavour's signer over its emulator, and the CORS rule that lets the page
 * (another origin than the emulator) upload straight to the emulator, as a deployed
 * bucket or storage account must let the site's origin upload. The AWS flavour's POSTs
 * go through a gate that checks their policy as S3 does (s3rver does not): it is mounted
 * at `/storage/s3` of the local server, and the signed URL names it.
 */

export interface LocalStorageAccess {
  signer: StorageSigner;
  /** Routes the local server mounts at `/storage` (the AWS flavour's POST policy gate). */
  routes?: Hono;
  /** Lets `origin` upload (POST/PUT) to the uploads store from a browser. */
  allowBrowserUploads(origin: string): Promise<void>;
  close(): void;
}

/** Where the local server mounts `routes`. */
export const LOCAL_STORAGE_PATH = "/storage";

export const LOCAL_STORAGE_ACCESS: Record<Cloud, (flavour: LocalFlavour, serverUrl: string) => LocalStorageAccess> = {
  aws: (flavour, serverUrl) => {
    const { s3: emulator } = flavour as AwsFlavour;
    const s3 = new S3Client({ region: "us-east-1", endpoint: emulator.endpoint, forcePathStyle: true, credentials: LOCAL_AWS_CREDENTIALS, maxAttempts: 1 });
    const signer = new S3Signer({ s3, uploadsBucket: LOCAL_AWS_NAMES.uploadsBucket, renditionsBucket: LOCAL_AWS_NAMES.renditionsBucket });
    return {
      signer: {
        // The same presigned POST, sent to the policy gate in front of s3rver.
        signUpload: async (request) => {
          const grant = await signer.signUpload(request);
          return { ...grant, url: `${serverUrl}${LOCAL_STORAGE_PATH}/s3/${LOCAL_AWS_NAMES.uploadsBucket}` };
        },
        signDownload: (key, expiresAt) => signer.signDownload(key, expiresAt),
      },
      routes: s3PostPolicyGate(emulator.endpoint, LOCAL_AWS_CREDENTIALS),
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
