/** Generation durations of past SUCCEEDED receipts, per key: reads them and decides nothing. */
import type { EntityManager } from "typeorm";
import type { Row } from "@provenance/shared";
import { DURATION_SAMPLE_MAX, durationKeyText, type DurationKey, type DurationStats } from "../domain/generation-durations.js";

/**
 * The filters every key applies to a receipt `r` of segment `s` (k: the key; an empty id or a 0 matches anything).
 * The model filter is the access path when the key names a model (see below), so it is not repeated here.
 */
function keyFilters(byProjects: boolean): string {
  return `r.status = 'SUCCEEDED' AND r.generation_duration_ms IS NOT NULL
         AND (k.w = 0 OR r.resolution_width = k.w) AND (k.h = 0 OR r.resolution_height = k.h)
         AND (k.steps = 0 OR r.steps = k.steps)
         AND (k.workflow = '' OR EXISTS (
               SELECT 1 FROM receipts.receipt_inputs wi
                WHERE wi.receipt_id = r.receipt_id AND wi.role = 'workflow' AND wi.position = 0 AND wi.asset_id = k.workflow))
         ${byProjects ? "AND s.project_id = ANY($6::text[])" : ""}`;
}

/**
 * One row per key (n: its 1-based place in $1..$5): the median and count of the generation durations of the latest
 * ${DURATION_SAMPLE_MAX} matching receipts. `byModel`: every key names a model, and the newest receipts of that model
 * are walked through receipt_inputs' (asset_id, receipt_seq DESC) index; else the newest receipts through seq.
 */
function durationsSql(byModel: boolean, byProjects: boolean): string {
  const latest = byModel
    ? `SELECT r.generation_duration_ms AS ms
         FROM receipts.receipt_inputs mi
         JOIN receipts.generation_receipts r ON r.receipt_id = mi.receipt_id
         JOIN receipts.segments s ON s.segment_id = r.segment_id
        WHERE mi.asset_id = k.model AND mi.role = 'model' AND mi.position = 0 AND ${keyFilters(byProjects)}
        ORDER BY mi.receipt_seq DESC LIMIT ${DURATION_SAMPLE_MAX}`
    : `SELECT r.generation_duration_ms AS ms
         FROM receipts.generation_receipts r
         JOIN receipts.segments s ON s.segment_id = r.segment_id
        WHERE ${keyFilters(byProjects)}
        ORDER BY r.seq DESC LIMIT ${DURATION_SAMPLE_MAX}`;
  return `
  SELECT k.n, count(d.ms)::integer AS sample_size,
         COALESCE(round((percentile_cont(0.5) WITHIN GROUP (ORDER BY d.ms))::numeric), 0)::bigint AS median_ms
    FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::integer[])
         WITH ORDINALITY AS k(workflow, model, w, h, steps, n)
    LEFT JOIN LATERAL (${latest}) d ON true
   GROUP BY k.n`;
}

/**
 * The durations of each key (distinct keys), by {@link durationKeyText}; only receipts of segments in `projects` when
 * given. Keys naming a model and keys naming none are read in one statement each.
 */
export async function generationDurations(
  m: EntityManager,
  keys: readonly DurationKey[],
  projects?: readonly string[],
): Promise<Map<string, DurationStats>> {
  const out = new Map<string, DurationStats>();
  const groups = [keys.filter((k) => k.modelAssetId !== ""), keys.filter((k) => k.modelAssetId === "")];
  for (const [i, group] of groups.entries()) {
    if (group.length === 0) continue;
    const params: unknown[] = [
      group.map((k) => k.workflowAssetId), group.map((k) => k.modelAssetId), group.map((k) => k.resolutionWidth),
      group.map((k) => k.resolutionHeight), group.map((k) => k.steps),
    ];
    if (projects !== undefined) params.push(projects);
    const rows: Row[] = await m.query(durationsSql(i === 0, projects !== undefined), params);
    for (const r of rows) {
      out.set(durationKeyText(group[Number(r.n) - 1]!), { medianMs: Number(r.median_ms), sampleSize: Number(r.sample_size) });
    }
  }
  return out;
}
