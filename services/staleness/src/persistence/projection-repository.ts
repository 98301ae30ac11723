/** The projection of segment inputs: every write it makes, applied once per receipt event. */
import type { DataSource } from "typeorm";
import { markProcessed } from "@provenance/shared";
import type { ProjectedReceipt } from "../domain/projected-receipt.js";
import { STALENESS_SCHEMA } from "./asset-repository.js";
import { rowsOf } from "@provenance/shared";

/** The inbox name of the projection's durable consumer. */
export const PROJECTION_CONSUMER = "staleness-receipt-projection";

/** What applying one event did. */
export type ApplyOutcome = "duplicate" | "applied" | "became-current";

/** Writes the projection from receipt events. */
export class ProjectionRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Applies one receipt event in one transaction with its inbox mark, so a redelivery changes nothing. Either
   * event of a receipt can record the segment; a SUCCEEDED receipt becomes current only if it is later (by
   * created_at, then receipt_id) than the current one, so arrival order does not matter; RUNNING and FAILED
   * receipts never replace it.
   */
  async apply(eventId: string, r: ProjectedReceipt): Promise<ApplyOutcome> {
    return this.ds.transaction(async (m) => {
      if (!(await markProcessed(m, STALENESS_SCHEMA, PROJECTION_CONSUMER, eventId))) return "duplicate";
      await m.query(
        `INSERT INTO staleness.segments (segment_id, project_id, scene_id, character_name, sequence_index)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (segment_id) DO UPDATE
           SET scene_id = EXCLUDED.scene_id, character_name = EXCLUDED.character_name,
               sequence_index = EXCLUDED.sequence_index, updated_at = now()
         WHERE segments.scene_id IS NULL`,
        [r.segmentId, r.projectId, r.sceneId, r.characterName, r.sequenceIndex],
      );
      let outcome: ApplyOutcome = "applied";
      if (r.succeeded) {
        // The row lock makes a concurrent event for the same segment wait and re-check the order.
        const promoted = rowsOf(
          await m.query(
            `UPDATE staleness.segments
                SET current_receipt_id = $2, current_receipt_created_at = $3::timestamptz, updated_at = now()
              WHERE segment_id = $1
                AND (current_receipt_created_at IS NULL
                     OR (current_receipt_created_at, current_receipt_id) < ($3::timestamptz, $2))
              RETURNING segment_id`,
            [r.segmentId, r.receiptId, r.createdAt],
          ),
        );
        if (promoted.length > 0) {
          outcome = "became-current";
          await m.query(`DELETE FROM staleness.segment_inputs WHERE segment_id = $1`, [r.segmentId]);
          await m.query(
            `INSERT INTO staleness.segment_inputs (segment_id, receipt_id, project_id, scene_id, active, role, position, asset_id, content_hash)
             SELECT $1, $2, s.project_id, s.scene_id, s.superseded_by_segment_id IS NULL, u.*
               FROM staleness.segments s, unnest($3::text[], $4::smallint[], $5::text[], $6::text[]) AS u
              WHERE s.segment_id = $1`,
            [
              r.segmentId,
              r.receiptId,
              r.inputs.map((i) => i.role),
              r.inputs.map((i) => i.position),
              r.inputs.map((i) => i.assetId),
              r.inputs.map((i) => i.contentHash),
            ],
          );
        }
      }
      if (r.supersedesSegmentId !== "") {
        // The superseded segment may not be projected yet (events out of order): record it by id and project.
        await m.query(
          `INSERT INTO staleness.segments (segment_id, project_id, superseded_by_segment_id) VALUES ($1, $2, $3)
           ON CONFLICT (segment_id) DO UPDATE SET superseded_by_segment_id = EXCLUDED.superseded_by_segment_id, updated_at = now()
           WHERE segments.superseded_by_segment_id IS NULL`,
          [r.supersedesSegmentId, r.projectId, r.segmentId],
        );
        await m.query(`UPDATE staleness.segment_inputs SET active = false WHERE segment_id = $1 AND active`, [r.supersedesSegmentId]);
      }
      return outcome;
    });
  }
}
