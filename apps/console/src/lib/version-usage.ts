/** One asset version's usages folded into one row per segment, active segments apart from superseded ones. */
import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { InputRole, ReceiptStatus } from "@gen/common_pb.js";
import type { AssetUsage } from "@gen/receipts_pb.js";

/** How one segment used the version: over all its receipts that did, the newest one's facts. */
export interface SegmentUse {
  segmentId: string;
  sceneId: string;
  projectId: string;
  active: boolean;
  /** The status of the newest receipt that used the version. */
  status: ReceiptStatus;
  generationStartedAt: Timestamp | undefined;
  /** The roles it played in that receipt (a LoRA with its weight), in stack order. */
  roles: { role: InputRole; weight: number }[];
  /** How many of the segment's receipts used it. */
  receiptCount: number;
}

const startedMs = (u: AssetUsage) => (u.generationStartedAt ? timestampMs(u.generationStartedAt) : 0);

/** Groups `usages` per segment (first appearance order), split into active and superseded segments. */
export function usesBySegment(usages: readonly AssetUsage[]): { active: SegmentUse[]; superseded: SegmentUse[] } {
  const receipts = new Map<string, Map<string, AssetUsage[]>>();
  for (const u of usages) {
    const bySegment = receipts.get(u.segmentId) ?? new Map<string, AssetUsage[]>();
    receipts.set(u.segmentId, bySegment);
    const list = bySegment.get(u.receiptId) ?? [];
    bySegment.set(u.receiptId, list);
    list.push(u);
  }
  const active: SegmentUse[] = [];
  const superseded: SegmentUse[] = [];
  for (const [segmentId, byReceipt] of receipts) {
    const newest = [...byReceipt.values()].reduce((a, b) => (startedMs(b[0]!) > startedMs(a[0]!) ? b : a));
    const first = newest[0]!;
    const use: SegmentUse = {
      segmentId,
      sceneId: first.sceneId,
      projectId: first.projectId,
      active: first.segmentActive,
      status: first.status,
      generationStartedAt: first.generationStartedAt,
      roles: [...newest].sort((a, b) => a.position - b.position).map((u) => ({ role: u.role, weight: u.weight })),
      receiptCount: byReceipt.size,
    };
    (use.active ? active : superseded).push(use);
  }
  return { active, superseded };
}
