/**
 * Wakes waiting stream readers a slice at a time, so handing one change to thousands of streams never holds the
 * event loop for long: health checks, detection, the outbox relay and the other changes' streams run between slices.
 */

/** How long one slice (the wake-ups and the response writing they set off) should take, in milliseconds. */
const SLICE_BUDGET_MS = 5;
const FIRST_SLICE = 16;
const MIN_SLICE = 4;
const MAX_SLICE = 256;

/** The wake-ups of one change, and how far they have been run. */
interface Batch {
  wakes: (() => void)[];
  next: number;
}

/**
 * Batches of wake-ups (one per change) run in slices, each in its own turn of the event loop (`setImmediate`). A
 * slice takes from every pending batch in turn, so a change for one stream is not queued behind another change's
 * thousands. A woken stream encodes and writes its change in the microtasks right after its slice, so the time from
 * one slice to the next measures what the slice cost; the next slice is sized to fit {@link SLICE_BUDGET_MS}, growing by
 * half at most (what a stream costs varies: a collection or a first response's headers land in some slices) and
 * shrinking by half at most, never under {@link MIN_SLICE} (that time also holds I/O and garbage collection, which
 * fewer wake-ups would not shorten).
 */
export class SlicedWake {
  private batches: Batch[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private perSlice = FIRST_SLICE;
  private lastStart = 0;
  private lastCount = 0;

  /** Wake-ups not yet run. */
  get pending(): number {
    let n = 0;
    for (const b of this.batches) n += b.wakes.length - b.next;
    return n;
  }

  /** Queues the wake-ups of one change. */
  add(wakes: (() => void)[]): void {
    if (wakes.length === 0) return;
    this.batches.push({ wakes, next: 0 });
    this.scheduled ??= setImmediate(this.run);
  }

  /** Drops what is queued (the hub is stopping). */
  clear(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.batches = [];
    this.lastCount = 0;
  }

  private readonly run = (): void => {
    this.scheduled = undefined;
    const now = performance.now();
    if (this.lastCount > 0) {
      const took = Math.max(now - this.lastStart, 0.05);
      const fits = Math.floor((this.lastCount * SLICE_BUDGET_MS) / took);
      this.perSlice = Math.max(MIN_SLICE, Math.floor(this.perSlice / 2), Math.min(fits, Math.ceil(this.perSlice * 1.5), MAX_SLICE));
    }
    this.lastStart = now;
    this.lastCount = 0;
    const share = Math.max(1, Math.ceil(this.perSlice / this.batches.length));
    for (const batch of this.batches) {
      const end = Math.min(batch.wakes.length, batch.next + share);
      this.lastCount += end - batch.next;
      while (batch.next < end) batch.wakes[batch.next++]!();
    }
    this.batches = this.batches.filter((b) => b.next < b.wakes.length);
    if (this.batches.length > 0) this.scheduled ??= setImmediate(this.run);
    else this.lastCount = 0;
  };
}
