/** The projection of segment inputs: every write it makes, applied once per receipt event, many events per transaction. */
import type { DataSource } from "typeorm";
import { markProcessedMany, rowsOf, useKeyedPlans } from "@provenance/shared";
import type { ProjectedReceipt } from "../domain/projected-receipt.js";
import { STALENESS_SCHEMA } from "./asset-repository.js";

/** The inbox name of the projection's durable consumer. */
export const PROJECTION_CONSUMER = "staleness-receipt-projection";

/** What applying one event did. */
export type ApplyOutcome = "duplicate" | "applied" | "became-current";

/** One receipt event to apply: its id (the inbox key) and what it says of the receipt. */
export interface ProjectionEvent {
  eventId: string;
  receipt: ProjectedReceipt;
}

/** In the segments upsert: the proposed current receipt is later than the stored one (or there is none). */
const LATER = `(EXCLUDED.current_receipt_id IS NOT NULL
                AND (s.current_receipt_created_at IS NULL
                     OR (s.current_receipt_created_at, s.current_receipt_id) < (EXCLUDED.current_receipt_created_at, EXCLUDED.current_receipt_id)))`;

/** Writes the projection from receipt events. */
export class ProjectionRepository {
  constructor(private readonly ds: DataSource) {}

  /** Applies one receipt event: {@link applyBatch} of one. */
  async apply(eventId: string, r: ProjectedReceipt): Promise<ApplyOutcome> {
    const [outcome] = await this.applyBatch([{ eventId, receipt: r }]);
    return outcome!;
  }

  /**
   * Applies receipt events in one transaction with their inbox marks, with a fixed number of set-based statements
   * whatever the batch size; returns each event's outcome, in order. An event already in the inbox (or earlier in the
   * batch) changes nothing. Either event of a receipt can record the segment; a SUCCEEDED receipt becomes current only
   * if it is later (by created_at, then receipt_id) than the current one, so the order of events within and across
   * batches does not matter; RUNNING and FAILED receipts never replace it. The result is the same as applying the
   * events one by one.
   *
   * Locks are taken in a fixed order, so concurrent batches (replicas sharing the durable) wait for each other and
   * never deadlock: inbox rows by event id, then every segment row the batch touches by segment id, in one statement;
   * segment inputs are written only for segments whose row the transaction holds.
   */
  async applyBatch(events: readonly ProjectionEvent[]): Promise<ApplyOutcome[]> {
    if (events.length === 0) return [];
    return this.ds.transaction(async (m) => {
      // Every statement here is a keyed lookup or write of at most a batch of rows. With stale statistics the planner
      // estimated a batch's `segment_id = ANY($1)` at ~1.5M rows and chose a sequential scan of all inputs (~600 ms per
      // batch at a million receipts, measured with EXPLAIN ANALYZE on the bench database), which stalled the projection.
      await useKeyedPlans(m);
      const fresh = await markProcessedMany(
        m,
        STALENESS_SCHEMA,
        PROJECTION_CONSUMER,
        events.map((e) => e.eventId),
      );
      // Each new event once (a repeat later in the batch is a duplicate), in batch order, with its place in `events`.
      const applied: { receipt: ProjectedReceipt; index: number }[] = [];
      const outcomes = events.map((e, index): ApplyOutcome => {
        if (!fresh.delete(e.eventId)) return "duplicate";
        applied.push({ receipt: e.receipt, index });
        return "applied";
      });
      if (applied.length === 0) return outcomes;
      const receipts = applied.map((e) => e.receipt);

      // Every segment the batch touches, once: placed by its first receipt in the batch, or known only as the target of
      // a supersession (placed by its own receipts later, in the project of the receipt that superseded it). The first
      // supersession of a segment stays, as when applied one by one in batch order.
      const segments = new Map<string, { placement?: ProjectedReceipt; projectId: string; supersededBy?: string }>();
      for (const r of receipts) if (!segments.has(r.segmentId)) segments.set(r.segmentId, { placement: r, projectId: r.projectId });
      const superseded: string[] = [];
      for (const r of receipts) {
        if (r.supersedesSegmentId === "") continue;
        const target = segments.get(r.supersedesSegmentId) ?? { projectId: r.projectId };
        if (target.supersededBy === undefined) {
          target.supersededBy = r.segmentId;
          superseded.push(r.supersedesSegmentId);
        }
        segments.set(r.supersedesSegmentId, target);
      }
      const rows = [...segments.entries()];
      const succeeded = receipts.filter((r) => r.succeeded);

      // One upsert per touched segment, in segment_id order (ON CONFLICT DO UPDATE locks each conflicting row, even
      // when its WHERE is false, so every lock this transaction takes on segments is taken here, in that order):
      // creates the row, fills in placement where only a supersession had recorded it, records the supersession, and
      // makes the batch's latest SUCCEEDED receipt of the segment current if it is later (by created_at, then
      // receipt_id, compared in SQL so receipt ids order by the database's collation as always) than the stored one.
      const promoted = rowsOf(
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
             -- Written rows now on the batch's latest receipt. (A row written only for placement or supersession whose
             -- current receipt already was that one would count too, and get the same inputs again; that takes a
             -- second, differently identified success event of one receipt, which the receipts service never sends.)
             SELECT w.segment_id, w.current_receipt_id FROM upserted w JOIN latest l
                 ON l.segment_id = w.segment_id AND l.receipt_id = w.current_receipt_id
           )
           SELECT segment_id, current_receipt_id AS receipt_id FROM promoted`,
          [
            rows.map(([id]) => id),
            rows.map(([, x]) => x.projectId),
            rows.map(([, x]) => x.placement?.sceneId ?? null),
            rows.map(([, x]) => x.placement?.characterName ?? null),
            rows.map(([, x]) => x.placement?.sequenceIndex ?? null),
            rows.map(([, x]) => x.supersededBy ?? null),
            succeeded.map((r) => r.segmentId),
            succeeded.map((r) => r.receiptId),
            succeeded.map((r) => r.createdAt),
          ],
        ),
      );

      if (promoted.length > 0) {
        const byReceipt = new Map(succeeded.map((r) => [r.receiptId, r]));
        const current = promoted.map((p) => byReceipt.get(p.receipt_id as string)!);
        const inputs = current.flatMap((r) => r.inputs.map((i) => ({ r, i })));
        // A statement of its own, after the upsert: its snapshot must include the inputs a concurrent batch committed
        // while this one waited for the segment's lock, which the upsert's snapshot predates.
        await m.query(`DELETE FROM staleness.segment_inputs WHERE segment_id = ANY($1::text[])`, [current.map((r) => r.segmentId)]);
        // Placement and the active flag come from the segment row, as written above.
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
            current.map((r) => r.segmentId),
          ],
        );
        const madeCurrent = new Set(current);
        for (const e of applied) if (madeCurrent.delete(e.receipt)) outcomes[e.index] = "became-current";
      }

      // Inputs of a superseded segment stop counting as active (those just written already are not).
      if (superseded.length > 0) {
        await m.query(`UPDATE staleness.segment_inputs SET active = false WHERE segment_id = ANY($1::text[]) AND active`, [superseded]);
      }
      return outcomes;
    });
  }
}
