/**
 * Wakes waiting stream readers a slice at a time, so handing one change to thousands of streams never holds the
 * event loop for long: health checks, detection and the outbox relay run between slices.
 */

/** How long one slice (the wake-ups and the response writing they set off) should take, in milliseconds. */
const SLICE_BUDGET_MS = 8;
const FIRST_SLICE = 32;
const MAX_SLICE = 1024;

/**
 * A FIFO of wake-ups run in slices, each in its own turn of the event loop (`setImmediate`). A woken stream encodes and
 * writes its change in the microtasks right after its slice, so the time from one slice to the next measures what the
 * slice cost; the next slice is sized to fit {@link SLICE_BUDGET_MS} (at most doubling).
 */
export class SlicedWake {
  private queue: (() => void)[] = [];
  private head = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private perSlice = FIRST_SLICE;
  private lastStart = 0;
  private lastCount = 0;

  /** Wake-ups not yet run. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Queues one wake-up. */
  add(wake: () => void): void {
    this.queue.push(wake);
    this.scheduled ??= setImmediate(this.run);
  }

  /** Drops what is queued (the hub is stopping). */
  clear(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.queue = [];
    this.head = 0;
    this.lastCount = 0;
  }

  private readonly run = (): void => {
    this.scheduled = undefined;
    const now = performance.now();
    if (this.lastCount > 0) {
      const took = Math.max(now - this.lastStart, 0.05);
      const fits = Math.floor((this.lastCount * SLICE_BUDGET_MS) / took);
      this.perSlice = Math.max(1, Math.min(fits, this.perSlice * 2, MAX_SLICE));
    }
    const end = Math.min(this.queue.length, this.head + this.perSlice);
    this.lastStart = now;
    this.lastCount = end - this.head;
    while (this.head < end) this.queue[this.head++]!();
    if (this.head < this.queue.length) {
      this.scheduled ??= setImmediate(this.run);
      return;
    }
    this.queue = [];
    this.head = 0;
    this.lastCount = 0;
  };
}
