import assert from "node:assert/strict";
import { apiSettingsSchema, parseApiSettings } from "../../../functions/api/settings";
import { LAMBDA_ENV, lambdaApiEnvironment, readLambdaApiSettings } from "../../../functions/aws/contract";
import { APP_SETTINGS, azureApiAppSettings, readAzureApiSettings } from "../../../functions/azure/contract";

describe("functions/api/settings and the contracts' api settings", () => {
  const jwt = { jwt: { issuer: "https://login.example.com/", audience: "photos", jwksUrl: "https://login.example.com/.well-known/jwks.json" } };

  it("defaults to no auth, 300 s uploads and 900 s downloads", () => {
    assert.deepEqual(apiSettingsSchema.parse({}), { auth: "none", uploadUrlSeconds: 300, downloadUrlSeconds: 900 });
  });

  it("refuses a JWT issuer without an https or http URL, and upload URLs living over an hour", () => {
    assert.equal(apiSettingsSchema.safeParse({ auth: { jwt: { ...jwt.jwt, jwksUrl: "file:///etc/keys" } } }).success, false);
    assert.equal(apiSettingsSchema.safeParse({ uploadUrlSeconds: 3601 }).success, false);
    assert.equal(apiSettingsSchema.safeParse({ auth: "jwt" }).success, false);
  });

  it("round-trips through the Lambda environment and the Function App's settings", () => {
    const api = apiSettingsSchema.parse({ auth: jwt, uploadUrlSeconds: 120 });

    const env = lambdaApiEnvironment({ api, deliveryBaseUrl: "https://d111.cloudfront.net" });
    const settings = azureApiAppSettings({ api });

    assert.deepEqual(Object.keys(env).sort(), [LAMBDA_ENV.apiSettings, LAMBDA_ENV.deliveryBaseUrl].sort());
    assert.deepEqual(readLambdaApiSettings(env as NodeJS.ProcessEnv), { api, deliveryBaseUrl: "https://d111.cloudfront.net" });
    assert.deepEqual(readAzureApiSettings(settings), { api, deliveryBaseUrl: undefined });
    assert.equal(settings[APP_SETTINGS.apiSettings], JSON.stringify(api));
  });

  it("reads the CDN base from DELIVERY_BASE_URL, and the empty value the components write without a CDN as none (signed URLs)", () => {
    const api = '{"auth":"none"}';
    assert.equal(readLambdaApiSettings({ API_SETTINGS: api, DELIVERY_BASE_URL: "https://d111.cloudfront.net" }).deliveryBaseUrl, "https://d111.cloudfront.net");
    assert.equal(readAzureApiSettings({ API_SETTINGS: api, DELIVERY_BASE_URL: "https://ip-fd.azurefd.net" }).deliveryBaseUrl, "https://ip-fd.azurefd.net");
    assert.equal(readLambdaApiSettings({ API_SETTINGS: api, DELIVERY_BASE_URL: "" }).deliveryBaseUrl, undefined);
    assert.equal(readAzureApiSettings({ API_SETTINGS: api, DELIVERY_BASE_URL: "" }).deliveryBaseUrl, undefined);
  });

  it("reports a malformed setting as CONFIG_INVALID naming it", () => {
    assert.throws(() => parseApiSettings("{", "Environment variable API_SETTINGS"), { code: "CONFIG_INVALID", message: /^Environment variable API_SETTINGS is not valid JSON/ });
    assert.throws(() => parseApiSettings('{"auth":"open"}', "App setting API_SETTINGS"), { code: "CONFIG_INVALID", message: /^App setting API_SETTINGS holds invalid API settings: auth/ });
  });
});
