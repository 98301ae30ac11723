/** A project's segments as the project view shows them: by scene, active ones counted, superseded ones kept apart. */
import type { ReceiptStatus } from "@gen/common_pb.js";
import type { SegmentListing } from "@gen/receipts_pb.js";

/** What the project view shows of one segment. */
export interface SegmentRow {
  segmentId: string;
  sceneId: string;
  projectId: string;
  characterName: string;
  /** 0-based, as recorded; shown with `shotNumber`. */
  sequenceIndex: number;
  active: boolean;
  /** The segment that replaced this one, when a regeneration superseded it. */
  supersededBy: string;
  /** The status of its newest receipt. */
  status: ReceiptStatus;
  /** Its latest SUCCEEDED receipt; empty when none has succeeded. */
  currentReceiptId: string;
}

/** One scene: its active segments, and apart from them the superseded ones (never counted as current). */
export interface SceneSegments {
  sceneId: string;
  active: SegmentRow[];
  superseded: SegmentRow[];
}

const byId = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
const bySequence = (a: SegmentRow, b: SegmentRow) => a.sequenceIndex - b.sequenceIndex || byId(a.segmentId, b.segmentId);

/** One row per listing (listings without a segment are skipped). */
export function segmentRows(listings: readonly SegmentListing[]): SegmentRow[] {
  const rows: SegmentRow[] = [];
  for (const l of listings) {
    const s = l.segment;
    if (!s) continue;
    rows.push({
      segmentId: s.segmentId,
      sceneId: s.sceneId,
      projectId: s.projectId,
      characterName: s.characterName,
      sequenceIndex: s.sequenceIndex,
      active: s.active,
      supersededBy: s.supersededBySegmentId,
      status: l.latestStatus,
      currentReceiptId: l.currentReceiptId,
    });
  }
  return rows;
}

/** Arranges rows into scenes (natural id order), each split into active and superseded, in shot order. */
export function groupScenes(rows: readonly SegmentRow[]): SceneSegments[] {
  const scenes = new Map<string, SceneSegments>();
  for (const r of rows) {
    let scene = scenes.get(r.sceneId);
    if (!scene) scenes.set(r.sceneId, (scene = { sceneId: r.sceneId, active: [], superseded: [] }));
    (r.active ? scene.active : scene.superseded).push(r);
  }
  const list = [...scenes.values()].sort((a, b) => byId(a.sceneId, b.sceneId));
  for (const s of list) {
    s.active.sort(bySequence);
    s.superseded.sort(bySequence);
  }
  return list;
}

/** Active and superseded segment counts over `scenes`. */
export function countSegments(scenes: readonly SceneSegments[]): { active: number; superseded: number } {
  let active = 0;
  let superseded = 0;
  for (const s of scenes) {
    active += s.active.length;
    superseded += s.superseded.length;
  }
  return { active, superseded };
}

/** Whether `row` matches a search (segment id or character name, case-insensitive); an empty query matches all. */
export function matchesQuery(row: SegmentRow, query: string): boolean {
  const q = query.trim().toLowerCase();
  return q === "" || row.segmentId.toLowerCase().includes(q) || row.characterName.toLowerCase().includes(q);
}
