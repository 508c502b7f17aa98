import * as pulumi from "@pulumi/pulumi";

/**
 * The principal type of the identity running `pulumi up`, read from its own
 * Entra ID access token when the stack is deployed (not guessed from a client id).
 *
 * Role assignments must state it: azure-native sends "User" when none is given,
 * and ARM refuses an assignment whose type does not match the principal
 * (UnmatchedPrincipalType, https://github.com/Azure/modern-web-app-pattern-dotnet/pull/129).
 * An app-only token (service principal, OIDC/workload identity, managed identity)
 * says `idtyp: "app"` and has no `scp`; a user's token has `scp`
 * (https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference).
 *
 * The check also makes sure the credential the deploy steps use (ARM_* variables,
 * else DefaultAzureCredential) is the identity azure-native signed in as.
 * The provider's functions are serialized by Pulumi: `require` inside bodies only.
 */

export type PrincipalType = "User" | "ServicePrincipal";

export interface DeployerPrincipalInputs {
  /** The object id azure-native's getClientConfig reports. */
  objectId: string;
}

export interface DeployerPrincipalOutputs extends DeployerPrincipalInputs {
  principalType: PrincipalType;
}

/**
 * @throws {Error} when the token is not a JWT, or names another principal than `expectedObjectId`.
 */
export function principalTypeFromToken(accessToken: string, expectedObjectId: string): PrincipalType {
  const payload = accessToken.split(".")[1];
  if (!payload) throw new Error("The deployer's access token is not a JWT; cannot tell a user from a service principal.");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { oid?: string; idtyp?: string; scp?: string };
  if (claims.oid && claims.oid.toLowerCase() !== expectedObjectId.toLowerCase()) {
    throw new Error(
      `azure-native is signed in as object ${expectedObjectId}, but the deploy credential (ARM_* variables, else DefaultAzureCredential: AZURE_* variables, managed identity, az login) is object ${claims.oid}. Sign both in as the same identity, e.g. unset ARM_* and AZURE_* and use az login, then run \`pulumi up\` again.`,
    );
  }
  if (claims.idtyp === "app") return "ServicePrincipal";
  if (claims.idtyp === "user") return "User";
  return claims.scp ? "User" : "ServicePrincipal";
}

async function readPrincipalType(inputs: DeployerPrincipalInputs): Promise<DeployerPrincipalOutputs> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require("@azure/identity") as typeof import("@azure/identity");
  const env = process.env;
  const credential =
    env.ARM_CLIENT_ID && env.ARM_CLIENT_SECRET && env.ARM_TENANT_ID
      ? new identity.ClientSecretCredential(env.ARM_TENANT_ID, env.ARM_CLIENT_ID, env.ARM_CLIENT_SECRET)
      : new identity.DefaultAzureCredential();
  const token = await credential.getToken("https://management.azure.com/.default");
  if (!token?.token) throw new Error("No Entra ID token for Azure Resource Manager: sign in with az login, or set the ARM_*/AZURE_* variables azure-native uses.");
  return { ...inputs, principalType: principalTypeFromToken(token.token, inputs.objectId) };
}

export const deployerPrincipalProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: DeployerPrincipalOutputs, news: DeployerPrincipalInputs): Promise<pulumi.dynamic.DiffResult> {
    // Another person or pipeline runs `pulumi up`: read the type again.
    return { changes: olds.objectId !== news.objectId, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: DeployerPrincipalInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: inputs.objectId, outs: await readPrincipalType(inputs) };
  },
  async update(_id: string, _olds: DeployerPrincipalOutputs, news: DeployerPrincipalInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await readPrincipalType(news) };
  },
  async delete(): Promise<void> {},
};

/** The deployer's principal type (type `pulumi-nodejs:dynamic/azure:DeployerPrincipal`); nothing is created in Azure. */
export class DeployerPrincipal extends pulumi.dynamic.Resource {
  declare readonly principalType: pulumi.Output<PrincipalType>;

  constructor(name: string, args: { objectId: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(deployerPrincipalProvider, name, { ...args, principalType: undefined }, opts, "azure", "DeployerPrincipal");
  }
}
