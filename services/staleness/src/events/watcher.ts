/** One WatchStaleness stream as the hub sees it: what it watches, its bounded queue of changes, and how it ends. */
import { fromBinary } from "@bufbuild/protobuf";
import { EVENT_MESSAGES, STALENESS_DETECTED_PREFIX, type StalenessDetected } from "@provenance/shared";
import { fellBehind, type WatchLimitReached } from "../domain/watch-bounds.js";
import { UNBOUNDED_SEND_BUDGET, type Reservation, type SendBudget } from "./send-budget.js";

/** One detected change as every stream watching it receives it: the bytes it arrived in, decoded when needed. */
export interface WatchedChange {
  readonly change: StalenessDetected;
  /** The change's protobuf encoding as published, so a binary stream is sent it without encoding it again. */
  readonly encoded: Uint8Array;
}

/**
 * A change as published, shared by every stream of its project: decoded on first use of {@link change} (only JSON
 * streams need it) and kept, so binary streams hold its bytes and never its ids as strings.
 */
export class PublishedChange implements WatchedChange {
  private decoded: StalenessDetected | undefined;

  constructor(readonly encoded: Uint8Array) {}

  get change(): StalenessDetected {
    this.decoded ??= fromBinary(EVENT_MESSAGES[STALENESS_DETECTED_PREFIX], this.encoded);
    return this.decoded;
  }
}

/** The server's bound on changes handed on and not yet sent, and how long a stream may hold its part of it while others wait. */
export interface Sending {
  readonly budget: SendBudget;
  readonly holdLimitMs: number;
}

/** No bound (a Watcher built on its own, as in tests). */
const UNBOUNDED: Sending = { budget: UNBOUNDED_SEND_BUDGET, holdLimitMs: 60_000 };

/** What the hub does when a watcher's reader falls behind or its stream ends. */
export interface WatcherHooks {
  /** Its queue overflowed: stop routing changes to it (it keeps its slot until its stream ends). */
  fellBehind(watcher: Watcher): void;
  /** Its stream ended (read to its end, failed, or the client went away): free its slot. */
  ended(watcher: Watcher): void;
}

/**
 * A stream's queue: at most `capacity` changes wait for its reader, each a reference to the change every stream of
 * that project shares. One more and the queue is dropped and the stream ends with {@link fellBehind} once read.
 * A change is handed on (and serialized by connect) only once its bytes are reserved in the server's
 * {@link SendBudget}; they are given back when the stream asks for the next one, i.e. once connect has written it out.
 * A stream whose transport has not taken its change after {@link Sending.holdLimitMs} while other streams wait for the
 * budget has fallen behind too: a reader that stopped reading does not keep the others from being sent theirs.
 */
export class Watcher {
  private queue: WatchedChange[] = [];
  private waiting: (() => void) | undefined;
  private behind: WatchLimitReached | undefined;
  private finished = false;
  private reservation: Reservation | undefined;

  constructor(
    /** Who holds the stream, for the per-caller bound. */
    readonly caller: string,
    /** The projects watched; undefined = every project. */
    readonly projects: readonly string[] | undefined,
    private readonly capacity: number,
    private readonly hooks: WatcherHooks,
    /** The server's bound on changes handed on and not yet sent; default: none. */
    private readonly sending: Sending = UNBOUNDED,
  ) {}

  /** Whether the reader fell behind and the stream is waiting to be read to its error (or reset). */
  get isBehind(): boolean {
    return this.behind !== undefined;
  }

  /**
   * Hands over one change, in constant time. Returns the function that wakes the reader when it was waiting for one
   * (the hub calls these in slices), else undefined.
   */
  offer(change: WatchedChange): (() => void) | undefined {
    if (this.finished || this.behind) return undefined;
    if (this.queue.length >= this.capacity) {
      this.fallBehind();
    } else {
      this.queue.push(change);
    }
    return this.takeWake();
  }

  /** Ends the stream where it waits (the client went away, or the hub stops); what is queued is dropped. */
  end(): void {
    this.queue = [];
    this.finish();
    this.takeWake()?.();
    this.reservation?.release(); // wakes it if it waits for its turn
  }

  /**
   * The changes, oldest first, until `signal` aborts or {@link end}; throws the {@link fellBehind} error once the
   * reader has fallen behind. The hook `ended` runs however it stops.
   */
  async *changes(signal: AbortSignal): AsyncGenerator<WatchedChange> {
    try {
      while (!signal.aborted && !this.finished) {
        const next = this.queue.shift();
        if (next) {
          const reservation = (this.reservation = this.sending.budget.reserve(next.encoded.byteLength));
          if (!reservation.granted) await reservation.ready;
          if (signal.aborted || this.finished) break;
          const holding = this.watchHold();
          try {
            yield next;
          } finally {
            clearTimeout(holding);
          }
          // Asked for the next one: connect has written this one out (it waits for the transport to drain).
          reservation.release();
          this.reservation = undefined;
          continue;
        }
        if (this.behind) throw this.behind;
        await new Promise<void>((resolve) => {
          this.waiting = resolve;
        });
      }
    } finally {
      this.reservation?.release();
      this.reservation = undefined;
      this.finish();
    }
  }

  /** While the change handed on is not taken by the transport: every holdLimitMs, if others wait for the budget, fall behind. */
  private watchHold(): NodeJS.Timeout {
    const check = () => {
      if (this.finished || this.behind) return;
      if (this.sending.budget.waiting > 0) this.fallBehind();
      else timer.refresh();
    };
    const timer = setTimeout(check, this.sending.holdLimitMs);
    timer.unref();
    return timer;
  }

  private fallBehind(): void {
    this.queue = [];
    this.behind = fellBehind();
    this.hooks.fellBehind(this);
  }

  private takeWake(): (() => void) | undefined {
    const wake = this.waiting;
    this.waiting = undefined;
    return wake;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.hooks.ended(this);
  }
}
