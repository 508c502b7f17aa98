import { MultiBar, Presets } from "cli-progress";
import type { PipelineEvent } from "../functions/ports";
import type { JobRow } from "./runtime";

/**
 * What the local runtime shows a person: one table row per input, one short
 * line per event, and a progress bar on stderr while images run.
 */

/** Codes that say the image itself is bad: such a failure is the pipeline working, not failing. */
export const IMAGE_ERROR_CODES: readonly string[] = ["UNSUPPORTED_FORMAT", "TOO_LARGE", "TOO_MANY_PIXELS", "TOO_MANY_FRAMES", "CORRUPT_IMAGE", "EMPTY_INPUT"];

/** 0 when every job succeeded or failed for a reason in the image; 1 when any failed otherwise, was lost, or never ran. */
export function exitCodeFor(rows: readonly JobRow[]): 0 | 1 {
  const bad = rows.some((row) => row.status === "lost" || row.status === "skipped" || (row.status === "failed" && !IMAGE_ERROR_CODES.includes(row.errorCode ?? "")));
  return bad ? 1 : 0;
}

/** 1536 → "1.5 KB". */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return "-";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Keeps the end of a long name, where the file name is. */
function clip(text: string, width: number): string {
  return text.length <= width ? text : `…${text.slice(text.length - width + 1)}`;
}

/**
 * The result table: file, job status, renditions, bytes in/out, error code.
 * @example formatTable(rows) // "file  status  renditions ..."
 */
export function formatTable(rows: readonly JobRow[], maxFileWidth = 48): string {
  const header = ["file", "status", "renditions", "in", "out", "error"];
  const body = rows.map((row) => [
    clip(row.key, maxFileWidth),
    row.status === "skipped" ? "not run" : row.status,
    row.status === "succeeded" ? String(row.renditions) : "-",
    formatBytes(row.bytesIn),
    row.status === "succeeded" ? formatBytes(row.bytesOut) : "-",
    row.errorCode ?? "",
  ]);
  const numeric = new Set([2, 3, 4]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}

export interface Summary {
  total: number;
  succeeded: number;
  failed: number;
  /** Replaced by a newer upload of the key (or deleted) while running: no outputs of theirs, not a failure. */
  superseded: number;
  lost: number;
  /** Never ran: interrupted before their turn, or unreadable by then. */
  skipped: number;
}

export function summarize(rows: readonly JobRow[]): Summary {
  return {
    total: rows.length,
    succeeded: rows.filter((row) => row.status === "succeeded").length,
    failed: rows.filter((row) => row.status === "failed").length,
    superseded: rows.filter((row) => row.status === "superseded").length,
    lost: rows.filter((row) => row.status === "lost").length,
    skipped: rows.filter((row) => row.status === "skipped").length,
  };
}

export function formatSummary(summary: Summary): string {
  const parts = [`${summary.succeeded} succeeded`, `${summary.failed} failed`];
  if (summary.superseded > 0) parts.push(`${summary.superseded} superseded (a newer upload came first)`);
  if (summary.lost > 0) parts.push(`${summary.lost} LOST (no finished job record)`);
  if (summary.skipped > 0) parts.push(`${summary.skipped} not run`);
  return `${summary.total} image${summary.total === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

/** One short line per pipeline event. */
export function formatEvent(event: PipelineEvent): string {
  const outputs = event.outputs ?? 0;
  if (event.type === "image.deleted") return `event ${event.type} ${event.sourceKey} (outputs and job record erased)`;
  const detail = event.type === "image.processed" ? `${outputs} output${outputs === 1 ? "" : "s"}, ${formatBytes(event.bytesOut)}` : (event.error?.code ?? "error");
  return `event ${event.type} ${event.sourceKey} (${detail})`;
}

export interface Progress {
  /** One more image finished. */
  tick(): void;
  /** Prints a line above the bar (or plainly when the bar is off). */
  log(line: string): void;
  stop(): void;
}

/**
 * A progress bar on `stream` (stderr) with log lines drawn above it, or plain
 * lines on `logStream` when the stream is not a terminal or the bar is disabled.
 */
export function createProgress(
  total: number,
  options: { stream: NodeJS.WritableStream; logStream: NodeJS.WritableStream; enabled: boolean; label?: string },
): Progress {
  const { stream, logStream, enabled, label = "images" } = options;
  const isTty = Boolean((stream as NodeJS.WriteStream).isTTY);
  if (!enabled || !isTty || total === 0) {
    return { tick: () => undefined, log: (line) => void logStream.write(`${line}\n`), stop: () => undefined };
  }
  const bars = new MultiBar(
    { stream: stream as NodeJS.WriteStream, format: `{bar} {value}/{total} ${label} | {duration_formatted} elapsed | eta {eta_formatted}`, hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  const bar = bars.create(total, 0);
  return {
    tick: () => bar.increment(),
    log: (line) => bars.log(`${line}\n`),
    stop: () => bars.stop(),
  };
}
