/** A staleness report's groups, their totals and summary sentence, and their API message. Pure, no I/O. */
import { create } from "@bufbuild/protobuf";
import { AssetStalenessSchema, type AssetStaleness } from "@provenance/shared";
import { assetKindOf, type AssetKindName } from "./asset-kinds.js";
import type { PinnedSegmentRow } from "./pins.js";

/** One group of a report as the query returns it: segments of one project that used one asset version that is not current. */
export interface StalenessGroupRow {
  projectId: string;
  assetId: string;
  assetName: string;
  kind: AssetKindName;
  /** 0 when the receipt's hash is not a known version of the asset. */
  receiptVersion: number;
  currentVersion: number;
  segmentIds: string[];
  affectedScenes: number;
}

/**
 * A group as the report's query returns it: its segment ids in order, where a segment that used the same version
 * twice (a LoRA stacked twice) appears twice in a row, and the distinct scenes of its segments instead of their count.
 */
export type StaleGroupWithScenes = Omit<StalenessGroupRow, "affectedScenes"> & { sceneIds: string[] };

/** GetStalenessReport's numbers and groups. */
export interface StalenessReport {
  totalActiveSegments: number;
  totalStaleSegments: number;
  totalStaleScenes: number;
  untrackedInputs: number;
  /** Active segments with only LEGACY receipts (made before receipts were recorded): neither stale nor fresh. */
  legacySegments: number;
  groups: StalenessGroupRow[];
  /** Distinct segments with an input a pin waives. */
  pinnedSegments: number;
  /** The waived inputs, one per (segment, asset). */
  pinned: PinnedSegmentRow[];
}

/** `ids` without adjacent repeats (the order is kept, so a sorted list comes out distinct); `ids` itself when it has none. */
function withoutAdjacentRepeats(ids: string[]): string[] {
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] === ids[i - 1]) return ids.filter((id, k) => k === 0 || id !== ids[k - 1]);
  }
  return ids;
}

/**
 * A report's groups with distinct ids and scene counts, and its totals: distinct stale segments and (project, scene)
 * pairs over all groups. `rows` come in (project, asset, receipt version) order, in the database's collation; the
 * groups leave ordered by project, then most segments first, then asset and receipt version.
 */
export function reportGroups(rows: readonly StaleGroupWithScenes[]): {
  groups: StalenessGroupRow[];
  totalStaleSegments: number;
  totalStaleScenes: number;
} {
  const segments = new Set<string>();
  const scenes = new Map<string, Set<string>>();
  const groups = rows.map(({ sceneIds, ...g }) => {
    const segmentIds = withoutAdjacentRepeats(g.segmentIds);
    for (const id of segmentIds) segments.add(id);
    let inProject = scenes.get(g.projectId);
    if (!inProject) scenes.set(g.projectId, (inProject = new Set()));
    for (const id of sceneIds) inProject.add(id);
    return { ...g, segmentIds, affectedScenes: sceneIds.length };
  });
  let totalStaleScenes = 0;
  for (const inProject of scenes.values()) totalStaleScenes += inProject.size;
  // A stable sort on (project's place, size): ties keep the database's (asset, receipt version) order.
  const projectRank = new Map([...scenes.keys()].map((p, i) => [p, i]));
  groups.sort((a, b) => projectRank.get(a.projectId)! - projectRank.get(b.projectId)! || b.segmentIds.length - a.segmentIds.length);
  return { groups, totalStaleSegments: segments.size, totalStaleScenes };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * "12 segments across 3 scenes used anna_lora v1 — you are on v2"; when the receipt's hash is not a known version,
 * "… used an unregistered version of anna_lora — you are on v2".
 */
export function summarySentence(g: { affectedSegments: number; affectedScenes: number; assetName: string; receiptVersion: number; currentVersion: number }): string {
  const used = g.receiptVersion === 0 ? `an unregistered version of ${g.assetName}` : `${g.assetName} v${g.receiptVersion}`;
  return `${plural(g.affectedSegments, "segment", "segments")} across ${plural(g.affectedScenes, "scene", "scenes")} used ${used} — you are on v${g.currentVersion}`;
}

/** The API message of one group. */
export function toAssetStaleness(g: StalenessGroupRow): AssetStaleness {
  return create(AssetStalenessSchema, {
    projectId: g.projectId,
    assetId: g.assetId,
    assetName: g.assetName,
    kind: assetKindOf(g.kind),
    receiptVersion: g.receiptVersion,
    currentVersion: g.currentVersion,
    affectedSegments: g.segmentIds.length,
    affectedScenes: g.affectedScenes,
    segmentIds: g.segmentIds,
    summary: summarySentence({ ...g, affectedSegments: g.segmentIds.length }),
  });
}
