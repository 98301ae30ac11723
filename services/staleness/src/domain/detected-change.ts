/** The StalenessDetected message of one asset change in one project, built from the detection statement's verdicts. Pure, no I/O. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { StalenessDetectedSchema } from "@provenance/shared";
import type { AssetKindName } from "./asset-kinds.js";
import { summarySentence, toAssetStaleness } from "./staleness-groups.js";

/** An asset's current version changing from `previous` to `current`. */
export interface CurrentChange {
  assetId: string;
  assetName: string;
  kind: AssetKindName;
  /** 0 when the asset had no current version. */
  previousVersion: number;
  /** "" when the asset had no current version. */
  previousContentHash: string;
  currentVersion: number;
  currentContentHash: string;
}

/**
 * One active input of the changed asset in one project, with the staleness rule's verdict on it as the detection
 * statement (persistence/statements.ts, `PROJECT_DETECTION_SQL`) returns it: the rule itself is not restated here.
 */
export interface DetectionInput {
  sceneId: string;
  segmentId: string;
  /** The version with the input's hash; 0 when the hash is not a version of the asset. */
  receiptVersion: number;
  /** Stale against the change's current version. */
  stale: boolean;
  /** Made fresh by the change: it moved to this input's hash from another. */
  fresh: boolean;
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
 * The project's detected change: the segments now stale because of this asset and those the change made fresh with
 * respect to it, as the verdicts say; undefined when there are neither. Groups (one per receipt version) and totals
 * cover this asset in that project, a segment that used the asset twice counting once; id lists are cut at
 * {@link MAX_EVENT_SEGMENT_IDS} (ListStaleSegments pages through all of them).
 */
export function detectedChange(change: CurrentChange, projectId: string, inputs: readonly DetectionInput[]): DetectedChange | undefined {
  const stale = inputs.filter((i) => i.stale);
  const fresh = inputs.filter((i) => i.fresh);
  if (stale.length === 0 && fresh.length === 0) return undefined;
  const staleIds = distinctSorted(stale.map((r) => r.segmentId));
  return {
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
  };
}

/**
 * One project's verdicts on the changed asset, already counted by the detection statement (persistence/statements.ts,
 * `PROJECT_DETECTION_SQL`), so detection never holds a project's inputs: the ids are the first
 * {@link MAX_EVENT_SEGMENT_IDS} distinct ones in order, the counts cover all of them.
 */
export interface DetectionCounts {
  /** The first distinct segments with a stale input of the asset, in order. */
  staleSegmentIds: string[];
  /** The first distinct segments with an input the change made fresh, in order. */
  freshSegmentIds: string[];
  /** Distinct segments with a stale input of the asset. */
  totalStaleSegments: number;
  /** Distinct scenes of those segments. */
  totalStaleScenes: number;
  /** One per receipt version with a stale input (0: a hash that is no version of the asset). */
  groups: DetectionGroupCounts[];
}

/** The stale inputs of one receipt version in one project, counted. */
export interface DetectionGroupCounts {
  receiptVersion: number;
  /** Distinct segments. */
  affectedSegments: number;
  /** Distinct scenes. */
  affectedScenes: number;
  /** The first distinct segment ids, in order. */
  segmentIds: string[];
}

/**
 * The project's detected change from its counted verdicts, the same message {@link detectedChange} builds from the
 * verdict rows: undefined when nothing is stale and nothing was made fresh; groups by receipt version, ascending; id
 * lists cut at {@link MAX_EVENT_SEGMENT_IDS} with exact totals.
 */
export function detectedChangeOfCounts(change: CurrentChange, projectId: string, counts: DetectionCounts): DetectedChange | undefined {
  if (counts.totalStaleSegments === 0 && counts.freshSegmentIds.length === 0) return undefined;
  return {
    projectId,
    assetId: change.assetId,
    previousVersion: change.previousVersion,
    currentVersion: change.currentVersion,
    staleSegmentIds: counts.staleSegmentIds.slice(0, MAX_EVENT_SEGMENT_IDS),
    freshSegmentIds: counts.freshSegmentIds.slice(0, MAX_EVENT_SEGMENT_IDS),
    totalStaleSegments: counts.totalStaleSegments,
    totalStaleScenes: counts.totalStaleScenes,
    groups: [...counts.groups]
      .sort((a, b) => a.receiptVersion - b.receiptVersion)
      .map((g) => {
        const row = {
          projectId,
          assetId: change.assetId,
          assetName: change.assetName,
          kind: change.kind,
          receiptVersion: g.receiptVersion,
          currentVersion: change.currentVersion,
          segmentIds: g.segmentIds.slice(0, MAX_EVENT_SEGMENT_IDS),
          affectedScenes: g.affectedScenes,
        };
        const group = toAssetStaleness(row);
        group.affectedSegments = g.affectedSegments;
        group.summary = summarySentence({ ...row, affectedSegments: g.affectedSegments });
        return group;
      }),
  };
}
