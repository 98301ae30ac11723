import { runWithRequestId } from "../logging/request-context.js";
import { EVENT_REQUEST_ID_HEADER } from "./enqueue-event.js";
import { fromBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  ReplayPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { Delivery, DeliverySource } from "./delivery.js";
import { batchesOf } from "./delivery-batches.js";
import { isInProcessBus, type InProcessBus } from "./in-process-bus.js";
import type { EventConnection } from "./event-connection.js";
import { STREAM_SUBJECTS, streamName, stripNamespace, subjectFor, subjectMatches, type StreamKind } from "./subjects.js";

/** One delivered event, as a handler sees it. */
export interface ConsumedEvent {
  /** Un-namespaced subject, e.g. "provenance.receipt.created". */
  subject: string;
  /** The event id (Nats-Msg-Id). */
  eventId: string;
  /** The encoded event. */
  data: Uint8Array;
  /** Message headers (first value of each). */
  headers: Record<string, string>;
  /** 0 on first delivery, then how many times it was delivered before. */
  redeliveryCount: number;
  /** The decoded event, when `eventSchema` names this subject. */
  event?: Message;
}

/** How startConsumer subscribes and handles. */
export interface ConsumerOptions {
  /** NATS, or the in-process bus. */
  nc: EventConnection;
  /** Subject namespace ("" in production). */
  namespace: string;
  stream: StreamKind;
  /** Durable consumer name; replicas sharing it share the work. */
  durable: string;
  /** Un-namespaced subjects (wildcards allowed). */
  filterSubjects: string[];
  /** Message schema per un-namespaced subject, to decode `event` (exact subjects only). */
  eventSchema?: Record<string, DescMessage>;
  /**
   * Events this consumer has nothing to do with, told by their headers (first value of each) and un-namespaced
   * subject: acked at once, neither decoded nor handed to the handler.
   */
  skip?: (headers: Record<string, string>, subject: string) => boolean;
  /** At most this many handlers run at once (default 8); with `handleBatch`, this many batches (default 1). */
  concurrency?: number;
  /** Deliveries before a failing message is terminated (default 10). */
  maxDeliver?: number;
  /** Nak delay per failed attempt, the last repeating (default 100 ms, 1 s, 5 s, 15 s, 30 s). */
  backoffMs?: number[];
  /** How long JetStream waits for an ack before redelivering, in ms (default 30 s). */
  ackWaitMs?: number;
  logger: Logger;
  /** Handles one event; resolve to ack, throw to retry later. Must be idempotent and order-independent. Give this or `handleBatch`. */
  handle?: (msg: ConsumedEvent) => Promise<void>;
  /**
   * Handles several events at once (in delivery order, each decoded); resolve to ack them all. When it throws for a
   * batch of several, each of its events is handed to it again alone (a batch of one), so one bad event does not hold
   * back the others: those that succeed are acked, the failing one is retried later like a `handle` failure. Must be
   * idempotent and independent of the order of events within and across batches. Give this or `handle`.
   */
  handleBatch?: (events: ConsumedEvent[]) => Promise<void>;
  /** With `handleBatch`: at most this many events per batch, also the JetStream pull size (default 500). */
  batchSize?: number;
  /** With `handleBatch`: how long the first event of a batch waits for more before the batch is handled, in ms (default 10). */
  batchWaitMs?: number;
}

/** A running consumer. */
export interface RunningConsumer {
  /** Stops pulling, waits for handlers in flight to settle. */
  stop(): Promise<void>;
  /** Messages not yet acknowledged by the durable (pending plus in flight). */
  lag(): Promise<number>;
}

const DEFAULT_BACKOFF_MS = [100, 1_000, 5_000, 15_000, 30_000];
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_BATCH_WAIT_MS = 10;
const DEFAULT_MAX_DELIVER = 10;

/** How a consumer settles what it was handed: decode, handle (alone or in batches), ack, nak with backoff, term. */
class DeliveryHandler {
  private readonly backoff: number[];
  private readonly maxDeliver: number;

  constructor(
    private readonly opts: ConsumerOptions,
    private readonly clientFilters: string[] | undefined,
    private readonly log: Logger,
  ) {
    this.backoff = opts.backoffMs && opts.backoffMs.length > 0 ? opts.backoffMs : DEFAULT_BACKOFF_MS;
    this.maxDeliver = opts.maxDeliver ?? DEFAULT_MAX_DELIVER;
  }

  /** What the logs say about one delivery. */
  private contextOf(m: Delivery, subject: string) {
    return { subject, eventId: m.headers["Nats-Msg-Id"] ?? "", streamSeq: m.seq, attempt: m.deliveryCount };
  }

  /** The event a delivery carries, decoded; undefined when it was settled here (not ours, or undecodable). */
  prepare(m: Delivery): ConsumedEvent | undefined {
    if (this.clientFilters && !this.clientFilters.some((f) => subjectMatches(f, m.subject))) {
      m.ack();
      return undefined;
    }
    const subject = stripNamespace(this.opts.namespace, m.subject);
    const headers = m.headers;
    if (this.opts.skip?.(headers, subject)) {
      m.ack();
      return undefined;
    }
    const eventId = headers["Nats-Msg-Id"] ?? "";
    let event: Message | undefined;
    const schema = this.opts.eventSchema?.[subject];
    if (schema) {
      try {
        event = fromBinary(schema, m.data);
      } catch (err) {
        this.log.error({ ...this.contextOf(m, subject), err }, `cannot decode ${schema.typeName}; terminating the message`);
        m.term();
        return undefined;
      }
    }
    return { subject, eventId, data: m.data, headers, redeliveryCount: m.deliveryCount - 1, event };
  }

  /** Naks a delivery whose handling failed, with the backoff of its attempt, or terms it after `maxDeliver`. */
  private failed(m: Delivery, e: ConsumedEvent, err: unknown): void {
    const ctx = this.contextOf(m, e.subject);
    const attempt = m.deliveryCount;
    if (attempt >= this.maxDeliver) {
      this.log.error({ ...ctx, err }, `handler failed ${attempt} times; giving up on the event`);
      m.term();
      return;
    }
    const delay = this.backoff[Math.min(attempt - 1, this.backoff.length - 1)]!;
    this.log.warn({ ...ctx, err, retryInMs: delay }, "handler failed; will retry");
    m.nak(delay);
  }

  /** Handles one event alone (with `handle`, or as a batch of one), under its request id; acks or fails it. */
  async handleOne(m: Delivery, e: ConsumedEvent): Promise<void> {
    const requestId = e.headers[EVENT_REQUEST_ID_HEADER] || e.eventId;
    try {
      await runWithRequestId(requestId, () => (this.opts.handle ? this.opts.handle(e) : this.opts.handleBatch!([e])));
      m.ack();
    } catch (err) {
      this.failed(m, e, err);
    }
  }

  /** Handles deliveries as one batch, acking them all; when the batch fails, each event again alone. */
  async handleBatch(deliveries: Delivery[]): Promise<void> {
    const ready: { m: Delivery; e: ConsumedEvent }[] = [];
    for (const m of deliveries) {
      const e = this.prepare(m);
      if (e) ready.push({ m, e });
    }
    if (ready.length > 1) {
      try {
        await this.opts.handleBatch!(ready.map((r) => r.e));
        for (const r of ready) r.m.ack();
        return;
      } catch (err) {
        const seqs = { firstSeq: ready[0]!.m.seq, lastSeq: ready[ready.length - 1]!.m.seq };
        this.log.warn({ err, events: ready.length, ...seqs }, "batch handler failed; handling its events one by one");
      }
    }
    for (const r of ready) await this.handleOne(r.m, r.e);
  }
}

/**
 * Takes each unit of work (a delivery or a batch) from `units` and runs it with at most `concurrency` in flight. The
 * next unit is taken only once there is room for it, so a batch keeps filling until it can be handled. Once
 * `stopping()` is true, units taken are handed back at once rather than after ack_wait. Resolves when `units` ends;
 * `inFlight` holds the work still running.
 */
async function runBounded<U>(
  units: AsyncIterable<U>,
  concurrency: number,
  work: (u: U) => Promise<void>,
  handBack: (u: U) => void,
  stopping: () => boolean,
  inFlight: Set<Promise<void>>,
  log: Logger,
): Promise<void> {
  let slotFreed: (() => void) | undefined;
  const iterator = units[Symbol.asyncIterator]();
  for (;;) {
    while (inFlight.size >= concurrency) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
    }
    const next = await iterator.next();
    if (next.done) break;
    const u = next.value;
    if (stopping()) {
      handBack(u);
      continue;
    }
    const p: Promise<void> = work(u)
      .catch((err: unknown) => log.error({ err }, "consumer handler crashed"))
      .finally(() => {
        inFlight.delete(p);
        const wakeLoop = slotFreed;
        slotFreed = undefined;
        wakeLoop?.();
      });
    inFlight.add(p);
  }
}

