import { optimizeImage, PipelineError, type ProcessingOptions } from "../core";
import type { Ports } from "../ports";
import { manifestKey, outputKey } from "./keys";
import { responsiveSets } from "./markup";
import type { Manifest, ManifestEntry, OptimizeResult, ProcessedJob } from "./types";

/**
 * Optimize: encodes every intermediate to the web formats, writes the final
 * objects, then the manifest last, so a manifest only ever names objects that exist.
 */
export async function optimize(job: ProcessedJob, ports: Ports, options: ProcessingOptions): Promise<OptimizeResult> {
  if (!job.image || !Array.isArray(job.processed)) {
    throw new PipelineError("CONFIG_INVALID", "Optimize was called without the results of Validate and Process; check the workflow definition.");
  }
  const bytesIn = job.image.bytes;
  const refs = job.processed.flatMap((result) => result.items);
  const placeholder = job.processed.find((result) => result.placeholder)?.placeholder;
  const previews = job.processed.find((result) => result.previews)?.previews;

  const perItem = await Promise.all(
    refs.map(async (ref) => {
      const data = await ports.objects.get("work", ref.key);
      const encoded = await optimizeImage(data, ref.name, ref.kind, options);
      return Promise.all(
        encoded.map(async (image): Promise<ManifestEntry> => {
          const key = outputKey(job.sourceKey, ref.kind, image.name, image.extension);
          await ports.objects.put("renditions", key, image.data, image.contentType);
          const bytes = image.data.length;
          const entry: ManifestEntry = { key, name: image.name, kind: ref.kind, format: image.format, width: image.width, height: image.height, bytes, savedBytes: bytesIn - bytes, contentType: image.contentType };
          return ref.crop ? { ...entry, crop: ref.crop } : entry;
        }),
      );
    }),
  );
  // Animated renditions (`animated: keep`) were encoded and written by Resize itself.
  const written = job.processed.flatMap((result) => result.written ?? []);
  const outputs = [...written, ...perItem.flat()];

  const manifest: Manifest = {
    jobId: job.jobId,
    sourceKey: job.sourceKey,
    source: job.image,
    createdAt: new Date().toISOString(),
    outputs,
    placeholder,
    ...(previews ? { previews } : {}),
    ...(options.markup ? { responsive: responsiveSets(outputs, options, placeholder, previews?.color) } : {}),
  };
  const key = manifestKey(job.sourceKey);
  await ports.objects.put("renditions", key, Buffer.from(JSON.stringify(manifest, null, 2)), "application/json");
  return { manifestKey: key, outputs: outputs.length, bytesIn, bytesOut: outputs.reduce((sum, entry) => sum + entry.bytes, 0) };
}
