/**
 * BatchGetCurrentReceipts' statement: kept apart from statements.ts (the write path's) but in its style — set-based,
 * one round trip whatever the batch size.
 */

/** The receipt columns (as persistence/row-records.ts `receiptOf` reads them) of `r`, and the segment's of `s`. */
const CURRENT_RECEIPT_COLUMNS = `
  r.receipt_id, r.seq, r.workflow_version, r.prompt_text, r.negative_prompt, r.cfg_scale, r.seed::text AS seed,
  r.steps, r.sampler, r.resolution_width, r.resolution_height, r.additional_params, r.inputs_hash, r.status,
  r.generation_started_at, r.generation_completed_at, r.generation_duration_ms, r.output_hash, r.missing_fields,
  r.regeneration_job_id, r.supersedes_segment_id AS r_supersedes_segment_id, r.idempotency_key,
  r.request_fingerprint, r.created_at, r.recorded_by, r.completed_by, r.reproduction_of_receipt_id,
  s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.supersedes_segment_id,
  s.superseded_by_segment_id, s.created_at AS segment_created_at`;

/**
 * Segments by id ($1, text[]) with each one's current receipt — its latest SUCCEEDED one, the rule of
 * domain/current-receipt.ts applied set-based: one backward scan of generation_receipts_segment_idx per segment that
 * stops at the first SUCCEEDED row — and that receipt's inputs as one JSON array from the receipt_inputs primary key.
 * One row per stored segment; the receipt columns are NULL when none has succeeded. With `byProjects`, only segments
 * of the projects in $2 (text[], the caller's viewable ones).
 */
export function currentReceiptsSql(byProjects: boolean): string {
  return `
  SELECT ${CURRENT_RECEIPT_COLUMNS}, inp.inputs
    FROM receipts.segments s
    LEFT JOIN LATERAL (
      SELECT g.* FROM receipts.generation_receipts g
       WHERE g.segment_id = s.segment_id AND g.status = 'SUCCEEDED'
       ORDER BY g.seq DESC LIMIT 1) r ON true
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object('role', i.role, 'position', i.position, 'asset_id', i.asset_id,
                                        'content_hash', i.content_hash, 'version', i.version, 'weight', i.weight)
                      ORDER BY i.role, i.position) AS inputs
        FROM receipts.receipt_inputs i WHERE i.receipt_id = r.receipt_id) inp ON r.receipt_id IS NOT NULL
   WHERE s.segment_id = ANY($1::text[])${byProjects ? " AND s.project_id = ANY($2::text[])" : ""}`;
}
