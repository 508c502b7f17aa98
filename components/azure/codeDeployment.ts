import * as pulumi from "@pulumi/pulumi";

/**
 * Deploys the Function App's code the way each plan supports, from `pulumi up`
 * itself, after the app and its role assignments exist:
 * - Flex Consumption ("onedeploy"): the zip is POSTed to the SCM site's One Deploy
 *   endpoint, the deployment is polled until it ends, then triggers are synced.
 *   Writing a zip into the deployment container is not a deployment on Flex.
 * - Premium and Dedicated ("syncTriggers"): the app runs from a content-addressed
 *   package URL (WEBSITE_RUN_FROM_PACKAGE); a new URL needs a trigger sync.
 * A new package hash deploys again; an unchanged one does nothing.
 *
 * Requests are made with the deployer's own Entra ID token (the identity
 * azure-native uses). 403 while a fresh role assignment propagates, 409 while
 * the app restarts, 429 and 5xx are retried with exponential backoff for
 * `timeoutSeconds`; then `pulumi up` fails with what to check.
 *
 * The provider's functions are serialized into the stack state by Pulumi, so
 * they load modules with `require` inside their bodies and capture nothing else.
 */

export type DeployMethod = "onedeploy" | "syncTriggers";

export interface CodeDeploymentInputs {
  method: DeployMethod;
  /** Azure Resource Manager, `https://management.azure.com`. */
  armEndpoint: string;
  subscriptionId: string;
  resourceGroupName: string;
  appName: string;
  /** The app's SCM (Kudu) site, `https://<app>.scm.<region>.azurewebsites.net`; "" for syncTriggers. */
  scmEndpoint: string;
  /** The zip on the deploying machine (onedeploy); not compared: another checkout has another path. */
  zipPath: string;
  /** Hex SHA-256 of the package: a new value deploys again. */
  sha256: string;
  /** How long to keep retrying before `pulumi up` fails; role assignments can take minutes to apply. */
  timeoutSeconds: number;
}

export interface CodeDeploymentOutputs extends CodeDeploymentInputs {
  /** The One Deploy deployment id ("" for syncTriggers). */
  deploymentId: string;
}

/** The token the deployer's requests carry: ARM's audience, which the SCM site accepts too. */
export interface TokenSource {
  getToken(scope: string): Promise<{ token: string } | null>;
}

