import * as assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { loadConfig } from "../../../components/config";
import { AzureImagePipeline } from "../../../components/azure/imagePipeline";
import { startMockRuntime, type MockRuntime, type RecordedResource } from "../../../local/preview/mockRuntime";

/**
 * The order `pulumi up` follows comes from each registration's dependencies;
 * the preview's mock runtime records them as the engine receives them.
 */
describe("Azure deployment order", function () {
  this.timeout(120_000);
  let runtime: MockRuntime;

  const byType = (type: string) => runtime.resources.filter((r) => r.type === type && r.custom);
  const named = (type: string, suffix: string): RecordedResource => {
    const found = byType(type).filter((r) => r.name.endsWith(suffix));
    assert.equal(found.length, 1, `one ${type} named *${suffix}`);
    return found[0]!;
  };

  before(async () => {
    runtime = await startMockRuntime({ project: "image-pipeline", stack: "order", config: {} });
    const dir = mkdtempSync(path.join(tmpdir(), "azure-order-"));
    const packagePath = path.join(dir, "package.zip");
    writeFileSync(packagePath, "PK\u0003\u0004 not really a zip");
    new AzureImagePipeline("order", { config: loadConfig({ cloud: "azure" }), packagePath });
    new AzureImagePipeline("order-premium", { config: loadConfig({ cloud: "azure", azure: { plan: "premium" } }), packagePath });
    new AzureImagePipeline("order-fd", { config: loadConfig({ cloud: "azure", delivery: { cdn: true } }), packagePath, withApi: true });
    await runtime.settle();
  });

  it("creates the identity, then its role assignments, then the app", () => {
    const identity = named("azure-native:managedidentity:UserAssignedIdentity", "order-app-identity");
    const grants = ["order-app-blob-owner", "order-app-queue-contributor", "order-app-table-contributor", "order-app-events-sender"].map((name) => named("azure-native:authorization:RoleAssignment", name));
    const app = named("azure-native:web:WebApp", "order-func");

    for (const grant of grants) assert.ok(grant.dependencies.includes(identity.urn), `${grant.name} waits for the identity`);
    for (const grant of grants) assert.ok(app.dependencies.includes(grant.urn), `the app waits for ${grant.name}`);
  });

  it("deploys the code after the app and every role assignment of its identity", () => {
    const deployment = named("pulumi-nodejs:dynamic/azure:CodeDeployment", "order-code");
    const app = named("azure-native:web:WebApp", "order-func");
    const grants = byType("azure-native:authorization:RoleAssignment").filter((r) => /^order-app-/.test(r.name));

    assert.equal(grants.length, 4);
    assert.ok(deployment.dependencies.includes(app.urn), "after the app");
    for (const grant of grants) assert.ok(deployment.dependencies.includes(grant.urn), `after ${grant.name}`);
  });

  it("with the API behind Front Door: creates the Front Door profile before the app that admits only its id, and Front Door's API origin after the app", () => {
    const profile = named("azure-native:cdn:Profile", "order-fd-fd-profile");
    const app = named("azure-native:web:WebApp", "order-fd-func");
    const apiOrigin = named("azure-native:cdn:AFDOrigin", "order-fd-fd-api-origin");

    assert.ok(app.dependencies.includes(profile.urn), "the app waits for the profile (its id is in the access restrictions)");
    assert.ok(!profile.dependencies.includes(app.urn), "the profile does not wait for the app");
    assert.ok(apiOrigin.dependencies.includes(app.urn), "the API origin waits for the app's host name");
  });

  it("Premium: syncs triggers only after the package blob is uploaded", () => {
    const deployment = named("pulumi-nodejs:dynamic/azure:CodeDeployment", "order-premium-code");
    const upload = named("pulumi-nodejs:dynamic/azure:PackageBlob", "order-premium-package");

    assert.ok(deployment.dependencies.includes(upload.urn));
  });
});
