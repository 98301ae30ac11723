/**
 * The projection's rows (staleness.segments and staleness.segment_inputs) and its inbox: one function per statement,
 * each a set-based write of a whole batch, in the caller's transaction (app/project-receipts.ts).
 */
import type { EntityManager } from "typeorm";
import { markProcessedMany, rowsOf, useKeyedPlans } from "@provenance/shared";
import type { TouchedSegment } from "../domain/projection-batch.js";
import type { ProjectedReceipt } from "../domain/projected-receipt.js";
import { STALENESS_SCHEMA } from "./schema.js";

/** The inbox name of the projection's durable consumer. */
export const PROJECTION_CONSUMER = "staleness-receipt-projection";

/**
 * Makes the rest of the transaction plan every statement as the keyed lookup or write of at most a batch of rows that
 * it is. With stale statistics the planner estimated a batch's `segment_id = ANY($1)` at ~1.5M rows and chose a
 * sequential scan of all inputs (~600 ms per batch at a million receipts, measured with EXPLAIN ANALYZE on the bench
 * database), which stalled the projection.
 */
export async function useKeyedPlansForBatch(m: EntityManager): Promise<void> {
  await useKeyedPlans(m);
}

/**
 * Records the events in the projection's inbox, locking their rows by event id (the first lock a batch takes); returns
 * the ids that were not there yet.
 */
export async function markEventsProcessed(m: EntityManager, eventIds: readonly string[]): Promise<Set<string>> {
  return markProcessedMany(m, STALENESS_SCHEMA, PROJECTION_CONSUMER, eventIds);
}

/** In the segments upsert: the proposed current receipt is later than the stored one (or there is none). */
const LATER = `(EXCLUDED.current_receipt_id IS NOT NULL
                AND (s.current_receipt_created_at IS NULL
                     OR (s.current_receipt_created_at, s.current_receipt_id) < (EXCLUDED.current_receipt_created_at, EXCLUDED.current_receipt_id)))`;

/**
 * One upsert per touched segment, in segment_id order (ON CONFLICT DO UPDATE locks each conflicting row, even when
 * its WHERE is false, so every lock the transaction takes on segments is taken here, in that order, and concurrent
 * batches wait for each other instead of deadlocking): creates the row, fills in placement where only a supersession
 * had recorded it, records the supersession, and makes the batch's latest of `succeeded` for the segment current if
 * it is later (by created_at, then receipt_id, compared in SQL so receipt ids order by the database's collation as
 * always) than the stored one. Returns the segments now on one of `succeeded`, with that receipt's id.
 *
 * (A row written only for placement or supersession whose current receipt already was the batch's latest would count
 * too, and get the same inputs again; that takes a second, differently identified success event of one receipt, which
 * the receipts service never sends.)
 */
