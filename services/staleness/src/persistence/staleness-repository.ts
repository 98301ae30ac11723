/** Reads staleness with the rule's statements (statements.ts), in the caller's transaction: rows in, records out. */
import type { EntityManager } from "typeorm";
import { rowsOf } from "@provenance/shared";
import type { PinnedSegmentRow } from "../domain/pins.js";
import type { StaleReasonRecord, StaleSegmentRecord } from "../domain/stale-segments.js";
import { segmentIdsField, type ReportGroupRow } from "../domain/staleness-groups.js";
import { REPORT_SETTINGS_SQL, legacySegmentsSql, reportSql, staleSegmentsSql, type StaleSegmentsFilter } from "./statements.js";

/** The report statement's row: its counts and the groups as the statement returns them. */
export interface ReportRow {
  totalActiveSegments: number;
  /** Distinct stale segments over the groups. */
  totalStaleSegments: number;
  /** Distinct (project, scene) pairs of the stale segments. */
  totalStaleScenes: number;
  untrackedInputs: number;
  /** Active segments with only LEGACY receipts: neither stale nor fresh. */
  legacySegments: number;
  groups: ReportGroupRow[];
  /** The inputs pins waive, one per (segment, asset). */
  pinned: PinnedSegmentRow[];
}

/**
 * Runs the report statement for one project, or every project when `projectId` is undefined, with its settings
 * (SET LOCAL: `m` must be a transaction's, at `REPORT_ISOLATION`).
 */
export async function readReport(m: EntityManager, projectId: string | undefined): Promise<ReportRow> {
  await m.query(REPORT_SETTINGS_SQL);
  const [row] = rowsOf(await m.query(reportSql(projectId !== undefined), projectId === undefined ? [] : [projectId]));
  const [legacy] = rowsOf(await m.query(legacySegmentsSql(projectId !== undefined), projectId === undefined ? [] : [projectId]));
  return {
    totalActiveSegments: row!.total_active_segments as number,
    totalStaleSegments: row!.stale_segments as number,
    totalStaleScenes: row!.stale_scenes as number,
    untrackedInputs: row!.untracked_inputs as number,
    legacySegments: legacy!.legacy_segments as number,
    groups: (row!.groups as (Omit<ReportGroupRow, "segmentIdsField" | "affectedSegments"> & { segmentIds: string; listed: number })[]).map(({ segmentIds, listed, ...g }) => {
      const { field, count } = segmentIdsField(segmentIds, listed);
      return { ...g, affectedSegments: count, segmentIdsField: field };
    }),
    pinned: row!.pinned as PinnedSegmentRow[],
  };
}

/**
 * The report statement of each of `projects`, in the database's order of project ids (the order an unscoped report
 * lists projects in), in the caller's transaction — for a caller who may view only these projects.
 */
export async function readReports(m: EntityManager, projects: readonly string[]): Promise<ReportRow[]> {
  const ordered = rowsOf(await m.query(`SELECT DISTINCT p FROM unnest($1::text[]) AS p ORDER BY p`, [projects])).map((r) => r.p as string);
  const rows: ReportRow[] = [];
  for (const projectId of ordered) rows.push(await readReport(m, projectId));
  return rows;
}

/**
 * Up to `limit` stale segments of the filter, in segment id order, each with its reasons. Run with JIT compilation
 * off, as the report is: the pin probes raise the planner's estimate past JIT's optimisation threshold, and compiling
 * (seconds) never pays for itself on index ranges.
 */
export async function readStaleSegments(m: EntityManager, filter: StaleSegmentsFilter, limit: number): Promise<StaleSegmentRecord[]> {
  const rows = await m.transaction(async (t) => {
    await t.query(`SET LOCAL jit = off`);
    return rowsOf(await t.query(...staleSegmentsSql(filter, limit)));
  });
  return rows.map((r) => ({
    segmentId: r.segment_id as string,
    sceneId: r.scene_id as string,
    projectId: r.project_id as string,
    characterName: r.character_name as string,
    sequenceIndex: r.sequence_index as number,
    receiptId: r.current_receipt_id as string,
    reasons: (r.reasons as StaleReasonRecord[]).map((x) => ({ ...x, receiptContentHash: x.receiptContentHash.trim() })),
  }));
}
