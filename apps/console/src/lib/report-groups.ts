/** The staleness report arranged for selection: groups by asset version, scenes within them, and selection helpers. */
import type { AssetKind, AssetStaleness, StaleSegment } from "@gen/common_pb.js";

/** One scene of a group, with its stale segments in sequence order. */
export interface ReportScene {
  sceneId: string;
  projectId: string;
  segments: StaleSegment[];
}

/** One group: the segments that used one asset version that is no longer current. */
export interface ReportGroup {
  key: string;
  projectId: string;
  assetId: string;
  assetName: string;
  kind: AssetKind;
  receiptVersion: number;
  currentVersion: number;
  summary: string;
  scenes: ReportScene[];
  segmentIds: string[];
}

/** How much of a set of segments is selected. */
export type CheckState = "all" | "some" | "none";

/** Groups the report's `byAsset` entries, placing each segment in its scene (from `stale`); unknown segments get a scene of "?". */
export function buildReportGroups(byAsset: readonly AssetStaleness[], stale: readonly StaleSegment[]): ReportGroup[] {
  const known = new Map(stale.map((s) => [s.segmentId, s]));
  return byAsset.map((g) => {
    const scenes = new Map<string, ReportScene>();
    for (const id of g.segmentIds) {
      const seg = known.get(id) ?? ({ segmentId: id, sceneId: "?", projectId: g.projectId, sequenceIndex: 0, reasons: [] } as unknown as StaleSegment);
      const key = `${seg.projectId}/${seg.sceneId}`;
      let scene = scenes.get(key);
      if (!scene) scenes.set(key, (scene = { sceneId: seg.sceneId, projectId: seg.projectId, segments: [] }));
      scene.segments.push(seg);
    }
    const sorted = [...scenes.values()].sort((a, b) => a.sceneId.localeCompare(b.sceneId, undefined, { numeric: true }));
    for (const s of sorted) s.segments.sort((a, b) => a.sequenceIndex - b.sequenceIndex || a.segmentId.localeCompare(b.segmentId));
    return {
      key: `${g.projectId}/${g.assetId}/v${g.receiptVersion}`,
      projectId: g.projectId,
      assetId: g.assetId,
      assetName: g.assetName || g.assetId,
      kind: g.kind,
      receiptVersion: g.receiptVersion,
      currentVersion: g.currentVersion,
      summary: g.summary,
      scenes: sorted,
      segmentIds: sorted.flatMap((s) => s.segments.map((x) => x.segmentId)),
    };
  });
}

/** Whether all, some or none of `ids` are in `selected`. */
export function checkState(ids: readonly string[], selected: ReadonlySet<string>): CheckState {
  let n = 0;
  for (const id of ids) if (selected.has(id)) n++;
  return n === 0 ? "none" : n === ids.length ? "all" : "some";
}

/** `selected` with all of `ids` added (when not all were selected) or removed (when all were). */
export function toggleIds(selected: ReadonlySet<string>, ids: readonly string[]): Set<string> {
  const next = new Set(selected);
  const on = checkState(ids, selected) !== "all";
  for (const id of ids) {
    if (on) next.add(id);
    else next.delete(id);
  }
  return next;
}

/** Drops selected ids that are no longer stale (after the report refreshes). */
export function pruneSelection(selected: ReadonlySet<string>, groups: readonly ReportGroup[]): Set<string> {
  const present = new Set(groups.flatMap((g) => g.segmentIds));
  return new Set([...selected].filter((id) => present.has(id)));
}

/** The selected segment ids per project (regeneration plans and submits one project at a time). */
export function selectionByProject(selected: ReadonlySet<string>, groups: readonly ReportGroup[]): Map<string, string[]> {
  const projectOf = new Map<string, string>();
  for (const g of groups) for (const s of g.scenes) for (const seg of s.segments) projectOf.set(seg.segmentId, s.projectId);
  const out = new Map<string, string[]>();
  for (const id of selected) {
    const project = projectOf.get(id);
    if (project === undefined) continue;
    const list = out.get(project) ?? [];
    list.push(id);
    out.set(project, list);
  }
  for (const list of out.values()) list.sort();
  return out;
}
