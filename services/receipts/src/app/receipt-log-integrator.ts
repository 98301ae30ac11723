/**
 * The receipt log's integrator: every ≤ 250 ms, one writer across replicas (a transaction-level advisory lock) takes
 * the queued receipt events of committed transactions (oldest transaction first; one still running is taken by a
 * later batch — docs/decisions/0007-receipt-log-order.md), builds their leaves from the receipts as served (as this
 * process wrote them, app/written-receipts.ts, else as stored), appends them in one batch (leaves, tree nodes), signs a checkpoint and enqueues provenance.log.checkpoint, all in one transaction.
 */
import type { DataSource } from "typeorm";
import type { Logger, Receipt } from "@provenance/shared";
import { appendToStore, hashLeaf, signCheckpoint, type NoteSigner } from "@provenance/shared/receipt-log";
import { completionView, leafOfView, servedView } from "../domain/receipt-log.js";
import type { ReceiptRecord } from "../domain/receipt-record.js";
import { enqueueCheckpointSigned } from "../events/receipt-log-events.js";
import {
  PgTreeNodeStore,
  completionsByIds,
  deleteQueuedLeaves,
  insertCheckpoint,
  insertLeaves,
  latestCheckpoint,
  takeQueuedLeaves,
  tryLockIntegrator,
  type NewLeaf,
  type StoredCheckpoint,
} from "../persistence/receipt-log-repository.js";
import { receiptsByIds } from "../persistence/receipt-repository.js";
import { writtenReceiptsOf } from "./written-receipts.js";

/** How often the integrator looks at the queue. */
export const INTEGRATE_INTERVAL_MS = 250;
/**
 * Most leaves one batch appends (a backlog drains over several ticks, still in order, the next tick at once). What a
 * batch holds — its receipts read back, their views, leaves and tree nodes, and the batch the auditor follows — is
 * what the service's heap needs on top of its calls: a backlog of 60,000 leaves taken 20,000 at a time ran the
 * receipts service out of its 160 MiB heap bound (as in a million-receipt benchmark load); 2,000 at a time peaked at
 * 79 MiB of heap and drained ~4,300 leaves/s, four times what the load writes.
 */
export const MAX_BATCH_LEAVES = 2_000;

/** A batch just appended: its first index, its leaves (with the receipts they were built from) and the new checkpoint. */
export interface AppendedBatch {
  from: number;
  /**
   * `record`: the whole stored receipt, read for its created leaf (absent for a receipt only completed in the batch,
   * and for one built as this process wrote it, whose inputs hash was computed from the very inputs it holds).
   */
  leaves: (NewLeaf & { record?: ReceiptRecord; view: Receipt })[];
  leafHashes: Uint8Array[];
  checkpoint: StoredCheckpoint;
}

export interface IntegratorDeps {
  dataSource: DataSource;
  signer: NoteSigner;
  origin: string;
  logger: Logger;
  /** Told of every batch this integrator committed (the auditor follows the log from it). */
  onAppended?: (batch: AppendedBatch) => void;
}

