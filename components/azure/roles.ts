import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";

/**
 * Built-in Azure role definitions the pipeline assigns, by their well-known
 * GUIDs (the same in every tenant). Each assignment is scoped to the one
 * resource that needs it.
 */
export const ROLES = {
  /** Host storage (AzureWebJobsStorage) with an identity needs Owner: leases, secrets, Durable task hub containers; it also covers the steps' containers and the code package. */
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  /** The deployer and `uploaders` upload images; the deployer uploads the Premium/Dedicated package; Event Grid writes undeliverable upload events into the dead-letters container. */
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  /** Durable Functions control and work-item queues; the upload-events trigger and its poison queue. */
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  /** Event Grid (system topic identity) drops BlobCreated events on the upload-events queue. */
  storageQueueDataMessageSender: "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",
  /** Durable Functions history and instances tables; the jobs table. */
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  /** Front Door reads renditions with its identity (origin authentication), on the renditions container only. */
  storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  /** The API signs user-delegation SAS: the key comes from the account (https://learn.microsoft.com/rest/api/storageservices/create-user-delegation-sas). */
  storageBlobDelegator: "db58b8e5-c6ad-4a2a-8342-4190687cbf4a",
  /** Publishing image.processed / image.failed events to the notifications topic (local auth is off). */
  eventGridDataSender: "d5a91429-5739-47e2-a06b-3470a27159e7",
} as const;

export type RoleName = keyof typeof ROLES;

/** The full resource id of a built-in role definition in a subscription. */
export function roleDefinitionId(subscriptionId: string, role: RoleName): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES[role]}`;
}

export interface RoleGrantArgs {
  principalId: pulumi.Input<string>;
  role: RoleName;
  /** The one resource the role is for. */
  scope: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  /**
   * Always stated: azure-native sends "User" when it is missing, and ARM refuses a type that does not match.
   * "ServicePrincipal" for an identity this stack creates also lets ARM skip the directory lookup that fails
   * (PrincipalNotFound) while a new principal replicates
   * (https://learn.microsoft.com/en-us/azure/role-based-access-control/role-assignments-template#new-service-principal).
   */
  principalType: pulumi.Input<"User" | "ServicePrincipal" | "Group">;
}

/** One role assignment. */
export function grantRole(name: string, args: RoleGrantArgs, opts: pulumi.CustomResourceOptions): azure.authorization.RoleAssignment {
  const { principalId, role, scope, subscriptionId, principalType } = args;
  return new azure.authorization.RoleAssignment(
    name,
    { principalId, principalType, roleDefinitionId: pulumi.output(subscriptionId).apply((id) => roleDefinitionId(id, role)), scope },
    opts,
  );
}
