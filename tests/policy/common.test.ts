import * as assert from "node:assert/strict";
import { allowedRegions, requiredTags, resourceLabel } from "../../policy/common";
import { AWS_PROVIDER, AZURE_PROVIDER } from "../../policy/types";
import { diagnosticsOf, UNKNOWN, violationsOf, type TestResource } from "../helpers/policyHarness";

const TAGS = { project: "image-pipeline", stack: "dev", "data-classification": "internal" };
const FUNCTION = "aws:lambda/function:Function";
const STORAGE = "azure-native:storage:StorageAccount";

describe("cloud-neutral policies", () => {
  describe("resourceLabel", () => {
    it("names a resource by its SDK class path and logical name", () => {
      assert.equal(resourceLabel("aws:lambda/function:Function", "resize"), 'aws.lambda.Function "resize"');
      assert.equal(resourceLabel("azure-native:storage:StorageAccount", "data"), 'azure-native.storage.StorageAccount "data"');
    });
  });

  describe("required-tags", () => {
    it("passes a taggable resource with the three tags", async () => {
      assert.deepEqual(await violationsOf(requiredTags, { type: FUNCTION, name: "resize", props: { tags: { ...TAGS, owner: "platform" } } }), []);
    });

    it("reports missing tags by name", async () => {
      assert.deepEqual(await violationsOf(requiredTags, { type: FUNCTION, name: "resize", props: { tags: { project: "image-pipeline" } } }), [
        'The aws.lambda.Function "resize" is missing the required tags "stack", "data-classification"; set them on the resource or in the AWS provider\'s defaultTags.',
      ]);
    });

    it("treats an empty tag value as missing", async () => {
      const [message] = await violationsOf(requiredTags, { type: FUNCTION, name: "resize", props: { tags: { ...TAGS, stack: " " } } });
      assert.match(message, /missing the required tag "stack"; set it/);
    });

    it("accepts tags from the AWS provider's defaultTags, as JSON text (provider inputs) or an object", async () => {
      const asText: TestResource = { type: FUNCTION, name: "resize", props: { tags: { stack: "dev" } }, provider: { type: AWS_PROVIDER, props: { region: "eu-west-1", defaultTags: JSON.stringify({ tags: TAGS }) } } };
      const asObject: TestResource = { type: FUNCTION, name: "resize", props: {}, provider: { type: AWS_PROVIDER, props: { defaultTags: { tags: TAGS } } } };
      assert.deepEqual(await violationsOf(requiredTags, asText), []);
      assert.deepEqual(await violationsOf(requiredTags, asObject), []);
    });

    it("reports a data-classification outside the allowed values", async () => {
      assert.deepEqual(await violationsOf(requiredTags, { type: STORAGE, name: "data", props: { tags: { ...TAGS, "data-classification": "secret" } } }), [
        'The azure-native.storage.StorageAccount "data" has data-classification "secret", which is not one of public, internal, confidential, restricted.',
      ]);
    });

    it("tells Azure resources to set tags on the resource", async () => {
      const [message] = await violationsOf(requiredTags, { type: STORAGE, name: "data", props: {} });
      assert.match(message, /is missing the required tags "project", "stack", "data-classification"; set them on the resource\.$/);
    });

    it("ignores resources that cannot carry tags, unless config lists their type", async () => {
      const policy: TestResource = { type: "aws:iam/rolePolicy:RolePolicy", name: "p", props: {} };
      assert.deepEqual(await violationsOf(requiredTags, policy), []);
      assert.equal((await violationsOf(requiredTags, policy, { additionalTaggableTypes: ["aws:iam/rolePolicy:RolePolicy"] })).length, 1);
    });

    it("uses the configured tag list", async () => {
      assert.deepEqual(await violationsOf(requiredTags, { type: FUNCTION, name: "f", props: { tags: { owner: "x" } } }, { requiredTags: ["owner"] }), []);
    });

    it("skips tags unknown at preview, and counts an unknown value as present", async () => {
      assert.deepEqual(await diagnosticsOf(requiredTags, { type: FUNCTION, name: "f", props: { tags: UNKNOWN } }), []);
      assert.deepEqual(await diagnosticsOf(requiredTags, { type: FUNCTION, name: "f", props: { tags: { ...TAGS, stack: UNKNOWN } } }), []);
    });
  });

  describe("allowed-regions", () => {
    const awsProvider = (region: string): TestResource => ({ type: AWS_PROVIDER, name: "default_7_48_0", props: { region } });
    const bucket = (region: string, provider: string): TestResource => ({ type: "aws:s3/bucket:Bucket", name: "uploads", props: { region }, provider: { type: AWS_PROVIDER, name: "default_7_48_0", props: { region: provider } } });

    it("passes EU regions on both clouds", async () => {
      const resources = [awsProvider("eu-west-1"), bucket("eu-west-1", "eu-west-1"), { type: STORAGE, name: "data", props: { location: "West Europe" } }, { type: AZURE_PROVIDER, name: "default", props: { location: "northeurope" } }];
      assert.deepEqual(await violationsOf(allowedRegions, resources), []);
    });

    it("reports a provider outside the allowed regions once, not every resource it manages", async () => {
      assert.deepEqual(await violationsOf(allowedRegions, [awsProvider("us-east-1"), bucket("us-east-1", "us-east-1"), { ...bucket("us-east-1", "us-east-1"), name: "renditions" }]), [
        'The aws provider "default_7_48_0" deploys to "us-east-1", which is not an allowed region (eu-west-1, eu-west-3, eu-central-1, eu-north-1, eu-south-1, eu-south-2, westeurope, northeurope, francecentral, francesouth, germanywestcentral, germanynorth, swedencentral, italynorth, polandcentral, spaincentral); set aws:region (or the provider\'s region) to an allowed one.',
      ]);
    });

    it("finds a default provider through the resources it manages", async () => {
      const [message] = await violationsOf(allowedRegions, [bucket("ap-south-1", "ap-south-1")]);
      assert.match(message, /^The aws provider "default_7_48_0" deploys to "ap-south-1"/);
    });

    it("reports a resource that overrides its region", async () => {
      const [message, ...rest] = await violationsOf(allowedRegions, [awsProvider("eu-west-1"), bucket("us-west-2", "eu-west-1")]);
      assert.deepEqual(rest, []);
      assert.match(message, /^The aws\.s3\.Bucket "uploads" is placed in "us-west-2", which is not an allowed region/);
    });

    it("reports an Azure location outside the list and accepts global resources", async () => {
      const messages = await violationsOf(allowedRegions, [{ type: STORAGE, name: "data", props: { location: "eastus" } }, { type: "azure-native:network:FrontDoor", name: "fd", props: { location: "Global" } }]);
      assert.deepEqual(messages.length, 1);
      assert.match(messages[0], /^The azure-native\.storage\.StorageAccount "data" is placed in "eastus"/);
    });

    it("uses the configured list", async () => {
      assert.deepEqual(await violationsOf(allowedRegions, [awsProvider("us-east-1")], { allowedRegions: ["us-east-1"] }), []);
      assert.equal((await violationsOf(allowedRegions, [awsProvider("eu-west-1")], { allowedRegions: ["us-east-1"] })).length, 1);
    });

    it("skips regions unknown at preview", async () => {
      assert.deepEqual(await diagnosticsOf(allowedRegions, [{ type: AWS_PROVIDER, name: "p", props: { region: UNKNOWN } }, { type: STORAGE, name: "data", props: { location: UNKNOWN } }]), []);
    });
  });
});
