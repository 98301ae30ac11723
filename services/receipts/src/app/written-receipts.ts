/**
 * Receipts this process has just committed, as it wrote them, kept for this process's receipt log integrator so it
 * builds their leaves without reading each receipt back (the re-read was about a quarter of what the log cost the
 * write path). Only while this process is the log's writer: a replica whose integrator does not hold the writer's
 * lock keeps nothing, and the one that does finds in here the receipts it wrote and reads the others' from the
 * database as before.
 *
 * A leaf built from here is the receipt as the service wrote and answered it, not as the database holds it when the
 * integrator runs: a row changed behind the service's back in between is then caught by the rescan (the stored row
 * no longer rebuilds the leaf) instead of being logged as if it were genuine.
 */
import type { DataSource } from "typeorm";
import type { ReceiptRecord } from "../domain/receipt-record.js";

/** Receipts kept at most; the oldest go first (a receipt left RUNNING is never asked for again). */
export const WRITTEN_RECEIPTS_CAPACITY = 10_000;

/**
 * The committed receipts of one process, by id, the most recent state each, each with the integration tick it was
 * remembered in. A receipt remembered before a tick began had committed before that tick read the queue, so once a
 * tick has taken everything queued, what was remembered before it began is never asked for again and is dropped: the
 * map holds about one tick's writes.
 */
export class WrittenReceipts {
  private readonly byId = new Map<string, { record: ReceiptRecord; tick: number }>();
  private enabled = false;
  private tick = 0;

  constructor(private readonly capacity = WRITTEN_RECEIPTS_CAPACITY) {}

  /** Starts (true) or stops (false, forgetting everything) keeping receipts: the integrator holds the writer's lock or not. */
  keep(on: boolean): void {
    this.enabled = on;
    if (!on) this.byId.clear();
  }

  /** Records receipts whose writing transaction has committed, as written. */
  remember(records: Iterable<ReceiptRecord>): void {
    if (!this.enabled) return;
    for (const r of records) {
      this.byId.delete(r.receiptId);
      this.byId.set(r.receiptId, { record: r, tick: this.tick });
    }
    for (const id of this.byId.keys()) {
      if (this.byId.size <= this.capacity) break;
      this.byId.delete(id);
    }
  }

  /** The receipt as written, for its `receipt.created` leaf (creation fields never change). */
  created(receiptId: string): ReceiptRecord | undefined {
    return this.byId.get(receiptId)?.record;
  }

  /**
   * The receipt as its completion wrote it, for its `receipt.completed` leaf; undefined unless this process wrote the
   * completion (what it holds may be the receipt as created, completed by another replica).
   */
  completed(receiptId: string): ReceiptRecord | undefined {
    const r = this.byId.get(receiptId)?.record;
    return r && r.status !== "RUNNING" ? r : undefined;
  }

  /** An integration tick begins (before it reads the queue); returns its number, for {@link settle}. */
  beginTick(): number {
    return ++this.tick;
  }

  /** Tick `tick` took everything queued: drops what was remembered before it began (receipts are kept in that order). */
  settle(tick: number): void {
    for (const [id, e] of this.byId) {
      if (e.tick >= tick) break;
      this.byId.delete(id);
    }
  }

  get size(): number {
    return this.byId.size;
  }
}

const perDataSource = new WeakMap<DataSource, WrittenReceipts>();

/** The written receipts of the process using `ds` (one per data source). */
export function writtenReceiptsOf(ds: DataSource): WrittenReceipts {
  let w = perDataSource.get(ds);
  if (!w) perDataSource.set(ds, (w = new WrittenReceipts()));
  return w;
}
