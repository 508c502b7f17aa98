import type { ApiSettingsInput } from "../../functions/api/settings";
import { startServer, type RunningServer, type ServeOptions } from "../../local/serve/server";
import { startTestIssuer, type TestIssuer } from "./testIssuer";

/**
 * The local server behind a JWT issuer whose key set is served on 127.0.0.1, so the deployed code
 * path (jose's remote key set) is the one tested: registers mocha `before`/`after` hooks that start
 * both and stop both. Call it inside a `describe`; use the result in the tests.
 */
export interface ServedApi {
  readonly server: RunningServer;
  readonly issuer: TestIssuer;
  /** A request to the API as `sub` (a JWT of the issuer), with a JSON body when one is given (a string is sent as it is). */
  call(sub: string, method: string, path: string, body?: unknown): Promise<Response>;
}

export function servedApi(options: Omit<ServeOptions, "port" | "api"> & { api?: Omit<ApiSettingsInput, "auth"> }, issuerName = "https://issuer.test/", audience = "image-pipeline"): ServedApi {
  let server: RunningServer | undefined;
  let issuer: TestIssuer | undefined;
  before(async () => {
    issuer = await startTestIssuer(issuerName, audience);
    server = await startServer({ ...options, port: 0, api: { ...options.api, auth: { jwt: { issuer: issuerName, audience, jwksUrl: issuer.jwksUrl } } } });
  });
  after(async () => {
    await server?.stop();
    await issuer?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("servedApi: used before its before() hook ran");
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get issuer() {
      return started(issuer);
    },
    async call(sub, method, path, body) {
      const headers: Record<string, string> = { authorization: await started(issuer).bearer(sub), ...(body === undefined ? {} : { "content-type": "application/json" }) };
      return fetch(`${started(server).apiUrl}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
    },
  };
}
