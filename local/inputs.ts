import { constants, type Stats } from "node:fs";
import { access, lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { errnoCode, LocalInputError } from "./errors";

/**
 * The files the local CLI uploads: every file under the folders given (recursed)
 * and every file given, checked before any emulator starts. Each real folder is
 * walked once, whatever links lead to it (a link cycle ends there); what cannot
 * be read, and links that lead nowhere, are reported with a code and skipped.
 */

/** A file to upload: read lazily from `file`, or given as `body`. */
export interface InputFile {
  key: string;
  file?: string;
  body?: Buffer;
}

/** A path that was skipped, and why. */
export interface InputProblem {
  code: "INPUT_UNREADABLE" | "INPUT_DANGLING_LINK";
  /** The path as found (given or walked), absolute. */
  path: string;
  message: string;
}

export interface CollectedInputs {
  inputs: InputFile[];
  problems: InputProblem[];
}

function unreadable(file: string, error: unknown): InputProblem {
  const why = errnoCode(error) ?? (error as Error)?.message ?? String(error);
  return { code: "INPUT_UNREADABLE", path: file, message: `"${file}" cannot be read (${why}); it is skipped. Check its permissions.` };
}

function notAFile(file: string): InputProblem {
  return { code: "INPUT_UNREADABLE", path: file, message: `"${file}" is not a regular file (a pipe, socket or device); it is skipped.` };
}

function dangling(link: string, error: unknown): InputProblem {
  const why = errnoCode(error) === "ELOOP" ? "a loop of links" : "its target does not exist";
  return { code: "INPUT_DANGLING_LINK", path: link, message: `"${link}" is a symbolic link that leads nowhere (${why}); it is skipped.` };
}

/** Two inputs with the same key would be the same upload: keep both by suffixing the later one. */
function uniqueKey(key: string, taken: Set<string>): string {
  let candidate = key;
  const extension = path.posix.extname(key);
  const stem = key.slice(0, key.length - extension.length);
  for (let n = 2; taken.has(candidate); n++) candidate = `${stem}-${n}${extension}`;
  taken.add(candidate);
  return candidate;
}

/** Follows a path to what it names; a link that leads nowhere becomes a problem instead. */
async function resolveEntry(full: string, problems: InputProblem[]): Promise<Stats | undefined> {
  const own = await lstat(full).catch((error: unknown) => {
    problems.push(unreadable(full, error));
    return undefined;
  });
  if (!own?.isSymbolicLink()) return own;
  return stat(full).catch((error: unknown) => {
    const code = errnoCode(error);
    problems.push(code === "ENOENT" || code === "ELOOP" || code === "ENOTDIR" ? dangling(full, error) : unreadable(full, error));
    return undefined;
  });
}

/** Checks a regular file can be opened for reading, without opening it (a FIFO would block). */
async function readableFile(file: string, info: Stats, problems: InputProblem[]): Promise<boolean> {
  if (!info.isFile()) {
    problems.push(notAFile(file));
    return false;
  }
  return access(file, constants.R_OK).then(
    () => true,
    (error: unknown) => {
      problems.push(unreadable(file, error));
      return false;
    },
  );
}

/** Every readable file under `folder`, in name order; each real folder once (`visited` holds real paths). */
async function walk(folder: string, visited: Set<string>, problems: InputProblem[]): Promise<string[]> {
  const real = await realpath(folder).catch(() => folder);
  if (visited.has(real)) return [];
  visited.add(real);
  const entries = await readdir(folder).catch((error: unknown) => {
    problems.push(unreadable(folder, error));
    return [] as string[];
  });
  const files: string[] = [];
  // One entry at a time: which link reaches a shared folder first must not depend on timing.
  for (const name of entries.sort((a, b) => a.localeCompare(b))) {
    const full = path.join(folder, name);
    const info = await resolveEntry(full, problems);
    if (!info) continue;
    if (info.isDirectory()) files.push(...(await walk(full, visited, problems)));
    else if (await readableFile(full, info, problems)) files.push(full);
  }
  return files;
}

/**
 * Every file under the given folders (recursed) and files. Keys are paths
 * relative to the folder given (a file's own name for a file), with `/`.
 * Every readable file is uploaded, whatever its extension: the pipeline's validation decides.
 *
 * @param given paths as the user typed them, resolved against `cwd`
 * @throws {LocalInputError} INPUT_EMPTY_PATH for an empty path (it would mean the
 *   whole current folder); INPUT_NOT_FOUND naming the first path that does not exist.
 */
export async function collectInputs(given: readonly string[], cwd: string = process.cwd()): Promise<CollectedInputs> {
  const inputs: InputFile[] = [];
  const problems: InputProblem[] = [];
  const taken = new Set<string>();
  const visited = new Set<string>();
  for (const typed of given) {
    if (typed.trim() === "") throw new LocalInputError("INPUT_EMPTY_PATH", 'An empty path was given (it would upload the whole current folder); give image files or folders, or "." for the current folder.');
    const absolute = path.resolve(cwd, typed);
    const own = await lstat(absolute).catch((error: unknown) => {
      if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") throw new LocalInputError("INPUT_NOT_FOUND", `No such file or folder: "${absolute}". Give image files or folders that exist.`);
      problems.push(unreadable(absolute, error));
      return undefined;
    });
    if (!own) continue;
    const info = await resolveEntry(absolute, problems);
    if (!info) continue;
    if (info.isDirectory()) {
      for (const file of await walk(absolute, visited, problems)) inputs.push({ key: uniqueKey(path.relative(absolute, file).split(path.sep).join("/"), taken), file });
    } else if (await readableFile(absolute, info, problems)) {
      inputs.push({ key: uniqueKey(path.basename(absolute), taken), file: absolute });
    }
  }
  return { inputs, problems };
}
