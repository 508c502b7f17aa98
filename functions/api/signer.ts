/**
 * What the API asks of a cloud's storage: a short-lived direct upload of exactly one
 * object, and a short-lived read of one rendition. AWS: presigned POST and GET
 * (functions/aws/apiSigner.ts); Azure: SAS tokens (functions/azure/apiSigner.ts).
 */

export interface UploadGrant {
  /** POST: a multipart form, `fields` first, then the file as `file`. PUT: the raw bytes with `headers`. */
  method: "POST" | "PUT";
  url: string;
  fields?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface UploadRequestToSign {
  /** The key in the uploads area; nothing else can be written with the grant. */
  key: string;
  contentType: string;
  /** The declared size: the grant refuses a larger body where the store can enforce it. */
  bytes: number;
  expiresAt: Date;
}

export interface StorageSigner {
  signUpload(request: UploadRequestToSign): Promise<UploadGrant>;
  /** A GET URL of one object of the renditions area, valid until `expiresAt`. */
  signDownload(key: string, expiresAt: Date): Promise<string>;
}
