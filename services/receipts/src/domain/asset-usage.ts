/** Reverse usage: one input of one receipt that named an asset, which hash a query asks for, and the API message. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AssetUsageSchema, invalidArgument, type AssetUsage } from "@provenance/shared";
import type { InputRoleName } from "./new-receipt.js";
import { inputRoleOf, receiptStatusOf, type ReceiptStatusName, type SegmentRecord } from "./receipt-record.js";

/** One row of reverse usage: an input of a receipt, with its segment. */
export interface UsageRecord {
  receiptSeq: bigint;
  receiptId: string;
  role: InputRoleName;
  position: number;
  contentHash: string;
  version: number | null;
  weight: number | null;
  status: ReceiptStatusName;
  generationStartedAt: Date;
  segment: SegmentRecord;
}

/**
 * The content hash a GetAssetUsage query filters on: the requested hash (any case), the hash its version resolved to
 * (`resolved`, when a version was asked for), or none. A hash and a version that disagree are INVALID_ARGUMENT on
 * `content_hash`.
 */
export function usageHashFilter(
  requested: { assetId: string; contentHash: string; version: number },
  resolved: string | undefined,
): string | undefined {
  const contentHash = requested.contentHash === "" ? undefined : requested.contentHash.toLowerCase();
  if (resolved === undefined) return contentHash;
  if (contentHash !== undefined && contentHash !== resolved) {
    throw invalidArgument("content_hash", `does not match version ${requested.version} of ${requested.assetId} (${resolved})`);
  }
  return resolved;
}

/** Maps a usage row to the API message. */
export function toAssetUsageMessage(u: UsageRecord): AssetUsage {
  return create(AssetUsageSchema, {
    segmentId: u.segment.segmentId,
    sceneId: u.segment.sceneId,
    projectId: u.segment.projectId,
    characterName: u.segment.characterName,
    receiptId: u.receiptId,
    role: inputRoleOf(u.role),
    version: u.version ?? 0,
    contentHash: u.contentHash,
    weight: u.weight ?? 0,
    position: u.position,
    status: receiptStatusOf(u.status),
    segmentActive: u.segment.supersededBySegmentId === null,
    generationStartedAt: timestampFromDate(u.generationStartedAt),
  });
}
