import { createHash } from "node:crypto";
import type { OutputRef } from "./types";

/**
 * Where every object of a job lives. Outputs sit next to each other under a
 * prefix made from the whole upload key, extension included:
 * `photos/cat.jpg` → `photos/cat.jpg/thumb.webp`, `photos/cat.jpg/manifest.json`.
 *
 * The mapping from upload key to prefix is one-to-one, so two uploads never
 * share outputs, and the prefix is a valid key on both stores that never
 * leaves the renditions area. Each `/`-separated segment is kept as it is,
 * except that a `!` is appended to a segment that is empty, ends with `.` or `!`
 * (so `.` and `..` too), or is a first segment the store reserves (`work`):
 * `..jpg` stays `..jpg`, `...` → `...!`, `a//b.png` → `a/!/b.png`, `work/x.jpg` → `work!/x.jpg`.
 * Reversing it drops one trailing `!` from every segment that has one.
 * A prefix that would not leave room for the output names (keys over 960 bytes
 * or 253 segments) keeps its leading segments and ends with `sha256-<hex of the key>!`;
 * the manifest's `sourceKey` names the upload then. Bytes are counted as JSON writes the
 * prefix (a quote or backslash takes 2, a control character 6): every output key travels
 * in the workflow's state, which Step Functions caps at 256 KiB and whose overflow no
 * catcher can catch (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html),
 * so a key of control characters must not make each output key six times longer.
 */

/** S3 keys are at most 1,024 UTF-8 bytes: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html */
export const MAX_KEY_BYTES = 1024;
/** Azure blob names are at most 1,024 characters (never more than their UTF-8 bytes) and 254 segments: https://learn.microsoft.com/rest/api/storageservices/Naming-and-Referencing-Containers--Blobs--and-Metadata */
export const MAX_KEY_SEGMENTS = 254;
/** Room kept for `/` plus the longest output file name (`effect-<name>.webp`, `<32-char rendition>.avif`, `manifest.json`). */
export const MAX_OUTPUT_NAME_BYTES = 63;
export const MAX_PREFIX_BYTES = MAX_KEY_BYTES - 1 - MAX_OUTPUT_NAME_BYTES;
export const MAX_PREFIX_SEGMENTS = MAX_KEY_SEGMENTS - 1;

/** `!` is one of S3's safe key characters and means nothing in a blob name. */
const ESCAPE = "!";
/** AWS keeps intermediates under `work/` in the renditions bucket (functions/aws/contract.ts WORK_PREFIX): outputs stay out of it on every cloud. */
const RESERVED_FIRST_SEGMENTS: readonly string[] = ["work"];
const LONG_KEY_SEGMENT = /^sha256-[0-9a-f]{64}!$/;

/** A text's bytes in JSON, quotes left out: its UTF-8 bytes for plain text. */
const jsonBytes = (text: string): number => Buffer.byteLength(JSON.stringify(text), "utf8") - 2;

/** Azure advises against segments ending with a dot: https://learn.microsoft.com/rest/api/storageservices/Naming-and-Referencing-Containers--Blobs--and-Metadata */
function isEscaped(segment: string, first: boolean): boolean {
  return segment === "" || segment.endsWith(".") || segment.endsWith(ESCAPE) || (first && RESERVED_FIRST_SEGMENTS.includes(segment));
}

/**
 * The prefix every output of the upload `sourceKey` lives under (no trailing `/`).
 *
 * @example outputPrefix("photos/cat.jpg") // "photos/cat.jpg"
 * @example outputPrefix("../x.png") // "..!/x.png"
 */
export function outputPrefix(sourceKey: string): string {
  const segments = sourceKey.split("/").map((segment, i) => (isEscaped(segment, i === 0) ? `${segment}${ESCAPE}` : segment));
  const prefix = segments.join("/");
  if (jsonBytes(prefix) <= MAX_PREFIX_BYTES && segments.length <= MAX_PREFIX_SEGMENTS) return prefix;
  return longKeyPrefix(sourceKey, segments);
}

/** Leading whole segments that fit, then the key's SHA-256: a segment the escaping above never produces. */
function longKeyPrefix(sourceKey: string, segments: string[]): string {
  const last = `sha256-${createHash("sha256").update(sourceKey, "utf8").digest("hex")}${ESCAPE}`;
  const head: string[] = [];
  let bytes = last.length;
  for (const segment of segments.slice(0, MAX_PREFIX_SEGMENTS - 1)) {
    bytes += jsonBytes(segment) + 1;
    if (bytes > MAX_PREFIX_BYTES) break;
    head.push(segment);
  }
  return [...head, last].join("/");
}

/**
 * The upload key a prefix was made from, or undefined for a long key's prefix
 * (read `sourceKey` from its manifest instead).
 *
 * @example sourceKeyOf("..!/x.png") // "../x.png"
 */
export function sourceKeyOf(prefix: string): string | undefined {
  const segments = prefix.split("/");
  if (LONG_KEY_SEGMENT.test(segments[segments.length - 1])) return undefined;
  return segments.map((segment) => (segment.endsWith(ESCAPE) ? segment.slice(0, -ESCAPE.length) : segment)).join("/");
}

export function outputKey(sourceKey: string, kind: OutputRef["kind"], name: string, extension: string): string {
  return `${outputPrefix(sourceKey)}/${outputFileName(kind, name, extension)}`;
}

/** An output's key relative to its prefix, as markup in the manifest names it: `thumb.webp`, `effect-sepia.jpg`. */
export function outputFileName(kind: OutputRef["kind"], name: string, extension: string): string {
  // Effects are prefixed so a rendition named like an effect cannot overwrite it.
  return `${kind === "effect" ? `effect-${name}` : name}.${extension}`;
}

export function manifestKey(sourceKey: string): string {
  return `${outputPrefix(sourceKey)}/manifest.json`;
}

export function workKey(jobId: string, kind: OutputRef["kind"], name: string, extension: string): string {
  return `${jobId}/${kind}-${name}.${extension}`;
}
