/**
 * Rows of the receipt log (migration 1732200000900): the queue the receipt triggers fill, the leaves, the tree nodes
 * (a {@link TreeNodeStore} over receipt_log_nodes) and the signed checkpoints. Reads and writes in the caller's
 * transaction; decides nothing.
 */
import type { EntityManager } from "typeorm";
import type { Row } from "@provenance/shared";
import type { NodeBatch, NodeId, ReceiptLeafEvent, TreeNodeStore } from "@provenance/shared/receipt-log";

/** The log's one writer: the integrator holds this transaction-level advisory lock while it appends. */
export const INTEGRATOR_LOCK_KEY = 0x524c4f47; // "RLOG"

/** A queued receipt event, waiting to become a leaf. */
export interface QueuedLeaf {
  id: string;
  receiptId: string;
  event: ReceiptLeafEvent;
}

/** One leaf as stored. */
export interface StoredLeaf {
  leafIndex: number;
  receiptId: string;
  event: ReceiptLeafEvent;
  leaf: string;
}

/** One signed checkpoint as stored. */
export interface StoredCheckpoint {
  treeSize: number;
  rootHash: Buffer;
  note: string;
}

/** A leaf to insert. */
export interface NewLeaf {
  receiptId: string;
  event: ReceiptLeafEvent;
  leaf: string;
}

const bytes = (h: Uint8Array): Buffer => (Buffer.isBuffer(h) ? h : Buffer.from(h.buffer, h.byteOffset, h.byteLength));

const leafOf = (r: Row): StoredLeaf => ({
  leafIndex: Number(r.leaf_index),
  receiptId: r.receipt_id as string,
  event: r.event as ReceiptLeafEvent,
  leaf: r.leaf as string,
});

const checkpointOf = (r: Row): StoredCheckpoint => ({ treeSize: Number(r.tree_size), rootHash: r.root_hash as Buffer, note: r.note as string });

/** Takes the integrator's lock for the rest of the transaction; false when another writer holds it. */
export async function tryLockIntegrator(m: EntityManager): Promise<boolean> {
  const [row] = (await m.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [INTEGRATOR_LOCK_KEY])) as Row[];
  return row!.locked === true;
}

/**
 * Up to `limit` queued leaves of committed transactions (those this statement sees), oldest transaction first: a
 * transaction still running is taken by a later batch, after these (docs/decisions/0007-receipt-log-order.md).
 */
export async function takeQueuedLeaves(m: EntityManager, limit: number): Promise<QueuedLeaf[]> {
  const rows = (await m.query(
    `SELECT id::text AS id, receipt_id, event FROM receipts.receipt_log_queue
      ORDER BY xid, id LIMIT $1`,
    [limit],
  )) as Row[];
  return rows.map((r) => ({ id: r.id as string, receiptId: r.receipt_id as string, event: r.event as ReceiptLeafEvent }));
}

/** A stored receipt's completion columns, all a `receipt.completed` leaf holds. */
export interface StoredCompletion {
  receiptId: string;
  status: string;
  generationCompletedAt: Date | null;
  generationDurationMs: number | null;
  outputHash: string | null;
  completedBy: string | null;
}

/** The completion columns of these receipts (no segment, no inputs: the completed leaves' read). */
export async function completionsByIds(m: EntityManager, receiptIds: readonly string[]): Promise<StoredCompletion[]> {
  if (receiptIds.length === 0) return [];
  const rows = (await m.query(
    `SELECT receipt_id, status, generation_completed_at, generation_duration_ms, output_hash, completed_by
       FROM receipts.generation_receipts WHERE receipt_id = ANY($1::uuid[])`,
    [receiptIds],
  )) as Row[];
  return rows.map((r) => ({
    receiptId: r.receipt_id as string,
    status: r.status as string,
    generationCompletedAt: r.generation_completed_at as Date | null,
    generationDurationMs: r.generation_duration_ms === null ? null : Number(r.generation_duration_ms),
    outputHash: r.output_hash as string | null,
    completedBy: r.completed_by as string | null,
  }));
}

/** Removes queued leaves once appended (same transaction). */
export async function deleteQueuedLeaves(m: EntityManager, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await m.query(`DELETE FROM receipts.receipt_log_queue WHERE id = ANY($1::bigint[])`, [ids]);
}

/** Inserts leaves from index `from` on, in order. */
export async function insertLeaves(m: EntityManager, from: number, leaves: readonly NewLeaf[]): Promise<void> {
  if (leaves.length === 0) return;
  await m.query(
    `INSERT INTO receipts.receipt_log_leaves (leaf_index, receipt_id, event, leaf)
     SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[])`,
    [leaves.map((_, i) => from + i), leaves.map((l) => l.receiptId), leaves.map((l) => l.event), leaves.map((l) => l.leaf)],
  );
}

