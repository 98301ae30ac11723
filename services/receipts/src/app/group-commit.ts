/**
 * Group commit for single calls: concurrent CreateReceipt (or CompleteReceipt) calls that arrive while the queue's
 * write transactions are in flight ({@link DEFAULT_GROUPS_IN_FLIGHT} at once) are queued and written together in the
 * next transaction, so many calls share one commit (one WAL flush) instead of one each. A lone call goes at once:
 * nothing waits for a group to fill, groups form only from the calls that queued behind the transactions in flight.
 * Each caller gets exactly its own answer or its own error (the group writer reports an outcome per call); calls with
 * the same key (idempotency key, receipt id) never share a group, nor are two in flight at once: the later one waits,
 * so each sees what it would see after the other alone.
 */
import { AsyncResource } from "node:async_hooks";
import { Histogram, type Registry } from "prom-client";

/** One call's answer, or its own error. */
export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** RECEIPT_GROUP_COMMIT_MAX_SIZE when unset, and its largest value: the batch RPCs' limit. */
export const MAX_GROUP_COMMIT_SIZE = 1000;

/** How a queue writes its calls. */
export interface GroupWriter<I, O> {
  /** Calls with the same key never share a group. */
  keyOf(item: I): string;
  /**
   * Writes the calls of a group (two or more) in one transaction and returns each one's outcome, in order; throws when
   * the transaction failed as a whole (a database error), and then each call is written alone instead.
   */
  writeGroup(items: readonly I[]): Promise<Outcome<O>[]>;
  /** Writes one call in its own transaction, as if it had never been grouped. */
  writeAlone(item: I): Promise<O>;
}

interface Queued<I, O> {
  item: I;
  /** The caller's async context (its request id, its log context): a call written alone runs in it. */
  scope: AsyncResource;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/** Transactions of one queue in flight at once, by default. */
export const DEFAULT_GROUPS_IN_FLIGHT = 2;

/**
 * One queue of single calls and its transactions in flight (at most `inFlight`; a call that finds one free starts at
 * once, the others queue for the next free one and go together).
 */
export class GroupCommitQueue<I, O> {
  private readonly queue: Queued<I, O>[] = [];
  private running = 0;
  /** Keys of the calls being written: a call with one of them waits, so each sees the other's result. */
  private readonly busyKeys = new Set<string>();

  constructor(
    private readonly writer: GroupWriter<I, O>,
    /** The most calls one transaction takes (1: every call alone). */
    private readonly maxSize: number,
    /** Told each group's size as it is written. */
    private readonly onGroup: (size: number) => void = () => {},
    private readonly inFlight: number = DEFAULT_GROUPS_IN_FLIGHT,
  ) {}

  /** Queues a call; written at once when a transaction slot is free, else with the next group. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, scope: new AsyncResource("receipts.group-commit"), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.inFlight && this.queue.length > 0) {
      const group = this.take();
      if (group.length === 0) return;
      const keys = group.map((q) => this.writer.keyOf(q.item));
      for (const k of keys) this.busyKeys.add(k);
      this.running += 1;
      void this.write(group).finally(() => {
        for (const k of keys) this.busyKeys.delete(k);
        this.running -= 1;
        this.pump();
      });
    }
  }

  /** Up to maxSize queued calls in arrival order, one per key and none of a key being written; the rest stay queued. */
  private take(): Queued<I, O>[] {
    const group: Queued<I, O>[] = [];
    const keys = new Set<string>();
    const rest: Queued<I, O>[] = [];
    for (const q of this.queue) {
      const key = this.writer.keyOf(q.item);
      if (group.length < this.maxSize && !keys.has(key) && !this.busyKeys.has(key)) {
        keys.add(key);
        group.push(q);
      } else {
        rest.push(q);
      }
    }
    this.queue.splice(0, this.queue.length, ...rest);
    return group;
  }

  private async write(group: Queued<I, O>[]): Promise<void> {
    this.onGroup(group.length);
    if (group.length === 1) return this.alone(group[0]!);
    let outcomes: Outcome<O>[];
    try {
      outcomes = await group[0]!.scope.runInAsyncScope(() => this.writer.writeGroup(group.map((q) => q.item)));
    } catch {
      // The shared transaction failed as a whole: each call is written alone and gets what it would have got alone.
      await Promise.all(group.map((q) => this.alone(q)));
      return;
    }
    group.forEach((q, i) => {
      const o = outcomes[i]!;
      if (o.ok) q.resolve(o.value);
      else q.reject(o.error);
    });
  }

  private async alone(q: Queued<I, O>): Promise<void> {
    try {
      q.resolve(await q.scope.runInAsyncScope(() => this.writer.writeAlone(q.item)));
    } catch (err) {
      q.reject(err);
    }
  }
}

/** The histogram of group sizes (`kind`: create, complete), registered once per registry. */
export function groupCommitSizeHistogram(registry: Registry): Histogram<"kind"> {
  const name = "provenance_receipts_group_commit_size";
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<"kind">;
  return new Histogram({
    name,
    help: "Single CreateReceipt / CompleteReceipt calls written per transaction (group commit)",
    labelNames: ["kind"],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
    registers: [registry],
  });
}

/** How single calls on one data source are grouped: RECEIPT_GROUP_COMMIT_MAX_SIZE and where sizes are observed. */
export interface GroupCommitSettings {
  maxSize: number;
  metrics?: Registry;
}

const settingsByOwner = new WeakMap<object, GroupCommitSettings>();
const queuesByOwner = new WeakMap<object, Map<string, GroupCommitQueue<unknown, unknown>>>();

/** Sets how single calls on `owner` (the service's DataSource) are grouped; before its first call. */
export function configureGroupCommit(owner: object, settings: GroupCommitSettings): void {
  settingsByOwner.set(owner, settings);
  queuesByOwner.delete(owner);
}

/** The `kind` queue of `owner`, made on first use with its settings (default: groups up to 1,000, no metric). */
export function groupCommitQueue<I, O>(owner: object, kind: string, writer: () => GroupWriter<I, O>): GroupCommitQueue<I, O> {
  let queues = queuesByOwner.get(owner);
  if (!queues) {
    queues = new Map();
    queuesByOwner.set(owner, queues);
  }
  let queue = queues.get(kind) as GroupCommitQueue<I, O> | undefined;
  if (!queue) {
    const settings = settingsByOwner.get(owner) ?? { maxSize: MAX_GROUP_COMMIT_SIZE };
    const histogram = settings.metrics ? groupCommitSizeHistogram(settings.metrics) : undefined;
    queue = new GroupCommitQueue(writer(), settings.maxSize, histogram ? (size) => histogram.observe({ kind }, size) : undefined);
    queues.set(kind, queue as GroupCommitQueue<unknown, unknown>);
  }
  return queue;
}
