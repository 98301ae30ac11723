/** A small file read once and re-read when it changes (policy, JWKS, service token; Kubernetes swaps them in place). */
import { readFile } from "node:fs/promises";

/** How a watched file is checked. */
export interface WatchedFileOptions {
  /** At most one check of the file per this many ms (default 1000); `refresh()` checks at once. */
  checkIntervalMs?: number;
  /** Largest file accepted, in bytes (default 1 MiB). */
  maxBytes?: number;
  /** Called when a changed file cannot be read or parsed; the last good value stays in use. */
  onReloadError?: (err: unknown) => void;
  /** Called after a changed file was read and parsed. */
  onReload?: () => void;
}

/** The current parsed content of a file. */
export interface WatchedFile<T> {
  readonly path: string;
  /** The value from the latest good version of the file, re-reading it when the last check is older than the interval. */
  current(): Promise<T>;
  /** Re-reads the file now (unless a read is in flight) and returns the current value. */
  refresh(): Promise<T>;
}

async function readBounded(path: string, maxBytes: number): Promise<string> {
  const bytes = await readFile(path);
  if (bytes.length > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes`);
  return bytes.toString("utf8");
}

/**
 * Reads `path` and parses it with `parse`; throws when the first read or parse fails. Afterwards the file's text is
 * compared on each check (reading a small file is cheaper than trusting mtimes, which Kubernetes' atomic symlink swap
 * and same-millisecond edits make unreliable) and parsed again only when it changed. A changed file that does not
 * parse is reported to `onReloadError` (once per distinct failure) and the last good value is kept.
 */
export async function watchFile<T>(path: string, parse: (text: string) => T, opts: WatchedFileOptions = {}): Promise<WatchedFile<T>> {
  const interval = opts.checkIntervalMs ?? 1000;
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  let text = await readBounded(path, maxBytes);
  let value = parse(text);
  let checkedAt = Date.now();
  let inFlight: Promise<T> | undefined;
  // What the last failed check saw, so a file that stays broken is reported once, not on every check.
  let lastFailure: string | undefined;

  const check = (): Promise<T> => {
    inFlight ??= (async () => {
      let next: string | undefined;
      try {
        next = await readBounded(path, maxBytes);
        if (next !== text) {
          const parsed = parse(next);
          text = next;
          value = parsed;
          opts.onReload?.();
        }
        lastFailure = undefined;
      } catch (err) {
        const failure = next ?? `error: ${(err as Error).message}`;
        if (failure !== lastFailure) opts.onReloadError?.(err);
        lastFailure = failure;
      } finally {
        checkedAt = Date.now();
        inFlight = undefined;
      }
      return value;
    })();
    return inFlight;
  };

  return {
    path,
    current: () => (Date.now() - checkedAt >= interval ? check() : Promise.resolve(value)),
    refresh: check,
  };
}
