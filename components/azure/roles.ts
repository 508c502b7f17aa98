/**
 * Built-in Azure role definitions the pipeline assigns, by their well-known
 * GUIDs (the same in every tenant). Each assignment is scoped to the one
 * resource that needs it.
 */
export const ROLES = {
  /** Host storage (AzureWebJobsStorage) with an identity needs Owner: leases, secrets, Durable task hub containers; it also covers the steps' containers and the code package. */
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  /** The deploying identity uploads the code package into the deployments container; Event Grid writes undeliverable upload events into the dead-letters container. */
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  /** Durable Functions control and work-item queues; the upload-events trigger and its poison queue. */
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  /** Event Grid (system topic identity) drops BlobCreated events on the upload-events queue. */
  storageQueueDataMessageSender: "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",
  /** Durable Functions history and instances tables; the jobs table. */
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  /** Publishing image.processed / image.failed events to the notifications topic (local auth is off). */
  eventGridDataSender: "d5a91429-5739-47e2-a06b-3470a27159e7",
} as const;

export type RoleName = keyof typeof ROLES;

/** The full resource id of a built-in role definition in a subscription. */
export function roleDefinitionId(subscriptionId: string, role: RoleName): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES[role]}`;
}

/**
 * Azure CLI (and azd), Azure PowerShell and VS Code sign users in as these
 * first-party applications; any other client id is a service principal or a
 * managed identity. Role assignments must state the right principal type.
 */
const USER_SIGN_IN_CLIENT_IDS = new Set(["04b07795-8ddb-461a-bbee-02f9e1bf7b46", "1950a258-227b-4e31-a9cf-717495945fc2", "aebc6443-996d-45c2-90f0-388ff96faa56"]);

/** The principal type of the identity a deployment runs as, from the client id it signed in with. */
export function deployerPrincipalType(clientId: string): "User" | "ServicePrincipal" {
  return USER_SIGN_IN_CLIENT_IDS.has(clientId.toLowerCase()) ? "User" : "ServicePrincipal";
}
