import * as pulumi from "@pulumi/pulumi";

/**
 * Uploads the Function App package to Blob Storage with Microsoft Entra ID.
 *
 * Why not `azure-native.storage.Blob`: it signs its requests with the account
 * key (pulumi/pulumi-azure-native#2015), and the pipeline's account refuses
 * shared keys (policy `azure-storage-no-shared-key-access`). This dynamic
 * provider authenticates like `az storage blob upload --auth-mode login`: the
 * deploying identity, which the component grants Storage Blob Data Contributor
 * on the deployments container only.
 *
 * The provider's functions are serialized into the stack state by Pulumi, so
 * they load SDKs with `require` inside their bodies and capture nothing else.
 */

export interface PackageBlobInputs {
  /** The account's blob endpoint, `https://<account>.blob.core.windows.net/`. */
  blobEndpoint: string;
  containerName: string;
  blobName: string;
  /** The zip on the deploying machine (not compared: another checkout has another path). */
  filePath: string;
  /** Hex SHA-256 of the zip: a new value uploads again. */
  sha256: string;
}

export interface PackageBlobOutputs extends PackageBlobInputs {
  url: string;
}

/** What the uploader needs of a BlockBlobClient (a fake in tests). */
export interface PackageUploadClient {
  uploadFile(filePath: string, options: { blobHTTPHeaders: { blobContentType: string }; metadata: Record<string, string> }): Promise<unknown>;
}

export interface UploadRetry {
  /** Give up after this long; new role assignments can take minutes to apply. Default 10 minutes. */
  timeoutMs: number;
  delayMs: number;
  sleep: (ms: number) => Promise<void>;
  /** Clock in ms; default Date.now. */
  now?: () => number;
}

export function packageBlobUrl(inputs: Pick<PackageBlobInputs, "blobEndpoint" | "containerName" | "blobName">): string {
  return `${inputs.blobEndpoint.replace(/\/+$/, "")}/${inputs.containerName}/${inputs.blobName}`;
}

/**
 * Uploads, retrying while the deployer's fresh role assignment (403) or the
 * fresh container (404) has not reached the data plane yet.
 *
 * @throws the last storage error once `retry.timeoutMs` has passed, or any other error at once.
 */
export async function uploadPackage(inputs: PackageBlobInputs, client: PackageUploadClient, retry: UploadRetry): Promise<void> {
  const now = retry.now ?? Date.now;
  const deadline = now() + retry.timeoutMs;
  for (;;) {
    try {
      await client.uploadFile(inputs.filePath, { blobHTTPHeaders: { blobContentType: "application/zip" }, metadata: { sha256: inputs.sha256 } });
      return;
    } catch (error) {
      const status = (error as { statusCode?: number } | undefined)?.statusCode;
      const settling = status === 403 || status === 404;
      if (!settling || now() + retry.delayMs > deadline) {
        if (status === 403) {
          (error as Error).message = `Uploading ${packageBlobUrl(inputs)} was refused (403) after waiting for role assignments to apply. The deploying identity needs Storage Blob Data Contributor on the "${inputs.containerName}" container; the stack grants it to the identity azure-native uses, so sign in with that same identity (az login, or AZURE_*/ARM_* service principal variables). ${(error as Error).message}`;
        }
        throw error;
      }
      await retry.sleep(retry.delayMs);
    }
  }
}

/**
 * The identity of this deployment: a service principal from ARM_* variables
 * (what the azure-native provider reads) when they are set, else
 * DefaultAzureCredential (AZURE_* variables, workload identity, managed identity, az login...).
 */
export function deployerCredential(env: NodeJS.ProcessEnv = process.env): import("@azure/identity").TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require("@azure/identity") as typeof import("@azure/identity");
  if (env.ARM_CLIENT_ID && env.ARM_CLIENT_SECRET && env.ARM_TENANT_ID) {
    return new identity.ClientSecretCredential(env.ARM_TENANT_ID, env.ARM_CLIENT_ID, env.ARM_CLIENT_SECRET);
  }
  return new identity.DefaultAzureCredential();
}

function blockBlobClient(inputs: PackageBlobInputs) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { BlockBlobClient } = require("@azure/storage-blob") as typeof import("@azure/storage-blob");
  return new BlockBlobClient(packageBlobUrl(inputs), deployerCredential());
}

const retryForRoleAssignments: UploadRetry = {
  timeoutMs: 10 * 60 * 1000,
  delayMs: 10 * 1000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

async function upload(inputs: PackageBlobInputs): Promise<PackageBlobOutputs> {
  await uploadPackage(inputs, blockBlobClient(inputs), retryForRoleAssignments);
  return { ...inputs, url: packageBlobUrl(inputs) };
}

/** Properties whose change means another blob (the old one is deleted after the new one exists). */
const REPLACE_ON = ["blobEndpoint", "containerName", "blobName"] as const;

export const packageBlobProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: PackageBlobOutputs, news: PackageBlobInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = REPLACE_ON.filter((key) => olds[key] !== news[key]);
    return { changes: replaces.length > 0 || olds.sha256 !== news.sha256, replaces, deleteBeforeReplace: false };
  },
  async create(inputs: PackageBlobInputs): Promise<pulumi.dynamic.CreateResult> {
    const outs = await upload(inputs);
    return { id: outs.url, outs };
  },
  async update(_id: string, _olds: PackageBlobOutputs, news: PackageBlobInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await upload(news) };
  },
  async delete(_id: string, props: PackageBlobOutputs): Promise<void> {
    try {
      await blockBlobClient(props).deleteIfExists({ deleteSnapshots: "include" });
    } catch (error) {
      // The container or the account went first (destroy): nothing left to delete.
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  },
};

export type PackageBlobArgs = { [K in keyof PackageBlobInputs]: pulumi.Input<PackageBlobInputs[K]> };

/** The code package as a blob, uploaded with the deploying identity (type `pulumi-nodejs:dynamic/azure:PackageBlob`). */
export class PackageBlob extends pulumi.dynamic.Resource {
  declare readonly url: pulumi.Output<string>;
  declare readonly sha256: pulumi.Output<string>;

  constructor(name: string, args: PackageBlobArgs, opts?: pulumi.CustomResourceOptions) {
    super(packageBlobProvider, name, { ...args, url: undefined }, opts, "azure", "PackageBlob");
  }
}
