import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Notifier, PipelineEvent } from "../functions/ports";

export interface JsonLinesNotifierOptions {
  /** File the events are appended to, one JSON object per line; missing folders are created. */
  file: string;
  /** Also print each event (default: no). */
  print?: boolean;
  /** Where printed events go (default: console.log). */
  log?: (line: string) => void;
}

/**
 * The local stand-in for SNS / Event Grid: every event becomes one line of a
 * JSON-lines file that people can `tail -f` and tests can read back.
 *
 * @example
 * const notifier = new JsonLinesNotifier({ file: ".local-runs/events.jsonl", print: true });
 * await notifier.publish(event);
 * const events = await readEvents(".local-runs/events.jsonl");
 */
export class JsonLinesNotifier implements Notifier {
  readonly file: string;
  private readonly print: boolean;
  private readonly log: (line: string) => void;
  /** Appends are chained so that lines never interleave and keep publish order. */
  private tail: Promise<void> = Promise.resolve();

  constructor(options: JsonLinesNotifierOptions) {
    this.file = options.file;
    this.print = options.print ?? false;
    this.log = options.log ?? ((line) => console.log(line));
  }

  publish(event: PipelineEvent): Promise<void> {
    const line = JSON.stringify(event);
    const write = this.tail.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(this.file, `${line}\n`, "utf8");
      if (this.print) this.log(line);
    });
    // A failed append must not block later ones; the caller still sees its own failure.
    this.tail = write.catch(() => undefined);
    return write;
  }
}

/** The events in a JSON-lines file, in publish order; none when the file does not exist. */
export async function readEvents(file: string): Promise<PipelineEvent[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as PipelineEvent);
}
