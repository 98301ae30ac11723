/** Staleness groups and their summary sentence, and the detected-change message of one asset change. Pure, no I/O. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { AssetStalenessSchema, type AssetStaleness, type StalenessDetectedSchema } from "@provenance/shared";
import { assetKindOf, type AssetKindName } from "./asset-kinds.js";

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

/** One active segment that used the changed asset, with the hash (and known version) its current receipt used. */
export interface AffectedInput {
  projectId: string;
  sceneId: string;
  segmentId: string;
  contentHash: string;
  /** The version with that hash; 0 when the hash is not a version of the asset. */
  receiptVersion: number;
}

/** An asset's current version changing from `previous` to `current`. */
export interface CurrentChange {
  assetId: string;
  assetName: string;
  kind: AssetKindName;
  previousVersion: number;
  previousContentHash: string;
  currentVersion: number;
  currentContentHash: string;
}

/** What StalenessDetected carries for one project, without the envelope fields. */
export type DetectedChange = MessageInitShape<typeof StalenessDetectedSchema> & { projectId: string };

/** Most segment ids one StalenessDetected lists per list (totals stay exact), so an event stays far below NATS's payload limit. */
export const MAX_EVENT_SEGMENT_IDS = 5_000;

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function distinctSorted(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort();
}

/**
 * The detected change per affected project: segments now stale because of this asset (their input's hash is not
 * the current one), and segments this change made fresh with respect to it (they used the new current content and
 * did not before). Projects with neither are left out. Groups and totals cover this asset in that project; id lists
 * are cut at {@link MAX_EVENT_SEGMENT_IDS} (ListStaleSegments pages through all of them).
 */
export function detectChanges(change: CurrentChange, inputs: readonly AffectedInput[]): DetectedChange[] {
  const out: DetectedChange[] = [];
  const byProject = [...groupBy(inputs, (i) => i.projectId)].sort(([a], [b]) => a.localeCompare(b));
  for (const [projectId, rows] of byProject) {
    const stale = rows.filter((r) => r.contentHash !== change.currentContentHash);
    const fresh =
      change.previousContentHash === change.currentContentHash ? [] : rows.filter((r) => r.contentHash === change.currentContentHash);
    if (stale.length === 0 && fresh.length === 0) continue;
    const staleIds = distinctSorted(stale.map((r) => r.segmentId));
    out.push({
      projectId,
      assetId: change.assetId,
      previousVersion: change.previousVersion,
      currentVersion: change.currentVersion,
      staleSegmentIds: staleIds.slice(0, MAX_EVENT_SEGMENT_IDS),
      freshSegmentIds: distinctSorted(fresh.map((r) => r.segmentId)).slice(0, MAX_EVENT_SEGMENT_IDS),
      totalStaleSegments: staleIds.length,
      totalStaleScenes: new Set(stale.map((r) => r.sceneId)).size,
      groups: [...groupBy(stale, (r) => r.receiptVersion)]
        .sort(([a], [b]) => a - b)
        .map(([receiptVersion, members]) => {
          const ids = distinctSorted(members.map((m) => m.segmentId));
          const group = toAssetStaleness({
            projectId,
            assetId: change.assetId,
            assetName: change.assetName,
            kind: change.kind,
            receiptVersion,
            currentVersion: change.currentVersion,
            segmentIds: ids,
            affectedScenes: new Set(members.map((m) => m.sceneId)).size,
          });
          group.segmentIds = ids.slice(0, MAX_EVENT_SEGMENT_IDS);
          return group;
        }),
    });
  }
  return out;
}