/**
 * Creates (or updates) a durable pull consumer with explicit acks and consumes it: at most
 * `concurrency` handlers in flight, ack when the handler resolves, nak with growing delay when it
 * throws, term (with an error log) after `maxDeliver` deliveries or when the event cannot be decoded.
 * No ordering is promised when concurrency > 1.
 *
 * With `handleBatch` instead of `handle`, events are pulled `batchSize` at a time and handled in batches, at most
 * `concurrency` batches at once (default 1; more only if the handler's transactions take their locks in one fixed
 * order): a batch is handed over when full or when its first event has waited `batchWaitMs`, and the next batch fills
 * while the others are handled. A batch of several runs under no request id (its events came from many requests); a
 * batch of one, including each event retried alone after its batch failed, runs under that event's request id.
 */
export async function startConsumer(opts: ConsumerOptions): Promise<RunningConsumer> {
  if (!opts.handle === !opts.handleBatch) throw new Error(`startConsumer(${opts.durable}): give exactly one of handle and handleBatch`);
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? DEFAULT_BATCH_SIZE));
  const concurrency = Math.max(1, opts.concurrency ?? (opts.handleBatch ? 1 : 8));
  const stream = streamName(opts.namespace, opts.stream);
  const log = opts.logger.child({ component: "consumer", stream, durable: opts.durable });
  const filters = opts.filterSubjects.map((s) => subjectFor(opts.namespace, s));
  if (filters.length === 0) throw new Error(`startConsumer(${opts.durable}): filterSubjects is empty`);
  // Messages held at once: the handlers in flight, or the batches in hand plus the next one filling (and, on
  // JetStream, one more pull on its way); the durable must let that many be unacknowledged.
  const window = opts.handleBatch
    ? { pull: batchSize, inFlight: (concurrency + 1) * batchSize, maxAckPending: (concurrency + 2) * batchSize }
    : { pull: concurrency, inFlight: concurrency };
  const { source, lag, clientFilters } = isInProcessBus(opts.nc)
    ? inProcessSource(opts.nc, opts, filters, window.inFlight)
    : await jetStreamSource(opts.nc, opts, filters, window, opts.maxDeliver ?? DEFAULT_MAX_DELIVER, log);
  const handler = new DeliveryHandler(opts, clientFilters, log);

  let stopping = false;
  const isStopping = () => stopping;
  const inFlight = new Set<Promise<void>>();
  const loop = (
    opts.handleBatch
      ? runBounded(
          batchesOf(source, { size: batchSize, maxWaitMs: opts.batchWaitMs ?? DEFAULT_BATCH_WAIT_MS }),
          concurrency,
          (batch) => handler.handleBatch(batch),
          (batch) => batch.forEach((m) => m.nak()),
          isStopping,
          inFlight,
          log,
        )
      : runBounded(
          source,
          concurrency,
          async (m) => {
            const e = handler.prepare(m);
            if (e) await handler.handleOne(m, e);
          },
          (m) => m.nak(),
          isStopping,
          inFlight,
          log,
        )
  ).catch((err: unknown) => log.error({ err }, "consumer stopped with an error"));

  log.info({ filterSubjects: opts.filterSubjects, concurrency, ...(opts.handleBatch ? { batchSize } : {}) }, "consumer started");
  return {
    async stop() {
      stopping = true;
      await source.close().catch(() => undefined);
      await loop;
      await Promise.allSettled([...inFlight]);
      log.info("consumer stopped");
    },
    lag,
  };
}

