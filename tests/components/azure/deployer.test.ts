import * as assert from "node:assert/strict";
import { deployerPrincipalProvider, principalTypeFromToken } from "../../../components/azure/deployer";

/** An unsigned JWT with these claims: only the payload is read. */
const jwt = (claims: Record<string, unknown>) => ["e30", Buffer.from(JSON.stringify(claims)).toString("base64url"), "sig"].join(".");

const OBJECT_ID = "11111111-1111-4111-8111-111111111111";

describe("the deployer's principal type, from its token", () => {
  it("is ServicePrincipal for an app-only token (service principal, OIDC, managed identity)", () => {
    assert.equal(principalTypeFromToken(jwt({ oid: OBJECT_ID, idtyp: "app", roles: [] }), OBJECT_ID), "ServicePrincipal");
    assert.equal(principalTypeFromToken(jwt({ oid: OBJECT_ID }), OBJECT_ID), "ServicePrincipal");
  });

  it("is User for a user's token (az login)", () => {
    assert.equal(principalTypeFromToken(jwt({ oid: OBJECT_ID, scp: "user_impersonation", upn: "dev@example.com" }), OBJECT_ID), "User");
    assert.equal(principalTypeFromToken(jwt({ oid: OBJECT_ID, idtyp: "user" }), OBJECT_ID), "User");
  });

  it("refuses a deploy credential that is another identity than azure-native's", () => {
    assert.throws(() => principalTypeFromToken(jwt({ oid: "22222222-2222-4222-8222-222222222222", scp: "user_impersonation" }), OBJECT_ID), /azure-native is signed in as object 1111.*is object 2222.*same identity/);
  });

  it("refuses something that is not a JWT", () => {
    assert.throws(() => principalTypeFromToken("opaque-token", OBJECT_ID), /not a JWT/);
  });

  it("reads the type again only when another identity deploys", async () => {
    const olds = { objectId: OBJECT_ID, principalType: "User" as const };

    assert.equal((await deployerPrincipalProvider.diff!(OBJECT_ID, olds, { objectId: OBJECT_ID })).changes, false);
    assert.equal((await deployerPrincipalProvider.diff!(OBJECT_ID, olds, { objectId: "22222222-2222-4222-8222-222222222222" })).changes, true);
  });
});