/** The integrator of one process; only one of all processes appends at a time. */
export class ReceiptLogIntegrator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private lastError = "";

  constructor(private readonly deps: IntegratorDeps) {}

  /** Starts the loop (the first tick at once). */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the loop and waits for a tick in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    writtenReceiptsOf(this.deps.dataSource).keep(false);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.integrate()
        .then((batch) => {
          this.lastError = "";
          // A full batch means a backlog: go on at once.
          this.schedule(batch && batch.leaves.length >= MAX_BATCH_LEAVES ? 0 : INTEGRATE_INTERVAL_MS);
        })
        .catch((err: unknown) => {
          const message = (err as Error).message;
          if (message !== this.lastError) this.deps.logger.error({ err }, "receipt log: integration failed; retrying");
          this.lastError = message;
          this.schedule(INTEGRATE_INTERVAL_MS * 4);
        });
    }, delay);
    this.timer.unref();
  }

  /**
   * One integration: appends what is queued (a first, empty checkpoint when there is none yet). Undefined when another
   * process holds the writer's lock or there was nothing to do.
   */
  async integrate(): Promise<AppendedBatch | undefined> {
    const { dataSource, signer, origin, logger } = this.deps;
    const written = writtenReceiptsOf(dataSource);
    const batch = await dataSource.transaction(async (m): Promise<AppendedBatch | undefined> => {
      if (!(await tryLockIntegrator(m))) {
        written.keep(false);
        return undefined;
      }
      written.keep(true);
      const tick = written.beginTick();
      const head = await latestCheckpoint(m);
      const queued = await takeQueuedLeaves(m, MAX_BATCH_LEAVES);
      // Everything queued taken: receipts remembered before this tick are in it or need no leaf from memory.
      const settle = () => queued.length < MAX_BATCH_LEAVES && written.settle(tick);
      if (head && queued.length === 0) {
        settle();
        return undefined;
      }
      const size = head?.treeSize ?? 0;
      // A leaf of a receipt this process wrote is built from it as written; the others from the database: a created
      // leaf from the whole receipt, a receipt only completed in this batch from its completion columns.
      const views = new Map<string, Receipt>();
      const completedViews = new Map<string, Receipt>();
      for (const q of queued) {
        const mine = q.event === "receipt.created" ? written.created(q.receiptId) : written.completed(q.receiptId);
        if (mine) (q.event === "receipt.created" ? views : completedViews).set(q.receiptId, servedView(mine));
      }
      const createdIds = new Set(queued.filter((q) => q.event === "receipt.created").map((q) => q.receiptId));
      const toRead = [...createdIds].filter((id) => !views.has(id));
      const records = new Map((await receiptsByIds(m, toRead)).map((r) => [r.receiptId, r]));
      const completedToRead = new Set<string>();
      for (const q of queued) if (q.event === "receipt.completed" && !completedViews.has(q.receiptId)) completedToRead.add(q.receiptId);
      for (const r of records.values()) {
        const view = servedView(r);
        views.set(r.receiptId, view);
        // Read whole just now (the completion committed before this read): its completed leaf comes from it too.
        if (completedToRead.delete(r.receiptId)) completedViews.set(r.receiptId, view);
      }
      // A completion this process did not write, of a receipt not read whole just now: its completion columns.
      for (const c of await completionsByIds(m, [...completedToRead])) completedViews.set(c.receiptId, completionView(c));
      const leaves: AppendedBatch["leaves"] = [];
      for (const q of queued) {
        const view = (q.event === "receipt.completed" ? completedViews : views).get(q.receiptId);
        if (!view) {
          // Only a receipt removed behind the service's back (triggers off) leaves its queued event without a row.
          logger.warn({ receiptId: q.receiptId, event: q.event }, "receipt log: a queued receipt is not stored; its leaf is skipped");
          continue;
        }
        let leaf: string;
        try {
          leaf = leafOfView(view, q.event);
        } catch (err) {
          // A stored receipt the leaf format cannot describe: skipped (and so reported by the rescan), never blocking the log.
          logger.error({ err, receiptId: q.receiptId, event: q.event }, "receipt log: no leaf can be built for a stored receipt; skipped");
          continue;
        }
        leaves.push({ receiptId: q.receiptId, event: q.event, leaf, view, record: records.get(q.receiptId) });
      }
      const leafHashes = leaves.map((l) => hashLeaf(l.leaf));
      const appended = await appendToStore(new PgTreeNodeStore(m), size, leafHashes);
      await insertLeaves(m, size, leaves);
      await deleteQueuedLeaves(m, queued.map((q) => q.id));
      settle();
      if (head && appended.size === head.treeSize) return undefined;
      const rootHash = Buffer.from(appended.root);
      const checkpoint = { treeSize: appended.size, rootHash, note: signCheckpoint({ origin, size: appended.size, rootHash }, signer) };
      await insertCheckpoint(m, checkpoint);
      await enqueueCheckpointSigned(m, checkpoint);
      return { from: size, leaves, leafHashes, checkpoint };
    });
    if (batch) this.deps.onAppended?.(batch);
    return batch;
  }
}
