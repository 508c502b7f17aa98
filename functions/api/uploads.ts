import type { InputFormat } from "../core/options";
import { ownerSegment } from "./auth";

/**
 * Where a caller's uploads live and what they may upload. Every upload key is
 * `users/<owner>/<uploadId>/<file name>`: the owner is a hash of the caller's subject
 * (auth.ts), the upload id a random UUID, the file name reduced to safe characters,
 * so a key never leaves its caller's prefix whatever the request held.
 */

/** The content types a browser sends for each input format the pipeline can accept. */
export const CONTENT_TYPES_BY_FORMAT: Readonly<Record<InputFormat, readonly string[]>> = {
  jpeg: ["image/jpeg"],
  png: ["image/png"],
  webp: ["image/webp"],
  avif: ["image/avif"],
  gif: ["image/gif"],
  tiff: ["image/tiff"],
  svg: ["image/svg+xml"],
  heif: ["image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"],
  jp2: ["image/jp2"],
};

/** The content types accepted under `limits.formats`. */
export function acceptedContentTypes(formats: readonly InputFormat[]): string[] {
  return formats.flatMap((format) => CONTENT_TYPES_BY_FORMAT[format]);
}

/** The longest file name kept in a key; the rest of the name is dropped before the extension. */
export const MAX_FILE_NAME_LENGTH = 100;

/**
 * The last path segment of `filename` with only letters, digits, `.`, `_` and `-`
 * (anything else becomes `_`), no leading dots, at most 100 characters: never a
 * separator, `.` or `..`, whatever a browser or an attacker sent.
 *
 * @example safeFileName("../../etc/passwd") // "passwd"
 * @example safeFileName("Ferien 2024/Strand.JPG") // "Strand.JPG"
 */
export function safeFileName(filename: string): string {
  const last = filename.split(/[/\\]/).filter((part) => part !== "").pop() ?? "";
  // Accents come off (é → e); every other character outside the safe set becomes `_`.
  let name = last.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[._]+/, "");
  if (name.length > MAX_FILE_NAME_LENGTH) {
    const dot = name.lastIndexOf(".");
    const extension = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : "";
    name = name.slice(0, MAX_FILE_NAME_LENGTH - extension.length) + extension;
  }
  return name === "" ? "upload" : name;
}

/** Every upload made through the API is under this prefix (the API's IAM grants and the delivery components scope to it). */
export const UPLOAD_KEY_PREFIX = "users/";

/** Where the API notes the uploads it signed, in the work area (expired with it after a day). */
export const TICKET_PREFIX = "api/uploads/";

/** The prefix every key of one upload of one caller starts with (ends with `/`). */
export function uploadPrefix(subject: string, uploadId: string): string {
  return `${UPLOAD_KEY_PREFIX}${ownerSegment(subject)}/${uploadId}/`;
}

export function uploadKey(subject: string, uploadId: string, filename: string): string {
  return `${uploadPrefix(subject, uploadId)}${safeFileName(filename)}`;
}

/** Where the API notes an upload it signed, until the file arrives (the work area expires it). */
export function ticketKey(subject: string, uploadId: string): string {
  return `${TICKET_PREFIX}${ownerSegment(subject)}/${uploadId}.json`;
}

/** What the API notes when it signs an upload, so the upload is `pending` (not unknown) before its file lands. */
export interface UploadTicket {
  uploadId: string;
  key: string;
  contentType: string;
  bytes: number;
  expiresAt: string;
}
