import { existsSync } from "node:fs";
import * as path from "node:path";
import * as azure from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";
import { RATE_LIMIT_TABLE } from "../../functions/azure/contract";
import { PROJECT_ROOT } from "../bundle";
import { grantRole } from "./roles";

/**
 * The HTTP API on Azure lives in the pipeline's Function App (an HTTP function registered from
 * functions/azure/app.ts, route prefix `api`); this component gives it what it needs besides code:
 * - Storage Blob Delegator on the account, to get the user delegation key a user-delegation SAS is
 *   signed with (the key is an account-level operation: https://learn.microsoft.com/rest/api/storageservices/create-user-delegation-sas);
 * - Storage Blob Data Contributor on the uploads and renditions containers (erasure, reading renditions),
 *   stated here although the host's account-wide Blob Data Owner covers them today, so narrowing that
 *   grant never breaks the API;
 * - the table of per-caller request counts in the account (functions/azure/rateLimitStore.ts), with
 *   Storage Table Data Contributor scoped to that one table (a table-scope assignment is supported through
 *   ARM: https://learn.microsoft.com/azure/storage/tables/assign-azure-role-data-access), stated although the
 *   host's account-wide table role covers it today (Durable Functions keeps its history in tables);
 * - the app settings the API reads, and the CORS rules of the blob service and the app (helpers below,
 *   applied by components/azure/storage.ts and functionApp.ts, which own those resources).
 *
 * Per-caller limits: the app counts each caller itself in that table (Azure Functions has no throttling
 * of its own); with the CDN on, Front Door's WAF rate-limit rule also throttles each client IP in front
 * of it (components/azure/frontDoor.ts).
 */

/** The API's app, shared by every host (functions/api/app.ts): the Azure host registers it once it exists. */
export const API_APP_ENTRY = "functions/api/app.ts";

/** Whether this tree has the API app (the Function App then serves it). */
export function hasApiApp(root: string = PROJECT_ROOT): boolean {
  return existsSync(path.join(root, API_APP_ENTRY));
}

/** The blob service's CORS rules: pages on these origins may PUT blobs with a SAS (and read renditions). */
export function blobCorsRules(origins: readonly string[]): azure.types.input.storage.CorsRuleArgs[] {
  return origins.length === 0
    ? []
    : [{ allowedOrigins: [...origins], allowedMethods: ["PUT", "GET", "HEAD", "OPTIONS"], allowedHeaders: ["content-type", "x-ms-blob-type", "x-ms-version", "x-ms-date", "x-ms-blob-content-type"], exposedHeaders: ["etag", "x-ms-request-id"], maxAgeInSeconds: 3600 }];
}

/** The Function App's CORS (App Service answers preflights for the listed origins). */
export function appCors(origins: readonly string[]): azure.types.input.web.CorsSettingsArgs | undefined {
  return origins.length === 0 ? undefined : { allowedOrigins: [...origins], supportCredentials: false };
}

export interface AzureApiAccessArgs {
  /** The Function App's user-assigned identity. */
  principalId: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  resourceGroupName: pulumi.Input<string>;
  storageAccountName: pulumi.Input<string>;
  storageAccountId: pulumi.Input<string>;
  uploadsContainerId: pulumi.Input<string>;
  renditionsContainerId: pulumi.Input<string>;
}

export class AzureApiAccess extends pulumi.ComponentResource {
  readonly grants: azure.authorization.RoleAssignment[];
  /** Per-caller request counts: one entity per caller and limit (Table storage has no TTL). */
  readonly rateLimitTable: azure.storage.Table;

  constructor(name: string, args: AzureApiAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:azure:ApiAccess", name, {}, opts);
    const { principalId, subscriptionId, resourceGroupName, storageAccountName, storageAccountId, uploadsContainerId, renditionsContainerId } = args;
    this.rateLimitTable = new azure.storage.Table(`${name}-rate-limits`, { resourceGroupName, accountName: storageAccountName, tableName: RATE_LIMIT_TABLE }, { parent: this });
    const identity = { principalId, subscriptionId, principalType: "ServicePrincipal" as const };
    // An assignment cannot be updated in place, and two for the same principal, role and scope conflict: delete first.
    const options = { parent: this, deleteBeforeReplace: true };
    this.grants = [
      grantRole(`${name}-delegator`, { ...identity, role: "storageBlobDelegator", scope: storageAccountId }, options),
      grantRole(`${name}-uploads`, { ...identity, role: "storageBlobDataContributor", scope: uploadsContainerId }, options),
      grantRole(`${name}-renditions`, { ...identity, role: "storageBlobDataContributor", scope: renditionsContainerId }, options),
      grantRole(`${name}-rate-limits`, { ...identity, role: "storageTableDataContributor", scope: this.rateLimitTable.id }, options),
    ];
    this.registerOutputs({ rateLimitTableName: this.rateLimitTable.name });
  }
}
