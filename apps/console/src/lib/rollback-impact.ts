/** What making another version of an asset current does to segments, from its usage and the segments' current receipts. */
import type { StalenessReason } from "@gen/common_pb.js";
import type { AssetUsage } from "@gen/receipts_pb.js";

/** The segments a version change moves, by what happens to them. */
export interface RollbackImpact {
  /** Active segments whose current receipts used only the target version's content: no longer stale because of this asset. */
  freshAgain: string[];
  /** How many of {@link freshAgain} stay stale all the same, because of another asset. */
  freshAgainStillStale: number;
  /** Active segments whose current receipts used only the current version's content: stale after the change. */
  becomeStale: string[];
  /** Active segments made from other versions: stale before and after. */
  stayStale: string[];
  /** Superseded segments whose receipts used the asset: they stay superseded. */
  superseded: number;
}

/** What {@link rollbackImpact} needs to know. */
export interface RollbackImpactInput {
  assetId: string;
  /** The content hash of the version to be made current. */
  targetHash: string;
  /** The content hash of the version current now; undefined when none is. */
  currentHash: string | undefined;
  /** Every use of the asset by a receipt. */
  usages: readonly AssetUsage[];
  /** Active segment id → its current receipt id. */
  currentReceipts: ReadonlyMap<string, string>;
  /** Why segments are stale now, by segment id. */
  staleReasons: ReadonlyMap<string, readonly StalenessReason[]>;
}

/**
 * Staleness is computed from each active segment's current receipt: a segment is stale because of this asset when any
 * use of it in that receipt names content other than the current version's. Superseded segments never change.
 */
export function rollbackImpact(input: RollbackImpactInput): RollbackImpact {
  const hashes = new Map<string, Set<string>>();
  const superseded = new Set<string>();
  for (const u of input.usages) {
    if (!u.segmentActive) {
      superseded.add(u.segmentId);
      continue;
    }
    if (input.currentReceipts.get(u.segmentId) !== u.receiptId) continue; // an older or failed receipt: not what staleness reads
    const set = hashes.get(u.segmentId) ?? new Set<string>();
    hashes.set(u.segmentId, set);
    set.add(u.contentHash);
  }
  const out: RollbackImpact = { freshAgain: [], freshAgainStillStale: 0, becomeStale: [], stayStale: [], superseded: superseded.size };
  for (const [segmentId, used] of [...hashes].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))) {
    const staleBefore = input.currentHash !== undefined && [...used].some((h) => h !== input.currentHash);
    const staleAfter = [...used].some((h) => h !== input.targetHash);
    if (staleBefore && !staleAfter) {
      out.freshAgain.push(segmentId);
      if ((input.staleReasons.get(segmentId) ?? []).some((r) => r.assetId !== input.assetId)) out.freshAgainStillStale += 1;
    } else if (!staleBefore && staleAfter) out.becomeStale.push(segmentId);
    else if (staleBefore && staleAfter) out.stayStale.push(segmentId);
  }
  return out;
}
