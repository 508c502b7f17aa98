import { access, mkdir, rm, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { errnoCode, LocalInputError } from "./errors";

/**
 * The folder one local run writes (renditions/, events.jsonl, jobs.json), claimed
 * before any emulator starts so two runs never share one: a default folder gets a
 * suffix when its name is taken (created with a plain mkdir, which fails if it
 * exists, so two runs started in the same second cannot both get it); a folder
 * given with --out is refused when it already holds a run. The claim is the
 * `run.json` marker, created only if absent.
 */

/** The marker a run leaves in its folder: which cloud, when, which process. */
export const RUN_MARKER = "run.json";

/** Files that say a folder already holds a run (older runs left no marker). */
const RUN_FILES = [RUN_MARKER, "jobs.json", "events.jsonl"];

function unwritable(dir: string, error: unknown): LocalInputError {
  const code = errnoCode(error);
  const why = code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : (code ?? (error as Error)?.message ?? String(error));
  return new LocalInputError("OUT_DIR_UNWRITABLE", `The output folder "${dir}" cannot be created or written (${why}). Give --out a folder you can write.`, { cause: error });
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Creates `base`, or `base-2`, `base-3`... whichever is free first; returns it. */
async function createFresh(base: string): Promise<string> {
  await mkdir(path.dirname(base), { recursive: true }).catch((error: unknown) => {
    throw unwritable(path.dirname(base), error);
  });
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    try {
      await mkdir(candidate);
      return candidate;
    } catch (error) {
      if (errnoCode(error) !== "EEXIST") throw unwritable(candidate, error);
    }
  }
}

/**
 * Claims the folder a run writes.
 *
 * @param dir absolute path: the default name (`fresh`: a suffix is added when taken) or the one given with --out
 * @returns the folder claimed
 * @throws {LocalInputError} OUT_DIR_IN_USE when `dir` (given with --out) holds a run; OUT_DIR_UNWRITABLE when it cannot be created or written
 */
export async function claimRunFolder(dir: string, options: { fresh: boolean; cloud: string }): Promise<string> {
  let folder = dir;
  if (options.fresh) {
    folder = await createFresh(dir);
  } else {
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw unwritable(dir, error);
    });
    for (const name of RUN_FILES) {
      if (await exists(path.join(dir, name))) {
        throw new LocalInputError("OUT_DIR_IN_USE", `The output folder "${dir}" already holds a run (${name}); its records would be mixed with this run's. Give --out a new folder, or leave --out unset for a fresh one under ./out.`);
      }
    }
  }
  const marker = `${JSON.stringify({ cloud: options.cloud, startedAt: new Date().toISOString(), pid: process.pid }, null, 2)}\n`;
  await writeFile(path.join(folder, RUN_MARKER), marker, { flag: "wx" }).catch((error: unknown) => {
    if (errnoCode(error) === "EEXIST") throw new LocalInputError("OUT_DIR_IN_USE", `The output folder "${folder}" was claimed by another run just now. Give --out a new folder.`);
    throw unwritable(folder, error);
  });
  return folder;
}

/**
 * Gives a claimed folder back when the run never started (an emulator failed):
 * removes the marker and the given files, and the folder if that leaves it empty.
 */
export async function releaseRunFolder(dir: string, files: readonly string[] = []): Promise<void> {
  for (const name of [RUN_MARKER, ...files]) await rm(path.join(dir, name), { force: true }).catch(() => undefined);
  await rmdir(dir).catch(() => undefined);
}
