/** Rows of `regeneration.batches`: read and written, nothing decided. */
import type { JobStatusName } from "../domain/job-progress.js";
import { emptyCounts, type BatchRecord } from "../domain/regeneration-records.js";
import { selectionDocument, selectionFromDocument, type Selection } from "../domain/selection.js";
import type { Queryable } from "./queryable.js";

type Row = Record<string, unknown>;

/** A batch row to insert. */
export interface NewBatchRow {
  batchId: string;
  selection: Selection;
  idempotencyKey: string;
  requestedBy: string;
  jobCount: number;
}

/** A batch from its row, but its job counts. */
function batchOf(row: Row): Omit<BatchRecord, "counts"> {
  return {
    batchId: row.batch_id as string,
    projectId: row.project_id as string,
    idempotencyKey: row.idempotency_key as string,
    requestedBy: row.requested_by as string,
    selection: selectionFromDocument(row.selection as Record<string, unknown>),
    jobCount: row.job_count as number,
    createdAt: row.created_at as Date,
  };
}

/** Reads and writes batches. */
export class BatchRepository {
  constructor(private readonly q: Queryable) {}

  /** The id of the batch submitted under `idempotencyKey`, if any. */
  async idOfKey(idempotencyKey: string): Promise<string | undefined> {
    const rows: Row[] = await this.q.query(`SELECT batch_id FROM regeneration.batches WHERE idempotency_key = $1`, [idempotencyKey]);
    return rows[0]?.batch_id as string | undefined;
  }

  /** The project of each of these batches that exists, by batch id (the access decision's batch resolver). */
  async projectsOf(batchIds: readonly string[]): Promise<Map<string, string>> {
    if (batchIds.length === 0) return new Map();
    const rows: Row[] = await this.q.query(`SELECT batch_id, project_id FROM regeneration.batches WHERE batch_id = ANY($1::text[])`, [batchIds]);
    return new Map(rows.map((r) => [r.batch_id as string, r.project_id as string]));
  }

  /** A batch with its job counts per status. */
  async batch(batchId: string): Promise<BatchRecord | undefined> {
    const rows: Row[] = await this.q.query(
      `SELECT b.batch_id, b.project_id, b.idempotency_key, b.requested_by, b.selection, b.job_count, b.created_at,
              COALESCE((SELECT jsonb_object_agg(status, n) FROM (
                 SELECT status, count(*)::int AS n FROM regeneration.jobs j WHERE j.batch_id = b.batch_id GROUP BY status
               ) c), '{}'::jsonb) AS counts
         FROM regeneration.batches b WHERE b.batch_id = $1`,
      [batchId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { ...batchOf(row), counts: { ...emptyCounts(), ...(row.counts as Record<JobStatusName, number>) } };
  }

  /**
   * Inserts a batch and returns it as stored, with no jobs counted yet; undefined (inserting nothing) when its
   * idempotency key is taken. A concurrent insert of the same key waits here for the other transaction, and gets
   * undefined when that one commits.
   */
  async insert(batch: NewBatchRow): Promise<BatchRecord | undefined> {
    const inserted: Row[] = await this.q.query(
      `INSERT INTO regeneration.batches (batch_id, project_id, idempotency_key, requested_by, selection, job_count)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING batch_id, project_id, idempotency_key, requested_by, selection, job_count, created_at`,
      [
        batch.batchId,
        batch.selection.projectId,
        batch.idempotencyKey,
        batch.requestedBy,
        JSON.stringify(selectionDocument(batch.selection)),
        batch.jobCount,
      ],
    );
    const row = inserted[0];
    return row ? { ...batchOf(row), counts: emptyCounts() } : undefined;
  }
}
