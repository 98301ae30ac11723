/** The StalenessDetected message of one asset change in one project, built from the detection statement's verdicts. Pure, no I/O. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { StalenessDetectedSchema } from "@provenance/shared";
import type { AssetKindName } from "./asset-kinds.js";
import { toAssetStaleness } from "./staleness-groups.js";

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
