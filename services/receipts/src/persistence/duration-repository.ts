/** Generation durations of past SUCCEEDED receipts (receipts.generation_durations), per key: reads them and decides nothing. */
import type { EntityManager } from "typeorm";
import type { Row } from "@provenance/shared";
import { DURATION_SAMPLE_MAX, durationKeyText, type DurationKey, type DurationStats } from "../domain/generation-durations.js";

/** The fields of a key, as the statement's parameters $1..$5 and the table's columns; an empty id or a 0 is "any". */
const FIELDS = [
  { column: "workflow_asset_id", alias: "workflow", set: (k: DurationKey) => k.workflowAssetId !== "" },
  { column: "model_asset_id", alias: "model", set: (k: DurationKey) => k.modelAssetId !== "" },
  { column: "resolution_width", alias: "w", set: (k: DurationKey) => k.resolutionWidth !== 0 },
  { column: "resolution_height", alias: "h", set: (k: DurationKey) => k.resolutionHeight !== 0 },
  { column: "steps", alias: "steps", set: (k: DurationKey) => k.steps !== 0 },
] as const;

/** Which fields a key sets, e.g. "11111" (every setting) or "01000" (only the model). */
function shapeOf(k: DurationKey): string {
  return FIELDS.map((f) => (f.set(k) ? "1" : "0")).join("");
}

/**
 * One row per key of one shape (n: its 1-based place in $1..$5): the median and count of the latest
 * ${DURATION_SAMPLE_MAX} matching durations. Only the fields the shape sets are compared, as equalities, so a key of
 * every setting or of only a model is one range scan of an index in answer order (see migration 1732200000800).
 */
function durationsSql(shape: string, byProjects: boolean): string {
  const where = FIELDS.filter((_, i) => shape[i] === "1").map((f) => `d.${f.column} = k.${f.alias}`);
  if (byProjects) where.push("d.project_id = ANY($6::text[])");
  return `
  SELECT k.n, count(l.ms)::integer AS sample_size,
         COALESCE(round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l.ms))::numeric), 0)::bigint AS median_ms
    FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::integer[])
         WITH ORDINALITY AS k(workflow, model, w, h, steps, n)
    LEFT JOIN LATERAL (
      SELECT d.duration_ms AS ms FROM receipts.generation_durations d
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY d.receipt_seq DESC LIMIT ${DURATION_SAMPLE_MAX}) l ON true
   GROUP BY k.n`;
}

/**
 * The durations of each key (distinct keys), by {@link durationKeyText}; only receipts of `projects` when given.
 * One statement per key shape (a plan's keys come in at most three).
 */
export async function generationDurations(
  m: EntityManager,
  keys: readonly DurationKey[],
  projects?: readonly string[],
): Promise<Map<string, DurationStats>> {
  const byShape = new Map<string, DurationKey[]>();
  for (const k of keys) {
    const group = byShape.get(shapeOf(k));
    if (group) group.push(k);
    else byShape.set(shapeOf(k), [k]);
  }
  const out = new Map<string, DurationStats>();
  for (const [shape, group] of byShape) {
    const params: unknown[] = [
      group.map((k) => k.workflowAssetId), group.map((k) => k.modelAssetId), group.map((k) => k.resolutionWidth),
      group.map((k) => k.resolutionHeight), group.map((k) => k.steps),
    ];
    if (projects !== undefined) params.push(projects);
    const rows: Row[] = await m.query(durationsSql(shape, projects !== undefined), params);
    for (const r of rows) {
      out.set(durationKeyText(group[Number(r.n) - 1]!), { medianMs: Number(r.median_ms), sampleSize: Number(r.sample_size) });
    }
  }
  return out;
}
