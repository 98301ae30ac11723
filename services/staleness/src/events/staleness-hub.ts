/** The in-process fan-out behind WatchStaleness, fed by a NATS subscription so every replica's watchers see every change. */
import { fromBinary } from "@bufbuild/protobuf";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { StalenessDetectedSchema, subjectFor, type Logger, type StalenessDetected } from "@provenance/shared";
import { DETECTED_SUBJECT_PREFIX } from "../domain/detected-subject.js";

type Listener = (change: StalenessDetected) => void;

/** Most changes one slow watcher may have queued before it is cut off. */
const MAX_QUEUED = 10_000;

/** Subscribes to `provenance.staleness.detected.>` (core NATS, no durable state) and hands each change to every watcher. */
export class StalenessHub {
  private readonly listeners = new Set<Listener>();
  private sub?: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    private readonly namespace: string,
    private readonly logger: Logger,
  ) {}

  /** Starts the subscription; resolves once the server has it, so nothing published afterwards is missed. */
  async start(): Promise<void> {
    this.sub = this.nc.subscribe(subjectFor(this.namespace, `${DETECTED_SUBJECT_PREFIX}.>`), {
      callback: (err, msg) => {
        if (err) {
          this.logger.warn({ err }, "staleness subscription error");
          return;
        }
        let change: StalenessDetected;
        try {
          change = fromBinary(StalenessDetectedSchema, msg.data);
        } catch (err) {
          this.logger.warn({ err, subject: msg.subject }, "undecodable StalenessDetected; skipped");
          return;
        }
        for (const l of this.listeners) l(change);
      },
    });
    await this.nc.flush();
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
