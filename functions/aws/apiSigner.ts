import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { StorageSigner, UploadGrant, UploadRequestToSign } from "../api/signer";

/**
 * The API's signer on AWS: a presigned POST for the upload (its policy pins the key, the
 * content type and the size range, and expires) and presigned GETs for private renditions.
 * Both are signed with the function's own role, so they can do no more than it may.
 */

export interface S3SignerSettings {
  s3: S3Client;
  uploadsBucket: string;
  renditionsBucket: string;
}

/** Whole seconds from now until `expiresAt`, at least 1 (the SDKs take a lifetime, not a time). */
function secondsUntil(expiresAt: Date): number {
  return Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 1000));
}

export class S3Signer implements StorageSigner {
  constructor(private readonly settings: S3SignerSettings) {}

  async signUpload({ key, contentType, bytes, expiresAt }: UploadRequestToSign): Promise<UploadGrant> {
    // POST policy: an exact key, `eq` on Content-Type, `content-length-range` and an expiration: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
    const { url, fields } = await createPresignedPost(this.settings.s3, {
      Bucket: this.settings.uploadsBucket,
      Key: key,
      Conditions: [
        ["content-length-range", 1, bytes],
        ["eq", "$Content-Type", contentType],
      ],
      Fields: { "Content-Type": contentType },
      Expires: secondsUntil(expiresAt),
    });
    return { method: "POST", url, fields };
  }

  async signDownload(key: string, expiresAt: Date): Promise<string> {
    return getSignedUrl(this.settings.s3, new GetObjectCommand({ Bucket: this.settings.renditionsBucket, Key: key }), { expiresIn: secondsUntil(expiresAt) });
  }
}
