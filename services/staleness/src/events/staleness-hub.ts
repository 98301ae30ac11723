/** The in-process fan-out behind WatchStaleness, fed by a NATS subscription so every replica's watchers see every change. */
import { fromBinary } from "@bufbuild/protobuf";
import {
  EVENT_MESSAGES,
  STALENESS_DETECTED_ALL,
  STALENESS_DETECTED_PREFIX,
  isInProcessBus,
  subjectFor,
  type EventConnection,
  type Logger,
  type StalenessDetected,
} from "@provenance/shared";

type Listener = (change: StalenessDetected) => void;

/** Most changes one slow watcher may have queued before it is cut off. */
const MAX_QUEUED = 10_000;

/** Subscribes to every project's staleness changes (core NATS or the in-process bus, no durable state) and hands each change to every watcher. */
export class StalenessHub {
  private readonly listeners = new Set<Listener>();
  private sub?: { unsubscribe(): void };

  constructor(
    private readonly nc: EventConnection,
    private readonly namespace: string,
    private readonly logger: Logger,
  ) {}

  /** Starts the subscription; resolves once the server has it, so nothing published afterwards is missed. */
  async start(): Promise<void> {
    const subject = subjectFor(this.namespace, STALENESS_DETECTED_ALL);
    if (isInProcessBus(this.nc)) {
      this.sub = this.nc.subscribe(subject, (_subject, data) => this.deliver(data, subject));
      return;
    }
    this.sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) this.logger.warn({ err }, "staleness subscription error");
        else this.deliver(msg.data, msg.subject);
      },
    });
    await this.nc.flush();
  }

  private deliver(data: Uint8Array, subject: string): void {
    // A detection sends one event per project, each with up to thousands of ids: decode only for someone.
    if (this.listeners.size === 0) return;
    let change: StalenessDetected;
    try {
      change = fromBinary(EVENT_MESSAGES[STALENESS_DETECTED_PREFIX], data);
    } catch (err) {
      this.logger.warn({ err, subject }, "undecodable StalenessDetected; skipped");
      return;
    }
    for (const l of this.listeners) l(change);
  }

  /** Stops the subscription. */
  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    this.listeners.clear();
  }

  /** How many watchers are connected. */
  get watcherCount(): number {
    return this.listeners.size;
  }

  /** The changes of one project ("" = all) from now until `signal` aborts. */
  async *watch(projectId: string, signal: AbortSignal): AsyncGenerator<StalenessDetected> {
    const queue: StalenessDetected[] = [];
    let wake: (() => void) | undefined;
    let overflow = false;
    const listener: Listener = (c) => {
      if (projectId !== "" && c.projectId !== projectId) return;
      if (queue.length >= MAX_QUEUED) overflow = true;
      else queue.push(c);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.listeners.add(listener);
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (overflow) throw new Error("watcher fell too far behind; reconnect and read the report");
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.listeners.delete(listener);
      signal.removeEventListener("abort", onAbort);
    }
  }
}
