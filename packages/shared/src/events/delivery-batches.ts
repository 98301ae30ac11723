/** Grouping a stream of deliveries into batches for consumers that apply many events per transaction. */
import { performance } from "node:perf_hooks";

/** How {@link batchesOf} groups. */
export interface BatchingOptions {
  /** At most this many items per batch. */
  size: number;
  /** The oldest waiting item waits at most this long (ms) for its batch to fill. */
  maxWaitMs: number;
}

/**
 * Yields the items of `source` in batches of at most `size`, in arrival order. A batch is yielded as soon as it is
 * full, or when its oldest item has waited `maxWaitMs`, or when the source ends. While the caller works on a batch the
 * next one keeps filling (up to `size` items, then the source is not read until there is room again), so a steady
 * stream is read ahead by one batch and a lone item is delayed by at most `maxWaitMs`. An error of the source is
 * thrown after the items read before it have been yielded. Read it to the end: it ends when the source does.
 */
export async function* batchesOf<T>(source: AsyncIterable<T>, opts: BatchingOptions): AsyncGenerator<T[], void, undefined> {
  const size = Math.max(1, Math.floor(opts.size));
  const buffered: T[] = [];
  // When the oldest buffered item arrived.
  let oldestAt = 0;
  let ended = false;
  let failure: { err: unknown } | undefined;
  let wakeTaker: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  const signalTaker = () => {
    const wake = wakeTaker;
    wakeTaker = undefined;
    wake?.();
  };

  const pump = (async () => {
    try {
      for await (const item of source) {
        if (buffered.length === 0) oldestAt = performance.now();
        buffered.push(item);
        // Only the transitions the taker waits for: first item (start the wait) and full (stop waiting).
        if (buffered.length === 1 || buffered.length >= size) signalTaker();
        while (buffered.length >= size) {
          await new Promise<void>((resolve) => {
            wakePump = resolve;
          });
        }
      }
    } catch (err) {
      failure = { err };
    } finally {
      ended = true;
      signalTaker();
    }
  })();

  for (;;) {
    if (buffered.length === 0) {
      if (ended) break;
      await new Promise<void>((resolve) => {
        wakeTaker = resolve;
      });
      continue;
    }
    const waitLeft = oldestAt + opts.maxWaitMs - performance.now();
    if (buffered.length < size && !ended && waitLeft > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wakeTaker = resolve;
        timer = setTimeout(resolve, Math.ceil(waitLeft));
      });
      clearTimeout(timer);
      wakeTaker = undefined;
      continue;
    }
    // The pump stops at `size`, so this takes everything buffered.
    const batch = buffered.splice(0, size);
    const wake = wakePump;
    wakePump = undefined;
    wake?.();
    yield batch;
  }
  await pump;
  if (failure) throw failure.err;
}
