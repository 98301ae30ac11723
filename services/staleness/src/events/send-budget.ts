/**
 * The server-wide bound on the bytes WatchStaleness holds serialized for streams whose readers have not taken them.
 *
 * connect serializes a stream's next response when the stream asks for it and keeps that copy until HTTP/2 flow
 * control lets it out; a reader that is behind or has stopped reading therefore holds one encoded change (hundreds of
 * kB for a project's thousands of ids) outside the heap, without any bound but the number of streams. A stream now
 * reserves its next change's bytes here first and waits its turn, first come first served, while the streams ahead of
 * it hold the budget; the change waits meanwhile as the one shared reference in its queue, which costs nothing per
 * stream. (What this does not bound: the copy of its last message each stream keeps inside connect's pipeline after
 * sending it — docs/performance.md, "Memory".)
 */

/** One stream's claim on the budget: granted at once or later, given back by {@link release}. */
export interface Reservation {
  /** Whether the bytes are held now. */
  readonly granted: boolean;
  /** Settles once the bytes are held, or once the reservation is released while still waiting (never rejects). */
  readonly ready: Promise<void>;
  /** Gives the bytes back (or leaves the line, if still waiting); later calls do nothing. */
  release(): void;
}

interface Claim {
  readonly bytes: number;
  granted: boolean;
  done: boolean;
  wake: () => void;
}

export class SendBudget {
  private held = 0;
  private readonly line: Claim[] = [];

  /** @param capacity bytes that may be held at once; a single claim larger than this is granted when nothing else is held. */
  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity > 0)) throw new RangeError(`capacity must be a positive whole number, got ${capacity}`);
  }

  /** Bytes held now by streams whose change has not been sent. */
  get bytesHeld(): number {
    return this.held;
  }

  /** Streams waiting for their turn. */
  get waiting(): number {
    return this.line.length;
  }

  /** Claims `bytes` (at least 1 is counted); in line behind every earlier claim still waiting. */
  reserve(bytes: number): Reservation {
    let wake!: () => void;
    const ready = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const claim: Claim = { bytes: Math.max(1, bytes), granted: false, done: false, wake };
    this.line.push(claim);
    this.grant();
    return {
      get granted() {
        return claim.granted && !claim.done;
      },
      ready,
      release: () => this.release(claim),
    };
  }

  private release(claim: Claim): void {
    if (claim.done) return;
    claim.done = true;
    if (claim.granted) {
      this.held -= claim.bytes;
    } else {
      this.line.splice(this.line.indexOf(claim), 1);
      claim.wake();
    }
    this.grant();
  }

  private grant(): void {
    // First come, first served: a large claim at the head is not overtaken by smaller ones behind it.
    while (this.line.length > 0) {
      const head = this.line[0]!;
      if (this.held > 0 && this.held + head.bytes > this.capacity) return;
      this.line.shift();
      head.granted = true;
      this.held += head.bytes;
      head.wake();
    }
  }
}

/** A budget nothing waits on (the default for a Watcher built on its own, as in tests). */
export const UNBOUNDED_SEND_BUDGET = new SendBudget(Number.MAX_SAFE_INTEGER);
