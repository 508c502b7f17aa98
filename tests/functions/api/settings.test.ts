import assert from "node:assert/strict";
import { loadConfig } from "../../../components/config";
import { apiSettingsSchema, parseApiSettings } from "../../../functions/api/settings";
import { LAMBDA_ENV, lambdaApiEnvironment, readLambdaApiSettings } from "../../../functions/aws/contract";
import { APP_SETTINGS, azureApiAppSettings, readAzureApiSettings } from "../../../functions/azure/contract";

describe("functions/api/settings and the contracts' api settings", () => {
  const jwt = { jwt: { issuer: "https://login.example.com/", audience: "photos", jwksUrl: "https://login.example.com/.well-known/jwks.json" } };

  it("defaults to no auth, 300 s uploads, 900 s downloads and 300 requests a minute per caller", () => {
    assert.deepEqual(apiSettingsSchema.parse({}), { auth: "none", uploadUrlSeconds: 300, downloadUrlSeconds: 900, rateLimit: { requestsPerMinute: 300 } });
  });

  it("takes an hourly upload limit, and refuses a zero, fractional or unknown rate-limit key", () => {
    assert.deepEqual(apiSettingsSchema.parse({ rateLimit: { requestsPerMinute: 60, uploadsPerHour: 100 } }).rateLimit, { requestsPerMinute: 60, uploadsPerHour: 100 });
    assert.equal(apiSettingsSchema.safeParse({ rateLimit: { requestsPerMinute: 0 } }).success, false);
    assert.equal(apiSettingsSchema.safeParse({ rateLimit: { uploadsPerHour: 1.5 } }).success, false);
    assert.equal(apiSettingsSchema.safeParse({ rateLimit: { requestsPerSecond: 5 } }).success, false);
  });

  it("stops a stack with a bad or misspelt rate-limit key with CONFIG_INVALID naming it", () => {
    assert.throws(() => loadConfig({ api: { rateLimit: { requestsPerMinute: 0 } } }), { code: "CONFIG_INVALID", message: /image-pipeline:api\.rateLimit\.requestsPerMinute: Too small: expected number to be >=1 \(got 0\)/ });
    assert.throws(() => loadConfig({ api: { rateLimit: { requestPerMinute: 10 } } }), { code: "CONFIG_INVALID", message: /did you mean "image-pipeline:api\.rateLimit\.requestsPerMinute"/ });
  });

  it("refuses a JWT issuer without an https or http URL, and upload URLs living over an hour", () => {
    assert.equal(apiSettingsSchema.safeParse({ auth: { jwt: { ...jwt.jwt, jwksUrl: "file:///etc/keys" } } }).success, false);
    assert.equal(apiSettingsSchema.safeParse({ uploadUrlSeconds: 3601 }).success, false);
    assert.equal(apiSettingsSchema.safeParse({ auth: "jwt" }).success, false);
  });

  it("round-trips through the Lambda environment and the Function App's settings", () => {
    const api = apiSettingsSchema.parse({ auth: jwt, uploadUrlSeconds: 120 });

    const env = lambdaApiEnvironment({ api, deliveryBaseUrl: "https://d111.cloudfront.net", rateLimitTable: "ip-api-rate-limits" });
    const settings = azureApiAppSettings({ api, rateLimitTable: "apiratelimits" });

    assert.deepEqual(Object.keys(env).sort(), [LAMBDA_ENV.apiSettings, LAMBDA_ENV.deliveryBaseUrl, LAMBDA_ENV.rateLimitTable].sort());
    assert.deepEqual(readLambdaApiSettings(env as NodeJS.ProcessEnv), { api, deliveryBaseUrl: "https://d111.cloudfront.net", rateLimitTable: "ip-api-rate-limits" });
    assert.deepEqual(readAzureApiSettings(settings), { api, deliveryBaseUrl: undefined, rateLimitTable: "apiratelimits", frontDoorId: undefined });
    assert.equal(settings.RATE_LIMIT_TABLE, "apiratelimits");
    assert.equal(settings[APP_SETTINGS.apiSettings], JSON.stringify(api));
  });

  it("reads the CDN base from DELIVERY_BASE_URL, and the empty value the components write without a CDN as none (signed URLs)", () => {
    const api = '{"auth":"none"}';
    assert.equal(readLambdaApiSettings({ API_SETTINGS: api, DELIVERY_BASE_URL: "https://d111.cloudfront.net" }).deliveryBaseUrl, "https://d111.cloudfront.net");
    assert.equal(readAzureApiSettings({ API_SETTINGS: api, DELIVERY_BASE_URL: "https://ip-fd.azurefd.net" }).deliveryBaseUrl, "https://ip-fd.azurefd.net");
    assert.equal(readLambdaApiSettings({ API_SETTINGS: api, DELIVERY_BASE_URL: "" }).deliveryBaseUrl, undefined);
    assert.equal(readAzureApiSettings({ API_SETTINGS: api, DELIVERY_BASE_URL: "" }).deliveryBaseUrl, undefined);
  });

  it("writes FRONT_DOOR_ID only behind Front Door, and reads it back", () => {
    const api = apiSettingsSchema.parse({ auth: jwt });

    const behind = azureApiAppSettings({ api, rateLimitTable: "apiratelimits", frontDoorId: "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69" });

    assert.equal(behind.FRONT_DOOR_ID, "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69");
    assert.equal(readAzureApiSettings(behind).frontDoorId, "5f0c2b1a-7d3e-4c6b-9a8f-1e2d3c4b5a69");
    assert.equal("FRONT_DOOR_ID" in azureApiAppSettings({ api, rateLimitTable: "apiratelimits" }), false);
    assert.equal(readAzureApiSettings({ API_SETTINGS: '{"auth":"none"}', FRONT_DOOR_ID: "" }).frontDoorId, undefined);
  });

  it("reports a malformed setting as CONFIG_INVALID naming it", () => {
    assert.throws(() => parseApiSettings("{", "Environment variable API_SETTINGS"), { code: "CONFIG_INVALID", message: /^Environment variable API_SETTINGS is not valid JSON/ });
    assert.throws(() => parseApiSettings('{"auth":"open"}', "App setting API_SETTINGS"), { code: "CONFIG_INVALID", message: /^App setting API_SETTINGS holds invalid API settings: auth/ });
  });
});
