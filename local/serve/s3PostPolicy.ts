import { createHmac, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { AwsCredentials } from "../../functions/aws/adapters";

/**
 * S3's checks of a browser POST upload, in front of s3rver, which stores a POST without
 * reading its policy (s3rver lib/controllers/object.js: `policy` is "unimplemented"). Checked
 * as S3 documents them: the SigV4 signature of the policy, its expiration, and each
 * condition (`eq` / exact match, `starts-with`, `content-length-range`):
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 * A passing form goes on to s3rver unchanged; a failing one gets S3's 403/400 and is stored nowhere.
 */

type Condition = Record<string, string> | [string, string, string] | ["content-length-range", number, number];

interface Policy {
  expiration: string;
  conditions: Condition[];
}

function refusal(status: 400 | 403, code: string, message: string): Response {
  return new Response(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`, { status, headers: { "content-type": "application/xml" } });
}

/** SigV4's signing key: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html */
function signingKey(secret: string, date: string, region: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), "s3"), "aws4_request");
}

/** Why the form breaks its policy, or undefined when it keeps it. */
export function policyViolation(fields: ReadonlyMap<string, string>, fileBytes: number, credentials: AwsCredentials, now: Date): { status: 400 | 403; code: string; message: string } | undefined {
  const encoded = fields.get("policy");
  const credential = fields.get("x-amz-credential") ?? "";
  const signature = fields.get("x-amz-signature") ?? "";
  if (!encoded) return { status: 403, code: "AccessDenied", message: "Bucket POST must contain a policy." };
  const [accessKey, date, region] = credential.split("/");
  if (accessKey !== credentials.accessKeyId || !date || !region) return { status: 403, code: "InvalidAccessKeyId", message: "The AWS access key Id you provided does not exist in our records." };
  const expected = createHmac("sha256", signingKey(credentials.secretAccessKey, date, region)).update(encoded).digest();
  const given = Buffer.from(signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { status: 403, code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided." };
  const policy = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as Policy;
  if (!(Date.parse(policy.expiration) > now.getTime())) return { status: 403, code: "AccessDenied", message: "Invalid according to Policy: Policy expired." };
  for (const condition of policy.conditions) {
    if (Array.isArray(condition) && condition[0] === "content-length-range") {
      const [, min, max] = condition as [string, number, number];
      if (fileBytes < min) return { status: 400, code: "EntityTooSmall", message: "Your proposed upload is smaller than the minimum allowed size." };
      if (fileBytes > max) return { status: 400, code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed size." };
      continue;
    }
    const [operator, field, value] = Array.isArray(condition) ? (condition as [string, string, string]) : ["eq", `$${Object.keys(condition)[0]}`, Object.values(condition)[0]];
    const name = field.replace(/^\$/, "").toLowerCase();
    // The bucket is the URL's, not a form field.
    if (name === "bucket") continue;
    const actual = fields.get(name);
    const holds = operator === "starts-with" ? actual !== undefined && actual.startsWith(value) : actual === value;
    if (!holds) return { status: 403, code: "AccessDenied", message: `Invalid according to Policy: Policy Condition failed: ["${operator}", "$${name}", "${value}"]` };
  }
  return undefined;
}

/** `POST /s3/<bucket>`: the form checked, then passed on to s3rver at `target`. */
export function s3PostPolicyGate(target: string, credentials: AwsCredentials, now: () => Date = () => new Date()): Hono {
  const app = new Hono();
  app.post("/s3/:bucket", async (c) => {
    let form: FormData;
    try {
      form = await c.req.formData();
    } catch {
      return refusal(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.");
    }
    const fields = new Map<string, string>();
    let file: Blob | undefined;
    for (const [name, value] of form.entries()) {
      if (name === "file") file = typeof value === "string" ? new Blob([value]) : value;
      else if (typeof value === "string") fields.set(name.toLowerCase(), value);
    }
    if (!file) return refusal(400, "InvalidArgument", "POST requires exactly one file upload per request.");
    const violation = policyViolation(fields, file.size, credentials, now());
    if (violation) return refusal(violation.status, violation.code, violation.message);
    const response = await fetch(`${target}/${encodeURIComponent(c.req.param("bucket"))}`, { method: "POST", body: form });
    return new Response(response.body, { status: response.status, headers: response.headers });
  });
  return app;
}
