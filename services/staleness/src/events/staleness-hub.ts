/**
 * The in-process fan-out behind WatchStaleness: one subscription per process to every project's detected subject,
 * each change routed by its project and handed, as one shared object (its bytes, decoded only if a JSON stream asks),
 * to the bounded queue of each stream watching its project.
 * It only listens: detection publishes through the outbox and never waits on a watcher.
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { HandlerContext } from "@connectrpc/connect";
import { Counter, Gauge, type Registry } from "prom-client";
import {
  STALENESS_DETECTED_ALL,
  StalenessDetectedSchema,
  isInProcessBus,
  requestTransportKey,
  subjectFor,
  type EventConnection,
  type Logger,
} from "@provenance/shared";
import type { WatchLimits } from "../domain/watch-bounds.js";
import { SendBudget } from "./send-budget.js";
import { SlicedWake } from "./sliced-wake.js";
import { PublishedChange, Watcher, type Sending, type WatchedChange } from "./watcher.js";
import { WatcherRegistry } from "./watcher-registry.js";

/** Who holds a stream, for `WATCH_MAX_STREAMS_PER_CALLER`: a key derived from the request's context. */
export type WatchCaller = (ctx: HandlerContext) => string;

/**
 * The default {@link WatchCaller}: the socket's remote address. Headers such as `x-forwarded-for` are written by the
 * client and not trusted; once requests carry identity, the token's `sub` takes this place.
 */
export const remoteAddressCaller: WatchCaller = (ctx) => ctx.values.get(requestTransportKey).remoteAddress;

/** What the hub needs. */
export interface StalenessHubOptions {
  nc: EventConnection;
  namespace: string;
  logger: Logger;
  limits: WatchLimits;
  /** Default {@link remoteAddressCaller}. */
  callerOf?: WatchCaller;
  /**
   * How long a stream whose reader fell behind may take to read its RESOURCE_EXHAUSTED before its transport stream is
   * reset (a reader that reads nothing at all never gets to the error); default 5 s.
   */
  cutOffGraceMs?: number;
  /**
   * How long a stream's transport may hold a change it was handed without taking it while other streams wait for
   * `WATCH_MAX_BUFFERED_BYTES`, before the stream is taken as fallen behind; default 5 s.
   */
  holdLimitMs?: number;
  /** Where `staleness_watch_streams` and the refusal counters are registered (default: nowhere). */
  metrics?: Registry;
}

const DEFAULT_CUT_OFF_GRACE_MS = 5000;
const DEFAULT_HOLD_LIMIT_MS = 5000;

interface WatchMetrics {
  refused: Counter<"bound">;
  fellBehind: Counter;
}

function watchMetrics(registry: Registry, open: () => number, budget: SendBudget): WatchMetrics {
  new Gauge({
    name: "staleness_watch_streams",
    help: "Open WatchStaleness streams on this server",
    registers: [registry],
    collect() {
      this.set(open());
    },
  });
  new Gauge({
    name: "staleness_watch_buffered_bytes",
    help: "Bytes of changes handed to WatchStaleness streams and not yet sent (bounded by WATCH_MAX_BUFFERED_BYTES)",
    registers: [registry],
    collect() {
      this.set(budget.bytesHeld);
    },
  });
  new Gauge({
    name: "staleness_watch_waiting_streams",
    help: "WatchStaleness streams waiting for WATCH_MAX_BUFFERED_BYTES to send their next change",
    registers: [registry],
    collect() {
      this.set(budget.waiting);
    },
  });
  return {
    refused: new Counter({
      name: "staleness_watch_refused_total",
      help: "WatchStaleness streams refused RESOURCE_EXHAUSTED, by the bound they would have exceeded",
      labelNames: ["bound"],
      registers: [registry],
    }),
    fellBehind: new Counter({
      name: "staleness_watch_fell_behind_total",
      help: "WatchStaleness streams ended RESOURCE_EXHAUSTED because their reader let WATCH_QUEUE_LENGTH changes pile up",
      registers: [registry],
    }),
  };
}

/** Subscribes to every project's staleness changes (core NATS or the in-process bus, no durable state) and hands each change to the streams watching its project. */
export class StalenessHub {
  private readonly registry: WatcherRegistry;
  private readonly sending: Sending;
  private readonly wake = new SlicedWake();
  private readonly callerOf: WatchCaller;
  private readonly cutOffGraceMs: number;
  private readonly metrics: WatchMetrics | undefined;
  private readonly cutOffTimers = new Map<Watcher, NodeJS.Timeout>();
  private sub?: { unsubscribe(): void };

  constructor(private readonly opts: StalenessHubOptions) {
    this.registry = new WatcherRegistry(opts.limits);
    this.sending = { budget: new SendBudget(opts.limits.maxBufferedBytes), holdLimitMs: opts.holdLimitMs ?? DEFAULT_HOLD_LIMIT_MS };
    this.callerOf = opts.callerOf ?? remoteAddressCaller;
    this.cutOffGraceMs = opts.cutOffGraceMs ?? DEFAULT_CUT_OFF_GRACE_MS;
    this.metrics = opts.metrics ? watchMetrics(opts.metrics, () => this.registry.size, this.sending.budget) : undefined;
  }