export interface DeployClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface DeployDeps {
  credential: TokenSource;
  clock: DeployClock;
  /** First wait between attempts; doubles up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  log?: (message: string) => void;
}

/** ARM's token audience; Kudu accepts the same token (https://github.com/OfficeDev/microsoft-365-agents-toolkit/pull/8574). */
export const ARM_SCOPE = "https://management.azure.com/.default";
/** API version of the Microsoft.Web calls (syncfunctiontriggers), the one azure-native 3.x uses for web. */
export const WEB_API_VERSION = "2024-04-01";
export const DEFAULT_TIMEOUT_SECONDS = 600;

/** One Deploy deployment statuses (https://github.com/Azure/azure-dev/issues/3658). */
const DEPLOY_STATUS = { cancelled: -1, failed: 3, success: 4, conflict: 5, partialSuccess: 6 } as const;

/** A refused or failed request; a plain Error with fields, since the serialized provider cannot carry a class. */
export interface DeployRequestError extends Error {
  deployRequest: true;
  method: string;
  url: string;
  status: number;
  body: string;
  retryable: boolean;
}

export function deployRequestError(method: string, url: string, status: number, body: string, retryable: boolean): DeployRequestError {
  const message = `${method} ${url} answered ${status || "with no response"}${body ? `: ${body.slice(0, 300)}` : ""}`;
  return Object.assign(new Error(message), { name: "DeployRequestError", deployRequest: true as const, method, url, status, body, retryable });
}

export function isDeployRequestError(error: unknown): error is DeployRequestError {
  return error instanceof Error && (error as Partial<DeployRequestError>).deployRequest === true;
}

/** Statuses worth waiting out: role propagation (403), a restart or another deployment (409), throttling, platform errors. */
export function isRetryableStatus(status: number, body: string): boolean {
  if ([403, 408, 409, 429, 500, 502, 503, 504].includes(status)) return true;
  // Flex reports a new app identity's missing storage role as 400 BlobUploadFailed wrapping storage's 403.
  return status === 400 && /BlobUploadFailed|403|AuthorizationPermissionMismatch/i.test(body);
}

/** What to check when a status outlasts the wait. */
export function adviceFor(status: number, inputs: Pick<CodeDeploymentInputs, "appName" | "scmEndpoint">): string {
  if (status === 401) return "Sign in again (az login, or the ARM_*/AZURE_* variables): the deployer's token was refused.";
  if (status === 403) {
    return `The identity running \`pulumi up\` needs Contributor (or Website Contributor) on Function App "${inputs.appName}"; new role assignments can take up to 10 minutes to apply, so run \`pulumi up\` again.`;
  }
  if (status === 400) {
    return `The app's identity could not write the package to its deployment container: check that it holds Storage Blob Data Owner on the storage account (granted by this stack), wait a few minutes and run \`pulumi up\` again.`;
  }
  if (status === 409) return `Another deployment or a restart of "${inputs.appName}" was still running; run \`pulumi up\` again.`;
  return `Check the app's deployment log${inputs.scmEndpoint ? ` (${inputs.scmEndpoint}/api/deployments)` : ""} and the Azure status page, then run \`pulumi up\` again.`;
}

/**
 * Runs one deployment to its end.
 *
 * @throws {Error} naming the last request, its answer and what to check, once `timeoutSeconds` has passed or at once for a non-retryable answer.
 */
export async function deployCode(inputs: CodeDeploymentInputs, deps: DeployDeps): Promise<CodeDeploymentOutputs> {
  const { clock } = deps;
  const deadline = clock.now() + inputs.timeoutSeconds * 1000;
  const initialDelayMs = deps.initialDelayMs ?? 5_000;
  const maxDelayMs = deps.maxDelayMs ?? 60_000;

  const token = async () => {
    const access = await deps.credential.getToken(ARM_SCOPE);
    if (!access?.token) throw new Error(`No Entra ID token for ${ARM_SCOPE}: sign in with az login, or set the ARM_*/AZURE_* variables azure-native uses.`);
    return access.token;
  };

  async function request(method: string, url: string, body?: Buffer, contentType?: string): Promise<string> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await token()}` };
    if (contentType) headers["Content-Type"] = contentType;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body });
    } catch (error) {
      // DNS of a just-created app and dropped connections settle on their own.
      throw deployRequestError(method, url, 0, (error as Error).message, true);
    }
    const text = await response.text();
    if (response.ok) return text;
    throw deployRequestError(method, url, response.status, text, isRetryableStatus(response.status, text));
  }

  /** Repeats `attempt` with exponential backoff while it fails with a retryable error and time is left. */
  async function retrying<T>(attempt: () => Promise<T>): Promise<T> {
    let delay = initialDelayMs;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        const retryable = isDeployRequestError(error) && error.retryable;
        if (!retryable || clock.now() + delay > deadline) throw finalError(error);
        deps.log?.(`${(error as Error).message}; retrying in ${Math.round(delay / 1000)} s`);
        await clock.sleep(delay);
        delay = Math.min(maxDelayMs, delay * 2);
      }
    }
  }

  function finalError(error: unknown): Error {
    const status = isDeployRequestError(error) ? error.status : undefined;
    const waited = isDeployRequestError(error) && error.retryable ? ` after retrying for ${Math.round(inputs.timeoutSeconds / 60)} min` : "";
    const advice = status === undefined ? "" : ` ${adviceFor(status, inputs)}`;
    return new Error(`Deploying the code package (sha256 ${inputs.sha256.slice(0, 12)}) to Function App "${inputs.appName}" failed${waited}: ${(error as Error).message}.${advice}`, {
      cause: error,
    });
  }

  let deploymentId = "";
  if (inputs.method === "onedeploy") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { readFile } = require("node:fs/promises") as typeof import("node:fs/promises");
    const zip = await readFile(inputs.zipPath);
    const scm = inputs.scmEndpoint.replace(/\/+$/, "");
    // One Deploy: the zip as the body, no remote build (the bundle is complete) (https://github.com/hashicorp/terraform-provider-azurerm/pull/31937).
    const published = await retrying(() => request("POST", `${scm}/api/publish?RemoteBuild=false&Deployer=pulumi`, zip, "application/zip"));
    deploymentId = parseDeploymentId(published);
    const statusUrl = `${scm}/api/deployments/${deploymentId || "latest"}`;
    // The publish call may answer before the deployment ends: poll its status until it is final.
    await retrying(async () => {
      const status = parseStatus(await request("GET", statusUrl).catch((error: unknown) => {
        // The deployment record can appear a moment after the publish call returns.
        if (isDeployRequestError(error) && error.status === 404) error.retryable = true;
        throw error;
      }));
      if (status.status === DEPLOY_STATUS.success || status.status === DEPLOY_STATUS.partialSuccess) return;
      if (status.status === DEPLOY_STATUS.failed || status.status === DEPLOY_STATUS.cancelled) {
        const text = status.text || "no status text";
        throw deployRequestError("GET", statusUrl, 200, `deployment ${status.status === DEPLOY_STATUS.failed ? "failed" : "was cancelled"}: ${text}`, /403|Forbidden|AuthorizationPermissionMismatch/i.test(text));
      }
      // Pending, building, deploying or conflicting: not final yet.
      throw deployRequestError("GET", statusUrl, 202, `deployment still running (status ${status.status})`, true);
    });
  }
  // A new package (or the URL of one) takes effect for triggers only after a sync (https://learn.microsoft.com/en-us/azure/azure-functions/functions-deployment-technologies#trigger-syncing).
  const site = `${inputs.armEndpoint.replace(/\/+$/, "")}/subscriptions/${inputs.subscriptionId}/resourceGroups/${inputs.resourceGroupName}/providers/Microsoft.Web/sites/${inputs.appName}`;
  await retrying(() => request("POST", `${site}/syncfunctiontriggers?api-version=${WEB_API_VERSION}`));
  return { ...inputs, deploymentId };
}

/** `/api/publish` answers with the deployment id, as a bare or JSON string, or an object with `id`. */
export function parseDeploymentId(body: string): string {
  const text = body.trim();
  if (!text) return "";
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "string") return parsed;
    if (parsed && typeof parsed === "object" && typeof (parsed as { id?: unknown }).id === "string") return (parsed as { id: string }).id;
    return "";
  } catch {
    return /^[\w-]+$/.test(text) ? text : "";
  }
}

function parseStatus(body: string): { status: number; text: string } {
  const parsed = JSON.parse(body) as { status?: number; status_text?: string; message?: string };
  return { status: typeof parsed.status === "number" ? parsed.status : 0, text: parsed.status_text || parsed.message || "" };
}

/** Properties whose change means deploying again; zipPath is not one (another checkout, same package). */
const REDEPLOY_ON = ["sha256", "method", "armEndpoint", "subscriptionId", "resourceGroupName", "appName", "scmEndpoint"] as const;

export function diffDeployment(olds: CodeDeploymentOutputs, news: CodeDeploymentInputs): pulumi.dynamic.DiffResult {
  const changed = REDEPLOY_ON.filter((key) => olds[key] !== news[key]);
  return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
}

/**
 * The deployer's identity: a service principal from ARM_* variables (what the
 * azure-native provider reads) when they are set, else DefaultAzureCredential
 * (AZURE_* variables, workload identity, managed identity, az login...).
 */
function deployerCredential(): TokenSource {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require("@azure/identity") as typeof import("@azure/identity");
  const env = process.env;
  if (env.ARM_CLIENT_ID && env.ARM_CLIENT_SECRET && env.ARM_TENANT_ID) return new identity.ClientSecretCredential(env.ARM_TENANT_ID, env.ARM_CLIENT_ID, env.ARM_CLIENT_SECRET);
  return new identity.DefaultAzureCredential();
}

function realDeps(): DeployDeps {
  return {
    credential: deployerCredential(),
    clock: { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    log: (message) => console.log(message),
  };
}

export const codeDeploymentProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: CodeDeploymentOutputs, news: CodeDeploymentInputs): Promise<pulumi.dynamic.DiffResult> {
    return diffDeployment(olds, news);
  },
  async create(inputs: CodeDeploymentInputs): Promise<pulumi.dynamic.CreateResult> {
    const outs = await deployCode(inputs, realDeps());
    return { id: `${inputs.appName}/${inputs.sha256.slice(0, 16)}`, outs };
  },
  async update(_id: string, _olds: CodeDeploymentOutputs, news: CodeDeploymentInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await deployCode(news, realDeps()) };
  },
  // The code goes with the app: nothing to undo.
  async delete(): Promise<void> {},
};

export type CodeDeploymentArgs = { [K in keyof CodeDeploymentInputs]: pulumi.Input<CodeDeploymentInputs[K]> };

/** One deployment of the code package (type `pulumi-nodejs:dynamic/azure:CodeDeployment`). */
export class CodeDeployment extends pulumi.dynamic.Resource {
  declare readonly deploymentId: pulumi.Output<string>;
  declare readonly sha256: pulumi.Output<string>;

  constructor(name: string, args: CodeDeploymentArgs, opts?: pulumi.CustomResourceOptions) {
    super(codeDeploymentProvider, name, { ...args, deploymentId: undefined }, opts, "azure", "CodeDeployment");
  }
}

/** The SCM (Kudu) host of an app: the Repository entry of its host names, else `<label>.scm.<rest of the default host name>`. */
export function scmHostName(defaultHostName: string, hostNameSslStates: Array<{ name?: string; hostType?: string }> = []): string {
  const repository = hostNameSslStates.find((state) => state.hostType === "Repository" && state.name)?.name;
  if (repository) return repository;
  const [label, ...rest] = defaultHostName.split(".");
  return [`${label}`, "scm", ...rest].join(".");
}
