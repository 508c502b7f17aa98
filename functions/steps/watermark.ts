import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { PipelineError, prepareWatermark, type PreparedWatermark, type ProcessingOptions } from "../core";
import type { Ports } from "../ports";

/**
 * Where the watermark comes from. `uploads:<key>`: an object in the uploads store, read with
 * the steps' own read access to uploads. `file:<path>`: a file of the repo, which the program
 * adds to the function bundle under `assets/` (components: `bundledAssets`), and which local
 * runs read from the repo. Decoded once per warm container: a changed `uploads:` object is
 * picked up by new containers, so give a new mark a new key.
 */

/** The folder of the bundle (beside index.js) that holds bundled files (components/bundle.ts `bundledAssets`). */
const BUNDLED_ASSETS_DIR = "assets";

const cache = new Map<string, Promise<PreparedWatermark>>();

/**
 * The decoded watermark for these options, or undefined when none is configured.
 * @throws {PipelineError} CONFIG_INVALID when the source is missing or not an image
 */
export function loadWatermark(ports: Ports, options: ProcessingOptions): Promise<PreparedWatermark | undefined> {
  const { watermark } = options;
  if (!watermark) return Promise.resolve(undefined);
  const key = JSON.stringify(watermark);
  let prepared = cache.get(key);
  if (!prepared) {
    prepared = readSource(ports, watermark.source).then((bytes) => prepareWatermark(bytes, watermark));
    cache.set(key, prepared);
    // A failed read (e.g. a transient storage error) is tried again by the next job.
    prepared.catch(() => cache.delete(key));
  }
  return prepared;
}

async function readSource(ports: Ports, source: string): Promise<Buffer> {
  if (source.startsWith("uploads:")) {
    const key = source.slice("uploads:".length);
    try {
      return await ports.objects.get("uploads", key);
    } catch (error) {
      if (error instanceof PipelineError && error.code === "NOT_FOUND") {
        throw new PipelineError("CONFIG_INVALID", `The watermark ${source} does not exist in the uploads store; upload it, or change watermark.source.`, { key: "watermark.source", source }, { cause: error });
      }
      throw error;
    }
  }
  const file = path.normalize(source.slice("file:".length));
  // In a bundle the file sits in assets/ beside index.js; in the repo, under the project root.
  const candidates = [path.join(__dirname, BUNDLED_ASSETS_DIR, file), path.resolve(__dirname, "..", "..", file)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new PipelineError("CONFIG_INVALID", `The watermark ${source} is neither in the function bundle nor in the repo; add the file, or change watermark.source.`, { key: "watermark.source", source });
  }
  return fs.readFile(found);
}
