import { z } from "@hono/zod-openapi";

/**
 * The API's request and response shapes: zod validates requests with them and the
 * OpenAPI document (`/openapi.json`) is generated from them, so the two cannot drift.
 */

export const errorSchema = z
  .object({
    code: z.string().openapi({ example: "TOO_LARGE" }),
    message: z.string().openapi({ example: "The file is 80000000 bytes; at most 52428800 are accepted." }),
    requestId: z.string().openapi({ example: "4f1c2b0e-1d5a-4d3c-9a1e-3b9a0c1d2e3f" }),
  })
  .openapi("Error");

export const uploadRequestSchema = z
  .strictObject({
    filename: z.string().min(1).max(1024).openapi({ example: "cat.jpg", description: "The file's name; only its last segment's safe characters are kept." }),
    contentType: z.string().min(1).max(255).openapi({ example: "image/jpeg" }),
    bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).openapi({ example: 2_400_000, description: "The file's exact size in bytes." }),
  })
  .openapi("UploadRequest");

export const uploadResponseSchema = z
  .object({
    uploadId: z.uuid().openapi({ example: "0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11" }),
    method: z.enum(["POST", "PUT"]).openapi({ description: "POST: a multipart form with `fields` then the file as `file` (AWS). PUT: the raw bytes with `headers` (Azure)." }),
    url: z.url(),
    fields: z.record(z.string(), z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    expiresAt: z.iso.datetime(),
  })
  .openapi("Upload");

export const uploadIdParamsSchema = z.object({
  uploadId: z.uuid().openapi({ param: { name: "uploadId", in: "path" }, example: "0b8e6a52-3c1f-4e55-9a57-5d0b9c7e2a11" }),
});

const renditionSchema = z
  .object({
    name: z.string(),
    kind: z.enum(["rendition", "effect"]),
    format: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    bytes: z.number().int(),
    contentType: z.string(),
    url: z.string().openapi({ description: "CDN URL, or a short-lived signed URL when renditions are private." }),
  })
  .openapi("Rendition");

const responsiveSchema = z
  .object({
    name: z.string(),
    sizes: z.string(),
    srcset: z.record(z.string(), z.string()),
    picture: z.string().openapi({ description: "A ready <picture> element; its URLs are relative to `baseUrl`." }),
  })
  .openapi("ResponsiveSet");

export const JOB_STATUSES = ["pending", "processing", "succeeded", "failed"] as const;
export type ApiJobStatus = (typeof JOB_STATUSES)[number];

export const jobResponseSchema = z
  .object({
    uploadId: z.uuid(),
    status: z.enum(JOB_STATUSES).openapi({ description: "pending: signed but not uploaded yet, or uploaded and queued (also while a newer upload replaces a job that had begun); processing; succeeded; failed." }),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    manifest: z
      .object({
        createdAt: z.string(),
        source: z.object({ width: z.number().int(), height: z.number().int(), format: z.string() }),
        baseUrl: z.string().optional().openapi({ description: "The outputs' common URL prefix (CDN), which the markup's relative URLs resolve against." }),
        outputs: z.array(renditionSchema),
        placeholder: z.string().optional().openapi({ description: "A tiny blurred image as a data URI." }),
        responsive: z.array(responsiveSchema).optional(),
      })
      .optional(),
  })
  .openapi("Job");

export type JobResponse = z.infer<typeof jobResponseSchema>;
export type UploadResponse = z.infer<typeof uploadResponseSchema>;
