import type { LocalFlavour } from "../flavour";

/**
 * The local stand-in for the upload trigger of `serve`: browsers write straight into the
 * emulator, which tells nobody, so the uploads store is listed every `pollMs` and each
 * new object version (key and ETag) is run through the flavour's workflow, once, as
 * S3 → EventBridge or Blob → Event Grid would start it.
 */

export interface UploadWatcher {
  /** Stops looking and waits for the runs in flight. */
  stop(): Promise<void>;
}

export function watchUploads(flavour: LocalFlavour, options: { pollMs: number; log?: (entry: Record<string, unknown>) => void }): UploadWatcher {
  const seen = new Set<string>();
  const running = new Set<Promise<void>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const run = (sourceKey: string, sourceEtag: string | undefined, sourceVersion: string | undefined) => {
    const execution = flavour
      .execute({ sourceKey, sourceEtag, sourceVersion })
      .then(() => undefined)
      .catch((thrown: unknown) => options.log?.({ level: "error", message: `the run of ${sourceKey} broke`, error: String((thrown as Error)?.stack ?? thrown) }))
      .finally(() => running.delete(execution));
    running.add(execution);
  };

  const look = async () => {
    let cursor: string | undefined;
    do {
      const page = await flavour.ports.objects.list("uploads", "", { cursor, limit: 1000 });
      for (const item of page.items) {
        const id = `${item.key}\n${item.etag ?? ""}`;
        if (seen.has(id)) continue;
        seen.add(id);
        // The event's version, as the deployed trigger passes it (s3rver and azurite keep none).
        const info = await flavour.ports.objects.head("uploads", item.key).catch(() => undefined);
        if (info) run(item.key, info.etag ?? item.etag, info.versionId);
      }
      cursor = page.cursor;
    } while (cursor && !stopped);
  };

  const tick = () => {
    look()
      .catch((thrown: unknown) => {
        if (!stopped) options.log?.({ level: "error", message: "listing uploads failed", error: String((thrown as Error)?.message ?? thrown) });
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.pollMs);
      });
  };
  tick();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.allSettled([...running]);
    },
  };
}