export async function upsertSegments(
  m: EntityManager,
  segments: readonly TouchedSegment[],
  succeeded: readonly ProjectedReceipt[],
): Promise<{ segmentId: string; receiptId: string }[]> {
  const rows = rowsOf(
    await m.query(
      `WITH latest AS (
         SELECT DISTINCT ON (l.segment_id) l.segment_id, l.receipt_id, l.created_at
           FROM unnest($7::text[], $8::text[], $9::timestamptz[]) AS l(segment_id, receipt_id, created_at)
          ORDER BY l.segment_id, l.created_at DESC, l.receipt_id DESC
       ), upserted AS (
         INSERT INTO staleness.segments AS s (segment_id, project_id, scene_id, character_name, sequence_index,
                                              superseded_by_segment_id, current_receipt_id, current_receipt_created_at)
         SELECT u.segment_id, u.project_id, u.scene_id, u.character_name, u.sequence_index, u.superseded_by,
                l.receipt_id, l.created_at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[])
                  AS u(segment_id, project_id, scene_id, character_name, sequence_index, superseded_by)
           LEFT JOIN latest l ON l.segment_id = u.segment_id
          ORDER BY u.segment_id
         ON CONFLICT (segment_id) DO UPDATE SET
           scene_id       = CASE WHEN s.scene_id IS NULL THEN EXCLUDED.scene_id ELSE s.scene_id END,
           character_name = CASE WHEN s.scene_id IS NULL THEN EXCLUDED.character_name ELSE s.character_name END,
           sequence_index = CASE WHEN s.scene_id IS NULL THEN EXCLUDED.sequence_index ELSE s.sequence_index END,
           superseded_by_segment_id = COALESCE(s.superseded_by_segment_id, EXCLUDED.superseded_by_segment_id),
           current_receipt_id = CASE WHEN ${LATER} THEN EXCLUDED.current_receipt_id ELSE s.current_receipt_id END,
           current_receipt_created_at = CASE WHEN ${LATER} THEN EXCLUDED.current_receipt_created_at ELSE s.current_receipt_created_at END,
           updated_at = now()
         WHERE (s.scene_id IS NULL AND EXCLUDED.scene_id IS NOT NULL)
            OR (s.superseded_by_segment_id IS NULL AND EXCLUDED.superseded_by_segment_id IS NOT NULL)
            OR ${LATER}
         RETURNING s.segment_id, s.current_receipt_id
       ), promoted AS (
         SELECT w.segment_id, w.current_receipt_id FROM upserted w JOIN latest l
             ON l.segment_id = w.segment_id AND l.receipt_id = w.current_receipt_id
       )
       SELECT segment_id, current_receipt_id AS receipt_id FROM promoted`,
      [
        segments.map((x) => x.segmentId),
        segments.map((x) => x.projectId),
        segments.map((x) => x.placement?.sceneId ?? null),
        segments.map((x) => x.placement?.characterName ?? null),
        segments.map((x) => x.placement?.sequenceIndex ?? null),
        segments.map((x) => x.supersededBy ?? null),
        succeeded.map((r) => r.segmentId),
        succeeded.map((r) => r.receiptId),
        succeeded.map((r) => r.createdAt),
      ],
    ),
  );
  return rows.map((r) => ({ segmentId: r.segment_id as string, receiptId: r.receipt_id as string }));
}

/** Marks these segments as having a LEGACY receipt (once; never cleared). */
export async function markLegacySegments(m: EntityManager, segmentIds: readonly string[]): Promise<void> {
  await m.query(`UPDATE staleness.segments SET legacy = true WHERE segment_id = ANY($1::text[]) AND NOT legacy`, [segmentIds]);
}

/**
 * Deletes the inputs of these segments. A statement of its own, after {@link upsertSegments}: its snapshot must
 * include the inputs a concurrent batch committed while this one waited for the segments' locks, which the upsert's
 * snapshot predates.
 */
export async function deleteSegmentInputs(m: EntityManager, segmentIds: readonly string[]): Promise<void> {
  await m.query(`DELETE FROM staleness.segment_inputs WHERE segment_id = ANY($1::text[])`, [segmentIds]);
}

/**
 * Inserts the inputs of each receipt, now its segment's current one. Placement and the active flag come from the
 * segment row as {@link upsertSegments} wrote it; inputs are written only for segments whose row the transaction holds.
 */
export async function insertSegmentInputs(m: EntityManager, receipts: readonly ProjectedReceipt[]): Promise<void> {
  const inputs = receipts.flatMap((r) => r.inputs.map((i) => ({ r, i })));
  await m.query(
    `INSERT INTO staleness.segment_inputs (segment_id, receipt_id, project_id, scene_id, active, role, position, asset_id, content_hash)
     SELECT u.segment_id, u.receipt_id, s.project_id, s.scene_id, s.superseded_by_segment_id IS NULL,
            u.role, u.position, u.asset_id, u.content_hash
       FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::text[], $6::text[])
            AS u(segment_id, receipt_id, role, position, asset_id, content_hash)
       JOIN staleness.segments s ON s.segment_id = u.segment_id
      WHERE s.segment_id = ANY($7::text[])`,
    [
      inputs.map((x) => x.r.segmentId),
      inputs.map((x) => x.r.receiptId),
      inputs.map((x) => x.i.role),
      inputs.map((x) => x.i.position),
      inputs.map((x) => x.i.assetId),
      inputs.map((x) => x.i.contentHash),
      receipts.map((r) => r.segmentId),
    ],
  );
}

/** Marks the inputs of these (superseded) segments inactive; inputs already inactive are left alone. */
export async function deactivateSegmentInputs(m: EntityManager, segmentIds: readonly string[]): Promise<void> {
  await m.query(`UPDATE staleness.segment_inputs SET active = false WHERE segment_id = ANY($1::text[]) AND active`, [segmentIds]);
}
