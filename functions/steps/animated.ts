import { renderAnimatedRenditions, type PreparedWatermark, type ProcessingOptions } from "../core";
import type { Ports } from "../ports";
import { outputKey } from "./keys";
import type { IntermediatesResult, ManifestEntry, ValidatedJob } from "./types";

/**
 * Resize for an animated upload with `animated: keep`: the lossless intermediates hold one
 * frame, so the animated renditions are encoded here and written to their final keys;
 * Optimize lists them in the manifest, which it still writes last.
 */
export async function resizeAnimated(job: ValidatedJob, source: Buffer, ports: Ports, options: ProcessingOptions, watermark: PreparedWatermark | undefined): Promise<IntermediatesResult> {
  const bytesIn = job.image?.bytes ?? source.length;
  const encoded = await renderAnimatedRenditions(source, options, watermark);
  const written = await Promise.all(
    encoded.map(async (image): Promise<ManifestEntry> => {
      const key = outputKey(job.sourceKey, "rendition", image.name, image.extension);
      await ports.objects.put("renditions", key, image.data, image.contentType);
      const bytes = image.data.length;
      const entry: ManifestEntry = {
        key,
        name: image.name,
        kind: "rendition",
        format: image.format,
        width: image.width,
        height: image.height,
        ...(image.frames !== undefined ? { frames: image.frames, animated: true as const } : {}),
        bytes,
        savedBytes: bytesIn - bytes,
        contentType: image.contentType,
      };
      return image.crop ? { ...entry, crop: image.crop } : entry;
    }),
  );
  return { items: [], written };
}
