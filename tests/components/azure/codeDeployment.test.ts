import * as assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { deployCode, diffDeployment, parseDeploymentId, scmHostName, type CodeDeploymentInputs, type DeployDeps } from "../../../components/azure/codeDeployment";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  bytes: number;
}

type Answer = { status: number; body?: string };

/** A loopback server playing ARM and the SCM site: answers each `METHOD /path` from its script, in order. */
class FakeAzure {
  readonly seen: Seen[] = [];
  private readonly server: Server;
  private readonly script = new Map<string, Answer[]>();

  constructor() {
    this.server = createServer((req, res) => void this.answer(req).then(({ status, body }) => res.writeHead(status, { "Content-Type": "application/json" }).end(body ?? "")));
  }

  on(route: string, ...answers: Answer[]): this {
    this.script.set(route, [...(this.script.get(route) ?? []), ...answers]);
    return this;
  }

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private async answer(req: IncomingMessage): Promise<Answer> {
    let bytes = 0;
    for await (const chunk of req) bytes += (chunk as Buffer).length;
    this.seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, contentType: req.headers["content-type"], bytes });
    const route = `${req.method} ${new URL(req.url!, "http://x").pathname}`;
    const queue = this.script.get(route);
    // A route answered by its last scripted answer once the script runs out.
    return (queue && queue.length > 1 ? queue.shift() : queue?.[0]) ?? { status: 599, body: `unscripted ${route}` };
  }
}

const SITE = "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Web/sites/app-1";

function harness() {
  const scopes: string[] = [];
  const sleeps: number[] = [];
  let clock = 0;
  const deps: DeployDeps = {
    credential: { getToken: async (scope) => (scopes.push(scope), { token: "deployer-token" }) },
    clock: { now: () => clock, sleep: async (ms) => void (sleeps.push(ms), (clock += ms)) },
  };
  return { deps, scopes, sleeps };
}

describe("code deployment (One Deploy, trigger sync) against a loopback ARM", function () {
  let azure: FakeAzure;
  let zipPath: string;

  const inputs = (overrides: Partial<CodeDeploymentInputs> = {}): CodeDeploymentInputs => ({
    method: "onedeploy",
    armEndpoint: azure.base,
    subscriptionId: "sub-1",
    resourceGroupName: "rg-1",
    appName: "app-1",
    scmEndpoint: `${azure.base}/`,
    zipPath,
    sha256: "ab".repeat(32),
    timeoutSeconds: 600,
    ...overrides,
  });

  before(() => {
    const dir = mkdtempSync(path.join(tmpdir(), "deploy-"));
    zipPath = path.join(dir, "package.zip");
    writeFileSync(zipPath, Buffer.alloc(1234, 7));
  });

  beforeEach(async () => {
    azure = new FakeAzure();
    await azure.start();
  });

  afterEach(async () => {
    await azure.stop();
  });

  it("publishes the zip to One Deploy with the deployer's token, waits for it, then syncs triggers", async () => {
    azure
      .on("POST /api/publish", { status: 403, body: "role not there yet" }, { status: 200, body: '"dep-1"' })
      .on("GET /api/deployments/dep-1", { status: 200, body: JSON.stringify({ id: "dep-1", status: 1 }) }, { status: 200, body: JSON.stringify({ id: "dep-1", status: 4 }) })
      .on(`POST ${SITE}/syncfunctiontriggers`, { status: 409, body: "restarting" }, { status: 204 });
    const { deps, scopes, sleeps } = harness();

    const outs = await deployCode(inputs(), deps);

    assert.equal(outs.deploymentId, "dep-1");
    assert.deepEqual(
      azure.seen.map(({ method, url }) => `${method} ${url}`),
      [
        "POST /api/publish?RemoteBuild=false&Deployer=pulumi",
        "POST /api/publish?RemoteBuild=false&Deployer=pulumi",
        "GET /api/deployments/dep-1",
        "GET /api/deployments/dep-1",
        `POST ${SITE}/syncfunctiontriggers?api-version=2024-04-01`,
        `POST ${SITE}/syncfunctiontriggers?api-version=2024-04-01`,
      ],
    );
    for (const request of azure.seen) assert.equal(request.authorization, "Bearer deployer-token");
    assert.deepEqual(new Set(scopes), new Set(["https://management.azure.com/.default"]));
    const publish = azure.seen[1]!;
    assert.equal(publish.contentType, "application/zip");
    assert.equal(publish.bytes, 1234, "the zip is the body");
    assert.deepEqual(sleeps, [5000, 5000, 5000], "one wait after the 403, the running deployment and the 409");
  });

  it("backs off exponentially and then fails, saying what to check", async () => {
    azure.on("POST /api/publish", { status: 403, body: "AuthorizationFailed" });
    const { deps, sleeps } = harness();

    await assert.rejects(
      deployCode(inputs({ timeoutSeconds: 60 }), deps),
      (error: Error) => {
        assert.match(error.message, /^Deploying the code package \(sha256 abababababab\) to Function App "app-1" failed after retrying for 1 min: POST http:\/\/127\.0\.0\.1:\d+\/api\/publish\?RemoteBuild=false&Deployer=pulumi answered 403: AuthorizationFailed\./);
        assert.match(error.message, /needs Contributor \(or Website Contributor\) on Function App "app-1"/);
        return true;
      },
    );
    assert.deepEqual(sleeps, [5000, 10000, 20000], "the next wait (40 s) would pass the 60 s bound");
    assert.equal(azure.seen.length, 4);
  });

  it("does not retry a refused token", async () => {
    azure.on("POST /api/publish", { status: 401, body: "" });
    const { deps } = harness();

    await assert.rejects(deployCode(inputs(), deps), /answered 401\. Sign in again/);
    assert.equal(azure.seen.length, 1);
  });

  it("fails with the platform's own words when the deployment itself fails", async () => {
    azure
      .on("POST /api/publish", { status: 202, body: "dep-2" })
      .on("GET /api/deployments/dep-2", { status: 200, body: JSON.stringify({ status: 3, status_text: "Package deployment failed: index.js missing" }) });
    const { deps } = harness();

    await assert.rejects(deployCode(inputs(), deps), /deployment failed: Package deployment failed: index\.js missing/);
    assert.equal(azure.seen.filter((r) => r.url.includes("syncfunctiontriggers")).length, 0, "no sync after a failed deployment");
  });

  it("only syncs triggers for an app that runs from a package URL (Premium, Dedicated)", async () => {
    azure.on(`POST ${SITE}/syncfunctiontriggers`, { status: 200 });
    const { deps } = harness();

    await deployCode(inputs({ method: "syncTriggers", scmEndpoint: "" }), deps);

    assert.deepEqual(azure.seen.map(({ method, url }) => `${method} ${url}`), [`POST ${SITE}/syncfunctiontriggers?api-version=2024-04-01`]);
  });
});