/** Leaves with index in [from, to), in index order. */
export async function leavesInRange(m: EntityManager, from: number, to: number): Promise<StoredLeaf[]> {
  if (to <= from) return [];
  const rows = (await m.query(
    `SELECT leaf_index, receipt_id, event, leaf FROM receipts.receipt_log_leaves
      WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index`,
    [from, to],
  )) as Row[];
  return rows.map(leafOf);
}

/** A receipt's leaves with index below `treeSize`, in index order. */
export async function leavesOfReceipt(m: EntityManager, receiptId: string, treeSize: number): Promise<StoredLeaf[]> {
  const rows = (await m.query(
    `SELECT leaf_index, receipt_id, event, leaf FROM receipts.receipt_log_leaves
      WHERE receipt_id = $1 AND leaf_index < $2 ORDER BY leaf_index`,
    [receiptId, treeSize],
  )) as Row[];
  return rows.map(leafOf);
}

/** The newest checkpoint (the log's head), or undefined before the first. */
export async function latestCheckpoint(m: EntityManager): Promise<StoredCheckpoint | undefined> {
  const rows = (await m.query(
    `SELECT tree_size, root_hash, note FROM receipts.receipt_log_checkpoints ORDER BY tree_size DESC LIMIT 1`,
  )) as Row[];
  return rows[0] ? checkpointOf(rows[0]) : undefined;
}

/** The checkpoint signed at exactly `treeSize`, if any. */
export async function checkpointAt(m: EntityManager, treeSize: number): Promise<StoredCheckpoint | undefined> {
  const rows = (await m.query(`SELECT tree_size, root_hash, note FROM receipts.receipt_log_checkpoints WHERE tree_size = $1`, [
    treeSize,
  ])) as Row[];
  return rows[0] ? checkpointOf(rows[0]) : undefined;
}

/** Stores a signed checkpoint. */
export async function insertCheckpoint(m: EntityManager, c: StoredCheckpoint): Promise<void> {
  await m.query(`INSERT INTO receipts.receipt_log_checkpoints (tree_size, root_hash, note) VALUES ($1, $2, $3)`, [c.treeSize, c.rootHash, c.note]);
}

/**
 * Receipts with no leaf for an event they have had, and not queued for it either (one statement, one snapshot): up
 * to `limit` of them, with their project.
 */
export async function receiptsWithoutLeaves(m: EntityManager, limit: number): Promise<{ receiptId: string; projectId: string; event: ReceiptLeafEvent }[]> {
  const rows = (await m.query(
    `SELECT r.receipt_id, s.project_id, e.event
       FROM receipts.generation_receipts r
       JOIN receipts.segments s ON s.segment_id = r.segment_id
      CROSS JOIN LATERAL (VALUES ('receipt.created'), ('receipt.completed')) AS e(event)
      WHERE (e.event = 'receipt.created' OR r.status IN ('SUCCEEDED', 'FAILED'))
        AND NOT EXISTS (SELECT 1 FROM receipts.receipt_log_leaves l WHERE l.receipt_id = r.receipt_id AND l.event = e.event)
        AND NOT EXISTS (SELECT 1 FROM receipts.receipt_log_queue q WHERE q.receipt_id = r.receipt_id AND q.event = e.event)
      LIMIT $1`,
    [limit],
  )) as Row[];
  return rows.map((r) => ({ receiptId: r.receipt_id as string, projectId: r.project_id as string, event: r.event as ReceiptLeafEvent }));
}

/** The tree's nodes in receipt_log_nodes: one statement per read and per write, as the shared tree store expects. */
export class PgTreeNodeStore implements TreeNodeStore {
  constructor(private readonly m: EntityManager) {}

  async getNodes(ids: readonly NodeId[]): Promise<readonly Uint8Array[]> {
    if (ids.length === 0) return [];
    const rows = (await this.m.query(
      `SELECT q.ord, n.hash FROM unnest($1::smallint[], $2::bigint[]) WITH ORDINALITY AS q(level, idx, ord)
         JOIN receipts.receipt_log_nodes n ON n.level = q.level AND n.idx = q.idx`,
      [ids.map((id) => id.level), ids.map((id) => id.index)],
    )) as Row[];
    if (rows.length !== ids.length) throw new Error(`receipt log: ${ids.length - rows.length} of ${ids.length} tree nodes are missing`);
    const hashes: Uint8Array[] = new Array<Uint8Array>(ids.length);
    for (const r of rows) hashes[Number(r.ord) - 1] = r.hash as Buffer;
    return hashes;
  }

  async putNodes(batch: NodeBatch): Promise<void> {
    if (batch.levels.length === 0) return;
    await this.m.query(
      `INSERT INTO receipts.receipt_log_nodes (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
      [batch.levels, batch.indexes, batch.hashes.map(bytes)],
    );
  }
}
