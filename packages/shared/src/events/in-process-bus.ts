/**
 * The in-process event bus `npm start` falls back to when there is no NATS: streams, de-duplication
 * by message id, durable consumers with explicit ack/nak/term and redelivery, and core subscriptions,
 * all in this process's memory. It keeps the semantics the services rely on, not the durability:
 * everything is gone when the process exits. Production and tests use NATS JetStream.
 */
import type { Delivery, DeliverySource } from "./delivery.js";
import { DUPLICATE_WINDOW_MS } from "./streams.js";
import { STREAM_SUBJECTS, streamName, subjectFor, subjectMatches, type StreamKind } from "./subjects.js";

interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

interface Stream {
  kind: StreamKind;
  pattern: string;
  messages: StoredMessage[];
  lastSeq: number;
  /** Message id -> when it may be published again. */
  recentIds: Map<string, number>;
  durables: Map<string, Durable>;
}

interface Durable {
  filters: string[];
  /** Next stream sequence not yet handed out. */
  cursor: number;
  /** Deliveries per sequence, for messages handed out and not yet acked or termed. */
  outstanding: Map<number, number>;
  /** Sequences due again, with the time they are due. */
  redeliver: Map<number, number>;
  wake?: () => void;
}

/** The URL scheme that selects the in-process bus instead of NATS. */
export const IN_PROCESS_BUS_URL = "memory://local";

/** An in-memory stand-in for NATS JetStream with the operations the services use. */
export class InProcessBus {
  private readonly streams = new Map<string, Stream>();
  private readonly subscriptions = new Set<{ pattern: string; callback: (subject: string, data: Uint8Array) => void }>();
  private closed = false;

  /** The bus of this process (every service of `npm start` shares it). */
  static readonly shared = new InProcessBus();

  /** Creates the namespace's PROVENANCE and GENERATION streams if missing. */
  ensureStreams(ns: string): void {
    for (const kind of Object.keys(STREAM_SUBJECTS) as StreamKind[]) {
      const name = streamName(ns, kind);
      if (!this.streams.has(name)) {
        this.streams.set(name, {
          kind,
          pattern: subjectFor(ns, STREAM_SUBJECTS[kind]),
          messages: [],
          lastSeq: 0,
          recentIds: new Map(),
          durables: new Map(),
        });
      }
    }
  }

  /** Stores a message in the stream that captures `subject`, dropping a repeated `msgID` within the duplicate window. */
  publish(subject: string, data: Uint8Array, opts: { msgID: string; headers: Record<string, string> }): { seq: number; duplicate: boolean } {
    if (this.closed) throw new Error("the in-process event bus is closed");
    const stream = [...this.streams.values()].find((s) => subjectMatches(s.pattern, subject));
    if (!stream) throw new Error(`no stream captures ${subject}`);
    const now = Date.now();
    const until = stream.recentIds.get(opts.msgID);
    if (until !== undefined && until > now) return { seq: 0, duplicate: true };
    stream.recentIds.set(opts.msgID, now + DUPLICATE_WINDOW_MS);
    const seq = ++stream.lastSeq;
    stream.messages.push({ seq, subject, data, headers: { ...opts.headers, "Nats-Msg-Id": opts.msgID } });
    for (const d of stream.durables.values()) d.wake?.();
    for (const sub of this.subscriptions) if (subjectMatches(sub.pattern, subject)) sub.callback(subject, data);
    return { seq, duplicate: false };
  }

  /** A core (non-durable) subscription, like NATS's: every later message whose subject matches. */
  subscribe(pattern: string, callback: (subject: string, data: Uint8Array) => void): { unsubscribe(): void } {
    const sub = { pattern, callback };
    this.subscriptions.add(sub);
    return { unsubscribe: () => void this.subscriptions.delete(sub) };
  }

