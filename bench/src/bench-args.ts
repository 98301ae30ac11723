/** Command-line options of `npm run bench`. Pure. */

/** Batches in flight while loading, by default. */
export const DEFAULT_CONCURRENCY = 4;
/** Receipts per batch call while loading, by default. */
export const DEFAULT_BATCH = 250;

/** Parsed options. */
export interface BenchArgs {
  receipts: number;
  /** Batches in flight while loading. */
  concurrency: number;
  /** Receipts per CreateReceipts / CompleteReceipts call while loading. */
  batch: number;
  resultsDir?: string;
  updateDocs: boolean;
  /** Keep the database (and stop the services) after the run, for EXPLAIN experiments. */
  keepDatabase: boolean;
}

/** Parses `--receipts N`, `--concurrency N`, `--batch N` (at most 1000), `--results-dir D`, `--no-docs`, `--keep-database` (also `--x=v`). */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { receipts: 1_000_000, concurrency: DEFAULT_CONCURRENCY, batch: DEFAULT_BATCH, updateDocs: true, keepDatabase: false };
  const positiveInt = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!v || !Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got "${v ?? ""}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (raw === "--") continue;
    const [flag, inline] = raw.includes("=") ? [raw.slice(0, raw.indexOf("=")), raw.slice(raw.indexOf("=") + 1)] : [raw, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === "--receipts") args.receipts = positiveInt(flag, value());
    else if (flag === "--concurrency") args.concurrency = positiveInt(flag, value());
    else if (flag === "--batch") {
      args.batch = positiveInt(flag, value());
      if (args.batch > 1000) throw new Error(`--batch is at most 1000 (the batch RPCs' limit), got ${args.batch}`);
    } else if (flag === "--results-dir") args.resultsDir = value();
    else if (flag === "--no-docs") args.updateDocs = false;
    else if (flag === "--keep-database") args.keepDatabase = true;
    else throw new Error(`unknown option ${raw} (use --receipts N, --concurrency N, --batch N, --results-dir DIR, --no-docs, --keep-database)`);
  }
  return args;
}
