/**
 * What every benchmark module exports: a name for `--only`, and a run that
 * returns a markdown section (pasted into the README) plus the raw figures.
 */

export interface BenchContext {
  /** Fewer iterations and sizes, for a smoke run (`--quick`). */
  quick: boolean;
  /** Progress lines (stderr), so stdout stays the markdown report. */
  log: (line: string) => void;
  /** Where generated inputs are cached between runs. */
  cacheDir: string;
}

export interface BenchResult {
  name: string;
  /** A markdown section: heading, table, notes. */
  markdown: string;
  /** The figures behind the table, for `--json`. */
  data: unknown;
}

export interface Benchmark {
  name: string;
  description: string;
  run(context: BenchContext): Promise<BenchResult>;
}