  /**
   * Consumes a durable consumer (created on first use, resumed after): at most `maxInFlight`
   * messages handed out and not yet settled, redelivery after nak.
   */
  consume(ns: string, kind: StreamKind, name: string, filters: string[], maxInFlight: number): DeliverySource {
    const stream = this.streams.get(streamName(ns, kind));
    if (!stream) throw new Error(`stream ${streamName(ns, kind)} does not exist`);
    let durable = stream.durables.get(name);
    if (!durable) {
      durable = { filters, cursor: 1, outstanding: new Map(), redeliver: new Map() };
      stream.durables.set(name, durable);
    }
    const d = durable;
    let open = true;
    const settle = (seq: number, done: boolean, delayMs = 0) => {
      if (!d.outstanding.has(seq)) return;
      if (done) {
        d.outstanding.delete(seq);
        d.redeliver.delete(seq);
        // A work queue forgets what its consumer finished.
        if (stream.kind === "GENERATION") stream.messages = stream.messages.filter((m) => m.seq !== seq);
      } else {
        d.redeliver.set(seq, Date.now() + delayMs);
      }
      d.wake?.();
    };
    const next = (): StoredMessage | undefined => {
      const now = Date.now();
      for (const [seq, due] of d.redeliver) {
        if (due <= now) {
          d.redeliver.delete(seq);
          const m = stream.messages.find((x) => x.seq === seq);
          if (m) return m;
          d.outstanding.delete(seq);
        }
      }
      const inFlight = d.outstanding.size - d.redeliver.size;
      if (inFlight >= maxInFlight) return undefined;
      while (d.cursor <= stream.lastSeq) {
        const m = stream.messages.find((x) => x.seq === d.cursor);
        d.cursor += 1;
        if (m && d.filters.some((f) => subjectMatches(f, m.subject))) return m;
      }
      return undefined;
    };
    const deliveries: AsyncIterableIterator<Delivery> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next(): Promise<IteratorResult<Delivery>> {
        for (;;) {
          if (!open) return { done: true, value: undefined };
          const m = next();
          if (m) {
            const count = (d.outstanding.get(m.seq) ?? 0) + 1;
            d.outstanding.set(m.seq, count);
            return {
              done: false,
              value: {
                subject: m.subject,
                data: m.data,
                headers: m.headers,
                deliveryCount: count,
                seq: m.seq,
                ack: () => settle(m.seq, true),
                term: () => settle(m.seq, true),
                nak: (delayMs?: number) => settle(m.seq, false, delayMs ?? 0),
              },
            };
          }
          // Sleep until a publish, a settle, or the earliest redelivery falls due. The timer is set here,
          // at each sleep, so one that fires a little early (before Date.now() reaches the due time) is
          // followed by another instead of leaving the message waiting for the next publish.
          const earliest = Math.min(...d.redeliver.values());
          await new Promise<void>((resolve) => {
            d.wake = resolve;
            if (Number.isFinite(earliest)) setTimeout(resolve, Math.max(1, earliest - Date.now() + 1)).unref();
          });
        }
      },
    };
    return {
      [Symbol.asyncIterator]: () => deliveries,
      async close() {
        open = false;
        // Handed out but unsettled messages go back to the durable for its next consumer.
        for (const seq of d.outstanding.keys()) if (!d.redeliver.has(seq)) d.redeliver.set(seq, 0);
        d.wake?.();
      },
    };
  }

  /** Messages of a durable not yet acknowledged: waiting, in flight, or due again. */
  lag(ns: string, kind: StreamKind, name: string): number {
    const stream = this.streams.get(streamName(ns, kind));
    const d = stream?.durables.get(name);
    if (!stream || !d) return 0;
    const waiting = stream.messages.filter((m) => m.seq >= d.cursor && d.filters.some((f) => subjectMatches(f, m.subject))).length;
    return waiting + d.outstanding.size;
  }

  /** Whether the bus was closed. */
  isClosed(): boolean {
    return this.closed;
  }

  /** Nothing is buffered: resolves at once. */
  async flush(): Promise<void> {}

  /** Like a NATS connection's drain: the shared bus stays open for the other services of the process. */
  async drain(): Promise<void> {}
}

/** Whether an event connection is the in-process bus. */
export function isInProcessBus(x: unknown): x is InProcessBus {
  return x instanceof InProcessBus;
}
