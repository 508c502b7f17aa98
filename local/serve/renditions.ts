import { Hono } from "hono";
import { isPipelineError } from "../../functions/core/errors";
import type { ObjectStore } from "../../functions/ports";

/**
 * Renditions served the way the CDN serves them: long immutable caching (URLs carry the
 * job id as `?v=`, so a reprocess changes them), and format negotiation on `Accept` for a
 * JPEG request: AVIF if the browser takes it and the file exists, else WebP, else the JPEG.
 */

/** A year, immutable: the CDN's caching of renditions. */
export const RENDITION_CACHE_CONTROL = "public, max-age=31536000, immutable";

const CONTENT_TYPES: Record<string, string> = {
  avif: "image/avif",
  webp: "image/webp",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  json: "application/json",
};

/** The keys to try for `key`, best first, given the request's Accept header. */
export function negotiatedKeys(key: string, accept: string | undefined): string[] {
  const match = /^(.*)\.(jpe?g)$/i.exec(key);
  if (!match) return [key];
  // As the CloudFront Function does: a type listed with q=0 is refused, a wildcard promises no format.
  const accepts = (type: string) =>
    (accept ?? "")
      .toLowerCase()
      .split(",")
      .some((part) => {
        const [name, ...params] = part.split(";").map((piece) => piece.trim());
        return name === type && !params.some((param) => param.startsWith("q=") && !(Number.parseFloat(param.slice(2)) > 0));
      });
  return [...(accepts("image/avif") ? [`${match[1]}.avif`] : []), ...(accepts("image/webp") ? [`${match[1]}.webp`] : []), key];
}

/** `GET /<key>` from the renditions area. */
export function renditionsRoute(objects: ObjectStore): Hono {
  const app = new Hono();
  app.get("/*", async (c) => {
    const key = decodeURIComponent(c.req.path.replace(/^\/renditions\//, "").replace(/^\//, ""));
    // The AWS flavour keeps intermediates under `work/` of the renditions bucket: never served, as at the edge.
    if (key === "work" || key.startsWith("work/")) return c.json({ code: "NOT_FOUND", message: `No rendition ${key}.` }, 404);
    for (const candidate of negotiatedKeys(key, c.req.header("accept"))) {
      const body = await objects.get("renditions", candidate).catch((thrown: unknown) => {
        if (isPipelineError(thrown) && thrown.code === "NOT_FOUND") return undefined;
        throw thrown;
      });
      if (!body) continue;
      const extension = candidate.slice(candidate.lastIndexOf(".") + 1).toLowerCase();
      c.header("Content-Type", CONTENT_TYPES[extension] ?? "application/octet-stream");
      c.header("Cache-Control", RENDITION_CACHE_CONTROL);
      c.header("Vary", "Accept");
      return c.body(new Uint8Array(body), 200);
    }
    return c.json({ code: "NOT_FOUND", message: `No rendition ${key}.` }, 404);
  });
  return app;
}
