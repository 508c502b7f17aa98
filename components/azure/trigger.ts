import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { CONTAINERS } from "./storage";
import { movedFrom } from "./moved";
import { grantRole } from "./roles";

export interface UploadTriggerArgs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  subscriptionId: pulumi.Input<string>;
  storageAccountId: pulumi.Input<string>;
  uploadEventsQueue: azure.storage.Queue;
  /** The uploads container's BlobDeleted events go here, for erasure on delete. */
  deleteEventsQueue: azure.storage.Queue;
  deadLetters: azure.storage.BlobContainer;
  tags: Record<string, string>;
}

/**
 * Upload events: the storage account's Event Grid system topic delivers the
 * uploads container's BlobCreated events (CloudEvents) to the upload-events
 * queue the starter reads, with its own identity; events it cannot deliver
 * within a day go to the dead-letters container. Its BlobDeleted events go the
 * same way to the delete-events queue, which the EraseUpload function reads.
 */
export class UploadTrigger extends pulumi.ComponentResource {
  readonly systemTopic: azure.eventgrid.SystemTopic;
  /** The BlobDeleted subscription's name: its dead letters are written under it (components/azure/alerts.ts). */
  readonly deleteSubscriptionName: pulumi.Output<string>;

  constructor(name: string, args: UploadTriggerArgs, opts: pulumi.ComponentResourceOptions & { parent: pulumi.Resource }) {
    super("image-pipeline:azure:UploadTrigger", name, {}, opts);
    const { resourceGroupName, location, subscriptionId, storageAccountId, uploadEventsQueue, deleteEventsQueue, deadLetters, tags } = args;
    const child = movedFrom(this, opts);

    this.systemTopic = new azure.eventgrid.SystemTopic(
      `${name}-storage-events`,
      { resourceGroupName, location, source: storageAccountId, topicType: "Microsoft.Storage.StorageAccounts", identity: { type: "SystemAssigned" }, tags },
      child,
    );
    const topicPrincipal = this.systemTopic.identity.apply((identity) => {
      if (!identity?.principalId) throw new Error(`System topic ${name}-storage-events has no system-assigned identity to grant roles to.`);
      return identity.principalId;
    });
    const grant = { principalId: topicPrincipal, subscriptionId, principalType: "ServicePrincipal" as const };
    const queueSender = grantRole(`${name}-storage-events-queue-sender`, { ...grant, role: "storageQueueDataMessageSender", scope: uploadEventsQueue.id }, child);
    const deleteQueueSender = grantRole(`${name}-storage-events-delete-queue-sender`, { ...grant, role: "storageQueueDataMessageSender", scope: deleteEventsQueue.id }, child);
    const deadLetterWriter = grantRole(`${name}-storage-events-dead-letter-writer`, { ...grant, role: "storageBlobDataContributor", scope: deadLetters.id }, child);

    const subscription = (suffix: string, eventType: string, queue: azure.storage.Queue, sender: azure.authorization.RoleAssignment) =>
      new azure.eventgrid.SystemTopicEventSubscription(
        `${name}-${suffix}`,
        {
          resourceGroupName,
          systemTopicName: this.systemTopic.name,
          eventDeliverySchema: "CloudEventSchemaV1_0",
          filter: { includedEventTypes: [eventType], subjectBeginsWith: `/blobServices/default/containers/${CONTAINERS.uploads}/blobs/` },
          deliveryWithResourceIdentity: {
            identity: { type: "SystemAssigned" },
            destination: { endpointType: "StorageQueue", resourceId: storageAccountId, queueName: queue.name, queueMessageTimeToLiveInSeconds: 7 * 24 * 3600 },
          },
          retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 24 * 60 },
          deadLetterWithResourceIdentity: {
            identity: { type: "SystemAssigned" },
            deadLetterDestination: { endpointType: "StorageBlob", resourceId: storageAccountId, blobContainerName: deadLetters.name },
          },
        },
        { ...child, dependsOn: [sender, deadLetterWriter] },
      );
    subscription("uploads-created", "Microsoft.Storage.BlobCreated", uploadEventsQueue, queueSender);
    // Blob storage's event for a deleted blob: https://learn.microsoft.com/en-us/azure/event-grid/event-schema-blob-storage
    const deleted = subscription("uploads-deleted", "Microsoft.Storage.BlobDeleted", deleteEventsQueue, deleteQueueSender);
    this.deleteSubscriptionName = deleted.name;

    this.registerOutputs({ systemTopicName: this.systemTopic.name });
  }
}
