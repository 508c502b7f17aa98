import { setFlagsFromString } from "node:v8";

/**
 * The local runtime runs the pipeline in two Node processes where the cloud
 * uses dozens of machines: this one (engine, SDK clients, image work, and for
 * AWS s3rver and dynalite) and, for Azure, azurite. Every 12 MP image moves
 * about 30 MB through them as Buffers (V8 external memory): uploads, lossless
 * intermediates, HTTP chunks on both ends of every request. With V8's adaptive
 * heap growth, the next full GC was scheduled only a few MB above the live heap,
 * so full mark-compacts ran back to back: about 5 per image, a quarter of the
 * process's CPU spent marking and sweeping a ~50 MB heap of loaded modules that
 * barely changes.
 *
 * A fixed growth of 100 % (the next full GC when the heap, external memory
 * included, has doubled) brings that to about 1 per image with the same peak
 * RSS. `npm run bench -- --only pipeline` measures both settings.
 *
 * Each deployed function runs one step on a small heap, so the cloud functions
 * keep V8's defaults.
 */
export const LOCAL_HEAP_FLAG = "--heap-growing-percent=100";

/** Applies the local runtime's heap growth to this process (process-wide; repeating it changes nothing). */
export function tuneHeapForLocalRuntime(): void {
  setFlagsFromString(LOCAL_HEAP_FLAG);
}
