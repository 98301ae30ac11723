/** A stale segment and its reasons, as ListStaleSegments returns them. Pure types, no I/O. */
import type { AssetKindName, InputRoleName } from "./asset-kinds.js";

/** One stale input of a segment: the asset, the version its receipt used and the current one. */
export interface StaleReasonRecord {
  role: InputRoleName;
  position: number;
  kind: AssetKindName;
  assetId: string;
  assetName: string;
  /** 0 when the receipt's hash is not a known version of the asset. */
  receiptVersion: number;
  currentVersion: number;
  receiptContentHash: string;
  currentContentHash: string;
}

/** A stale active segment with every reason. */
export interface StaleSegmentRecord {
  segmentId: string;
  sceneId: string;
  projectId: string;
  characterName: string;
  sequenceIndex: number;
  receiptId: string;
  reasons: StaleReasonRecord[];
}
