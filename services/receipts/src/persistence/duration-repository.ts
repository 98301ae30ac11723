/** Generation durations of past SUCCEEDED receipts (receipts.generation_durations), per key: reads them and decides nothing. */
import type { EntityManager } from "typeorm";
import type { Row } from "@provenance/shared";
import { DURATION_SAMPLE_MAX, durationKeyText, type DurationKey, type DurationStats } from "../domain/generation-durations.js";
import { generationDurationsSql } from "./statements.js";

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
    const compared = FIELDS.filter((_, i) => shape[i] === "1").map((f) => ({ column: f.column, param: f.alias }));
    const rows: Row[] = await m.query(generationDurationsSql(compared, DURATION_SAMPLE_MAX, projects !== undefined), params);
    for (const r of rows) {
      out.set(durationKeyText(group[Number(r.n) - 1]!), { medianMs: Number(r.median_ms), sampleSize: Number(r.sample_size) });
    }
  }
  return out;
}
