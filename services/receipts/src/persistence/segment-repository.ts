/**
 * Rows of receipts.segments: reads and writes them, in the transaction the caller passes (`m`), and decides
 * nothing — the rules are in domain/, the transactions in app/.
 */
import type { EntityManager } from "typeorm";
import { rowsOf, type Row } from "@provenance/shared";
import type { SegmentDraft } from "../domain/new-receipt.js";
import type { SegmentRecord } from "../domain/receipt-record.js";
import type { Supersession } from "../domain/supersession.js";
import { segmentOf } from "./row-records.js";
import {
  INSERT_SEGMENTS_SQL,
  MARK_SUPERSEDED_SQL,
  SEGMENT_PROJECTS_SQL,
  SEGMENTS_BY_IDS_SQL,
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

/** Marks old segments superseded by new ones where not superseded yet, in one statement; returns the ids marked. */
export async function markSuperseded(m: EntityManager, supersessions: readonly Supersession[]): Promise<Set<string>> {
  if (supersessions.length === 0) return new Set();
  const rows = rowsOf(
    await m.query(MARK_SUPERSEDED_SQL, [supersessions.map((s) => s.oldSegmentId), supersessions.map((s) => s.newSegmentId)]),
  );
  return new Set(rows.map((r) => r.segment_id as string));
}