  /** Starts the subscription; resolves once the server has it, so nothing published afterwards is missed. */
  async start(): Promise<void> {
    const { nc, namespace, logger } = this.opts;
    const subject = subjectFor(namespace, STALENESS_DETECTED_ALL);
    if (isInProcessBus(nc)) {
      this.sub = nc.subscribe(subject, (_subject, data) => this.deliver(data, subject));
      return;
    }
    this.sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) logger.warn({ err }, "staleness subscription error");
        else this.deliver(msg.data, msg.subject);
      },
    });
    await nc.flush();
  }

  /** Stops the subscription and ends every stream. */
  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    this.wake.clear();
    for (const watcher of [...this.registry.all()]) watcher.end();
  }

  /** Bytes of changes handed to streams and not yet sent, and how many streams wait for their turn. */
  get buffered(): { bytes: number; waitingStreams: number } {
    const { budget } = this.sending;
    return { bytes: budget.bytesHeld, waitingStreams: budget.waiting };
  }

  /** How many streams hold a slot (registered watchers, including those cut off and not yet closed). */
  get watcherCount(): number {
    return this.registry.size;
  }

  /**
   * Registers a stream for the changes of `projects` (undefined = every project) and returns them, from now until
   * `ctx.signal` aborts. Throws WatchLimitReached at once when the caller or the server is at its bound; the changes
   * throw WatchLimitReached when the reader falls {@link WatchLimits.queueLength} changes behind.
   */
  watch(projects: readonly string[] | undefined, ctx: HandlerContext): AsyncGenerator<WatchedChange> {
    const transport = ctx.values.get(requestTransportKey);
    const watcher = new Watcher(this.callerOf(ctx), projects, this.opts.limits.queueLength, {
      fellBehind: (w) => this.cutOff(w, transport.abort),
      ended: (w) => this.release(w),
    }, this.sending);
    try {
      this.registry.add(watcher);
    } catch (err) {
      this.metrics?.refused.inc({ bound: (err as { bound?: string }).bound ?? "unknown" });
      throw err;
    }
    if (ctx.signal.aborted) watcher.end();
    else ctx.signal.addEventListener("abort", () => watcher.end(), { once: true });
    return watcher.changes(ctx.signal);
  }

  private deliver(data: Uint8Array, subject: string): void {
    // A detection sends one event per project, each with up to thousands of ids: nothing is done for nobody, and
    // the ids are never decoded for binary streams (they are sent the bytes); only the project is read, to route it.
    if (this.registry.size === 0) return;
    let projectId: string;
    try {
      projectId = projectIdOf(data);
    } catch (err) {
      this.opts.logger.warn({ err, subject }, "undecodable StalenessDetected; skipped");
      return;
    }
    // A copy: the client may reuse its read buffer, and every stream keeps a reference to these bytes.
    const shared: WatchedChange = new PublishedChange(data.slice());
    const wakes: (() => void)[] = [];
    for (const watcher of this.registry.routesOf(projectId)) {
      const wake = watcher.offer(shared);
      if (wake) wakes.push(wake);
    }
    this.wake.add(wakes);
  }

  private cutOff(watcher: Watcher, abortTransport: () => void): void {
    this.registry.unroute(watcher);
    this.metrics?.fellBehind.inc();
    const timer = setTimeout(() => {
      this.cutOffTimers.delete(watcher);
      abortTransport();
      watcher.end();
    }, this.cutOffGraceMs);
    timer.unref();
    this.cutOffTimers.set(watcher, timer);
  }

  private release(watcher: Watcher): void {
    const timer = this.cutOffTimers.get(watcher);
    if (timer) {
      clearTimeout(timer);
      this.cutOffTimers.delete(watcher);
    }
    this.registry.remove(watcher);
  }
}

/** StalenessDetected's `project_id` field number, from the generated schema. */
const PROJECT_ID_FIELD = StalenessDetectedSchema.field.projectId.number;

/**
 * The project of an encoded StalenessDetected, read without decoding the rest: every field is stepped over (so a
 * message that is not well-formed protobuf throws here, as decoding it would) and only `project_id` is read. Decoding
 * the whole message for every change held each stream's current change as thousands of strings in the heap while its
 * reader was slow: 1,000 streams at a million receipts ran the service out of its 128 MiB bound.
 */
export function projectIdOf(data: Uint8Array): string {
  const reader = new BinaryReader(data);
  let projectId = "";
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === PROJECT_ID_FIELD && wireType === WireType.LengthDelimited) projectId = reader.string();
    else reader.skip(wireType, fieldNo);
  }
  return projectId;
}