describe("code deployment diff", () => {
  const olds = {
    method: "onedeploy" as const,
    armEndpoint: "https://management.azure.com",
    subscriptionId: "sub-1",
    resourceGroupName: "rg-1",
    appName: "app-1",
    scmEndpoint: "https://app-1.scm.azurewebsites.net",
    zipPath: "/tmp/a/package.zip",
    sha256: "a".repeat(64),
    timeoutSeconds: 600,
    deploymentId: "dep-1",
  };

  it("does nothing for an unchanged package, even built in another folder or with another timeout", () => {
    assert.deepEqual(diffDeployment(olds, { ...olds, zipPath: "/elsewhere/package.zip", timeoutSeconds: 900 }), { changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("deploys again for a new package or another app", () => {
    assert.equal(diffDeployment(olds, { ...olds, sha256: "b".repeat(64) }).changes, true);
    assert.equal(diffDeployment(olds, { ...olds, appName: "app-2" }).changes, true);
  });
});

describe("code deployment helpers", () => {
  it("reads the deployment id whether bare, quoted or in an object", () => {
    assert.equal(parseDeploymentId("dep-1"), "dep-1");
    assert.equal(parseDeploymentId('"dep-2"\n'), "dep-2");
    assert.equal(parseDeploymentId('{"id":"dep-3"}'), "dep-3");
    assert.equal(parseDeploymentId(""), "");
  });

  it("finds the SCM host among the app's host names, else derives it from the default host name", () => {
    assert.equal(
      scmHostName("app-1-abc.westeurope-01.azurewebsites.net", [
        { name: "app-1-abc.westeurope-01.azurewebsites.net", hostType: "Standard" },
        { name: "app-1-abc.scm.westeurope-01.azurewebsites.net", hostType: "Repository" },
      ]),
      "app-1-abc.scm.westeurope-01.azurewebsites.net",
    );
    assert.equal(scmHostName("app-1.azurewebsites.net"), "app-1.scm.azurewebsites.net");
  });
});
