import type { CropBox, ImageInfo, Previews } from "../core/types";
import type { OutputFormat } from "../core/options";
import type { ChoiceReason, SkipReason, StoredFormat } from "../core/optimize";

/**
 * Payloads between workflow steps. They carry object keys, never image bytes:
 * Step Functions caps a payload at 256 KB and Durable histories grow with them.
 */

/** What the trigger starts a run with. `jobId` is derived from key, etag and version when absent. */
export interface StartInput {
  sourceKey: string;
  sourceEtag?: string;
  /**
   * The S3 version id of the upload (the uploads bucket is versioned). S3's ETag
   * is the content's MD5, so without it a re-upload of the same bytes would look
   * like a duplicate event and never run again. Azure's ETag changes on every
   * write, so Azure needs no version. Every step reads this version (and ETag) of
   * the upload, never a newer one (ObjectStore.get).
   */
  sourceVersion?: string;
  jobId?: string;
  /**
   * Set by a reprocess: its run id, part of the job id (./jobId.ts), so each
   * reprocess records a new job per image. Absent for uploads.
   */
  generation?: string;
  /**
   * Identity of this workflow run (Step Functions execution id, Durable instance id).
   * Lets Validate tell its own retry (same run) from a duplicate event (another run).
   */
  runId?: string;
}

export interface ValidatedJob {
  jobId: string;
  sourceKey: string;
  /** The ETag of the upload this job renders: the event's, or the one Validate read when the event named none. */
  sourceEtag?: string;
  /** The S3 version id this job renders, likewise (see StartInput.sourceVersion). */
  sourceVersion?: string;
  /** True when this upload event was already taken by another run: the workflow ends here. */
  duplicate: boolean;
  /** Set for a reprocess run (StartInput.generation): NotifySuccess then removes renditions no longer configured. */
  generation?: string;
  image?: ImageInfo;
  /** Set when Validate found its version already replaced or deleted: the later steps write nothing (./current.ts). */
  superseded?: Superseded;
}

/**
 * The upload's newest version when it is no longer the one a job renders (./current.ts): a newer
 * upload's ETag and S3 version id, or neither when the upload is gone. The job writes nothing more.
 */
export interface Superseded {
  etag?: string;
  versionId?: string;
}

/**
 * A final output Resize or ApplyFilters wrote to its key (keys.ts outputKey), as Optimize
 * publishes it: it exists once the step returned it (the step awaited its write).
 */
export interface OutputRef {
  key: string;
  name: string;
  kind: "rendition" | "effect";
  /** The file's format: a configured one, `png` where a graphic is smaller lossless, or `gif` (animated, `animated: keep`). */
  format: StoredFormat;
  /** The configured format this file serves (a PNG or an animated GIF serves the JPEG's place). */
  slot: OutputFormat;
  width: number;
  height: number;
  /** Animated outputs (`animated: keep`): their frame count. */
  frames?: number;
  animated?: true;
  bytes: number;
  contentType: string;
  /** Why it was stored (see the core's decideVariants). */
  chosen: ChoiceReason;
  lossless?: boolean;
  /** Set for cropped (`cover`) renditions: the part of the source they show. */
  crop?: CropBox;
}

/** An encode Optimize's choice left out: never written. */
export interface SkippedOutput {
  name: string;
  kind: "rendition" | "effect";
  format: StoredFormat;
  slot: OutputFormat;
  lossless?: boolean;
  bytes: number;
  reason: SkipReason;
  /** The key of the stored file (an entry of the manifest's `outputs`) that serves in its place. */
  servedBy: string;
}

/** What Resize and ApplyFilters return: references to the outputs they wrote, never bytes. */
export interface StepOutputs {
  outputs: OutputRef[];
  skipped?: SkippedOutput[];
  placeholder?: { dataUri: string; width: number; height: number; bytes: number };
  /** Compact previews (`placeholders` config), computed by Resize from its smallest rendition. */
  previews?: Previews;
  /** Set when the step found the job's upload replaced before its first write: it wrote nothing (`outputs` is empty). */
  superseded?: Superseded;
}

export interface ProcessedJob extends ValidatedJob {
  /** Results of the parallel branches, in branch order (Resize, ApplyFilters). */
  processed: StepOutputs[];
}

export interface ManifestEntry {
  key: string;
  name: string;
  kind: "rendition" | "effect";
  /** `gif` only for animated renditions in JPEG's place (`animated: keep`). */
  format: StoredFormat;
  /** The configured format this file serves: `png` and `gif` (animated) serve `jpeg`'s. */
  slot: OutputFormat;
  /** Why this file was stored: `fallback`, `smallest`, `lossless-smaller`, `kept-larger` or `configured`. */
  chosen: ChoiceReason;
  lossless?: boolean;
  width: number;
  height: number;
  /** Animated outputs: their frame count (`animated: keep`). */
  frames?: number;
  animated?: true;
  bytes: number;
  /** Bytes saved versus the original upload (negative if larger). */
  savedBytes: number;
  contentType: string;
  /** Cropped (`cover`) renditions: the part of the upright source shown, in source pixels. */
  crop?: CropBox;
}

export interface Manifest {
  jobId: string;
  sourceKey: string;
  source: ImageInfo;
  createdAt: string;
  outputs: ManifestEntry[];
  /** Encodes not stored, why (e.g. a WebP larger than the JPEG) and which output serves each: `optimize.keepLarger` keeps them. */
  skipped: SkippedOutput[];
  placeholder?: StepOutputs["placeholder"];
  /** ThumbHash, BlurHash and dominant colour (`placeholders` config). */
  previews?: Previews;
  /** Ready `srcset`/`sizes` and `<picture>` markup per rendition set (`markup: true`). */
  responsive?: ResponsiveSet[];
}

/** One rendition set's responsive markup; file names are relative to the output prefix. */
export interface ResponsiveSet {
  /** `original` for the uncropped renditions, else the first rendition of the crop group. */
  name: string;
  renditions: string[];
  fit: "inside" | "cover" | "contain";
  /** Of the largest rendition: the `<img>`'s width and height attributes. */
  width: number;
  height: number;
  sizes: string;
  /** Per format, e.g. `{ webp: "thumb.webp 320w, medium.webp 1024w" }`. */
  srcset: Partial<Record<OutputFormat, string>>;
  picture: string;
}

export interface OptimizeResult {
  manifestKey: string;
  outputs: number;
  bytesIn: number;
  bytesOut: number;
}

/** What Optimize returns when the job's upload was replaced before the manifest: no manifest was written. */
export interface SupersededResult {
  superseded: Superseded;
}

export interface OptimizedJob extends ProcessedJob {
  optimized: OptimizeResult | SupersededResult;
}

/** How engines hand a failure to NotifyError: ASL Catch's shape, mirrored by the orchestrator. */
export interface StepFailure {
  Error: string;
  Cause?: string;
  /** The workflow state that failed, when the engine names it (ASL: a Pass state after the catcher). */
  Step?: string;
}

export interface FailedJob extends StartInput {
  error: StepFailure;
}

export interface NotifyResult {
  jobId: string;
  /** `superseded`: a newer upload or a delete replaced the job's version before it published; no event goes out. */
  status: "succeeded" | "failed" | "superseded";
  /** False when a duplicate run had already finished the job: no second event was sent; always false when superseded. */
  published: boolean;
  /** True when the upload was deleted while the job ran: the job erased what it made (functions/steps/erase.ts). */
  erased?: boolean;
  /** Superseded only: this call closed the job (false for a duplicate run finding it closed), so it is counted once. */
  closed?: boolean;
}