function serverAtLeast(nc: NatsConnection, major: number, minor: number): boolean {
  const [ma = 0, mi = 0] = (nc.info?.version ?? "0.0.0").split(".").map((n) => Number.parseInt(n, 10));
  return ma > major || (ma === major && mi >= minor);
}

interface Acquired {
  source: DeliverySource;
  lag: () => Promise<number>;
  clientFilters?: string[];
}

function inProcessSource(bus: InProcessBus, opts: ConsumerOptions, filters: string[], maxInFlight: number): Acquired {
  return {
    source: bus.consume(opts.namespace, opts.stream, opts.durable, filters, maxInFlight),
    lag: async () => bus.lag(opts.namespace, opts.stream, opts.durable),
  };
}

function deliveryOf(m: JsMsg): Delivery {
  const headers: Record<string, string> = {};
  for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k);
  return {
    subject: m.subject,
    data: m.data,
    headers,
    deliveryCount: m.info.deliveryCount,
    seq: m.seq,
    ack: () => m.ack(),
    // term() carries no reason: nats-server before 2.10.4 ignores "+TERM <reason>" altogether.
    term: () => m.term(),
    nak: (delayMs?: number) => m.nak(delayMs),
  };
}

/** Creates or updates the durable on JetStream and pulls from it. */
async function jetStreamSource(
  nc: NatsConnection,
  opts: ConsumerOptions,
  filters: string[],
  window: { pull: number; maxAckPending?: number },
  maxDeliver: number,
  log: Logger,
): Promise<Acquired> {
  const stream = streamName(opts.namespace, opts.stream);
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  // Several filters on one consumer need nats-server 2.10; before that the PROVENANCE stream is
  // read whole and the rest skipped here. A work-queue stream cannot do that (skipping deletes).
  let filterConfig: { filter_subject: string } | { filter_subjects: string[] };
  let clientFilters: string[] | undefined;
  if (filters.length === 1) filterConfig = { filter_subject: filters[0]! };
  else if (serverAtLeast(nc, 2, 10)) filterConfig = { filter_subjects: filters };
  else if (opts.stream === "PROVENANCE") {
    filterConfig = { filter_subject: subjectFor(opts.namespace, STREAM_SUBJECTS[opts.stream]) };
    clientFilters = filters;
    log.info({ server: nc.info?.version }, "nats-server < 2.10: filtering subjects in the client");
  } else {
    throw new Error(`startConsumer(${opts.durable}): several filter subjects on ${stream} need nats-server 2.10 or later`);
  }
  const updatable = {
    ...filterConfig,
    ack_wait: nanos(opts.ackWaitMs ?? 30_000),
    max_deliver: maxDeliver,
    // The server's default (1000) would starve a batch consumer with batches in flight.
    ...(window.maxAckPending ? { max_ack_pending: window.maxAckPending } : {}),
  };
  try {
    await jsm.consumers.info(stream, opts.durable);
    await jsm.consumers.update(stream, opts.durable, updatable);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(stream, {
      ...updatable,
      durable_name: opts.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
    });
  }
  const consumer = await js.consumers.get(stream, opts.durable);
  // Pull no more than can run (or fill one batch), so waiting messages are not held (and their ack_wait spent) here.
  const messages: ConsumerMessages = await consumer.consume({ max_messages: window.pull });
  return {
    source: {
      async *[Symbol.asyncIterator]() {
        for await (const m of messages) yield deliveryOf(m);
      },
      close: async () => {
        await messages.close();
      },
    },
    async lag() {
      const info = await jsm.consumers.info(stream, opts.durable);
      return info.num_pending + info.num_ack_pending;
    },
    clientFilters,
  };
}
