/**
 * Rows of receipts.segments: reads and writes them, in the transaction the caller passes (`m`), and decides
 * nothing — the rules are in domain/, the transactions in app/.
 */
import type { EntityManager } from "typeorm";
import { rowsOf, type Row } from "@provenance/shared";
import type { ProjectSummaryRecord, SegmentListingRecord } from "../domain/listings.js";
import type { SegmentDraft } from "../domain/new-receipt.js";
import type { SegmentCursor } from "../domain/page-cursors.js";
import type { ReceiptRecord, SegmentRecord } from "../domain/receipt-record.js";
import type { Supersession } from "../domain/supersession.js";
import { currentReceiptsSql } from "./current-receipts-statements.js";
import { inputOf, projectSummaryOf, receiptOf, segmentListingOf, segmentOf } from "./row-records.js";
import {
  INSERT_SEGMENTS_SQL,
  MARK_SUPERSEDED_SQL,
  SEGMENT_PROJECTS_SQL,
  SEGMENTS_BY_IDS_SQL,
  listProjectsSql,
  listSegmentsSql,
} from "./statements.js";

/** Inserts the segments not stored yet, in one statement (in id order); stored ones are left as they are. */
export async function insertSegments(m: EntityManager, segments: readonly SegmentDraft[]): Promise<void> {
  if (segments.length === 0) return;
  await m.query(INSERT_SEGMENTS_SQL, [
    segments.map((s) => s.segmentId), segments.map((s) => s.sceneId), segments.map((s) => s.projectId),
    segments.map((s) => s.characterName), segments.map((s) => s.sequenceIndex), segments.map((s) => s.supersedesSegmentId),
  ]);
}

/** The project of each of these segments that is stored, by segment id. */
export async function segmentProjects(m: EntityManager, segmentIds: readonly string[]): Promise<Map<string, string>> {
  if (segmentIds.length === 0) return new Map();
  const rows: Row[] = await m.query(SEGMENT_PROJECTS_SQL, [segmentIds]);
  return new Map(rows.map((r) => [r.segment_id as string, r.project_id as string]));
}

/** The stored segments among these ids, by id. */
export async function segmentsByIds(m: EntityManager, segmentIds: readonly string[]): Promise<Map<string, SegmentRecord>> {
  if (segmentIds.length === 0) return new Map();
  const rows: Row[] = await m.query(SEGMENTS_BY_IDS_SQL, [[...new Set(segmentIds)]]);
  return new Map(rows.map((r) => [r.segment_id as string, segmentOf(r)]));
}

/** A stored segment with its current receipt (undefined when none has succeeded). */
export interface SegmentCurrentReceiptRecord {
  segment: SegmentRecord;
  current: ReceiptRecord | undefined;
}

/**
 * The stored segments among these ids (only those of `projects` when given) with their current receipts, by segment
 * id, in one statement.
 */
export async function currentReceipts(
  m: EntityManager,
  segmentIds: readonly string[],
  projects?: readonly string[],
): Promise<Map<string, SegmentCurrentReceiptRecord>> {
  if (segmentIds.length === 0) return new Map();
  const params: unknown[] = [[...new Set(segmentIds)]];
  if (projects !== undefined) params.push(projects);
  const rows: Row[] = await m.query(currentReceiptsSql(projects !== undefined), params);
  return new Map(
    rows.map((r) => [
      r.segment_id as string,
      {
        segment: segmentOf(r),
        current: r.receipt_id === null ? undefined : receiptOf(r, ((r.inputs as Row[] | null) ?? []).map(inputOf)),
      },
    ]),
  );
}

/** Marks old segments superseded by new ones where not superseded yet, in one statement; returns the ids marked. */
export async function markSuperseded(m: EntityManager, supersessions: readonly Supersession[]): Promise<Set<string>> {
  if (supersessions.length === 0) return new Set();
  const rows = rowsOf(
    await m.query(MARK_SUPERSEDED_SQL, [supersessions.map((s) => s.oldSegmentId), supersessions.map((s) => s.newSegmentId)]),
  );
  return new Set(rows.map((r) => r.segment_id as string));
}

/**
 * Up to `limit` projects in project id order, after `afterProjectId` when given, with their counts; only those in
 * `projects` when given.
 */
export async function listProjects(m: EntityManager, limit: number, afterProjectId?: string, projects?: readonly string[]): Promise<ProjectSummaryRecord[]> {
  const params: unknown[] = [limit];
  if (afterProjectId !== undefined) params.push(afterProjectId);
  if (projects !== undefined) params.push(projects);
  const rows: Row[] = await m.query(listProjectsSql(afterProjectId !== undefined, projects !== undefined), params);
  return rows.map(projectSummaryOf);
}

/** Which segments {@link listSegments} reads. */
export interface SegmentListingQuery {
  projectId: string;
  /** Only this scene. */
  sceneId?: string;
  includeSuperseded: boolean;
  after?: SegmentCursor;
  limit: number;
}

/** Up to `limit` segments of a project in (scene id, sequence index, segment id) order, with their receipts' summary. */
export async function listSegments(m: EntityManager, q: SegmentListingQuery): Promise<SegmentListingRecord[]> {
  const params: unknown[] = [q.projectId];
  if (q.sceneId !== undefined) params.push(q.sceneId);
  if (q.after !== undefined) params.push(q.after.sceneId, q.after.sequenceIndex, q.after.segmentId);
  params.push(q.limit);
  const sql = listSegmentsSql({ byScene: q.sceneId !== undefined, includeSuperseded: q.includeSuperseded, after: q.after !== undefined });
  const rows: Row[] = await m.query(sql, params);
  return rows.map(segmentListingOf);
}
