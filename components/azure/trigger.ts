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
  deadLetters: azure.storage.BlobContainer;
  tags: Record<string, string>;
}

/**
 * Upload events: the storage account's Event Grid system topic delivers the
 * uploads container's BlobCreated events (CloudEvents) to the upload-events
 * queue the starter reads, with its own identity; events it cannot deliver
 * within a day go to the dead-letters container.
 */
export class UploadTrigger extends pulumi.ComponentResource {
  readonly systemTopic: azure.eventgrid.SystemTopic;

  constructor(name: string, args: UploadTriggerArgs, opts: pulumi.ComponentResourceOptions & { parent: pulumi.Resource }) {
    super("image-pipeline:azure:UploadTrigger", name, {}, opts);
    const { resourceGroupName, location, subscriptionId, storageAccountId, uploadEventsQueue, deadLetters, tags } = args;
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
    const deadLetterWriter = grantRole(`${name}-storage-events-dead-letter-writer`, { ...grant, role: "storageBlobDataContributor", scope: deadLetters.id }, child);

    new azure.eventgrid.SystemTopicEventSubscription(
      `${name}-uploads-created`,
      {
        resourceGroupName,
        systemTopicName: this.systemTopic.name,
        eventDeliverySchema: "CloudEventSchemaV1_0",
        filter: { includedEventTypes: ["Microsoft.Storage.BlobCreated"], subjectBeginsWith: `/blobServices/default/containers/${CONTAINERS.uploads}/blobs/` },
        deliveryWithResourceIdentity: {
          identity: { type: "SystemAssigned" },
          destination: { endpointType: "StorageQueue", resourceId: storageAccountId, queueName: uploadEventsQueue.name, queueMessageTimeToLiveInSeconds: 7 * 24 * 3600 },
        },
        retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 24 * 60 },
        deadLetterWithResourceIdentity: {
          identity: { type: "SystemAssigned" },
          deadLetterDestination: { endpointType: "StorageBlob", resourceId: storageAccountId, blobContainerName: deadLetters.name },
        },
      },
      { ...child, dependsOn: [queueSender, deadLetterWriter] },
    );

    this.registerOutputs({ systemTopicName: this.systemTopic.name });
  }
}
