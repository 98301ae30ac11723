/** Reverse provenance of one asset (ReceiptService.GetAssetUsage, paged), and what a change of its current version needs. */
import type { AssetUsage } from "@gen/receipts_pb.js";
import type { Clients } from "./clients.js";
import { readAllPages } from "./paged.js";
import { loadSegments } from "./segment-directory.js";

/** Every use of `assetId` by a receipt (of `version` only, when given). */
export function loadAssetUsage(clients: Clients, assetId: string, version = 0, signal?: AbortSignal): Promise<AssetUsage[]> {
  return readAllPages(async (pageToken) => {
    const res = await clients.receipts.getAssetUsage({ assetId, version, pageSize: 500, pageToken }, { signal });
    return { items: res.usages, nextPageToken: res.nextPageToken };
  });
}

/** What a version change of one asset touches: every use of the asset, and the current receipt of each active segment. */
export interface VersionChangeData {
  usages: AssetUsage[];
  /** Active segment id → its current (latest SUCCEEDED) receipt id, for every project that used the asset. */
  currentReceipts: Map<string, string>;
}

/** Loads {@link VersionChangeData} for `assetId`: its usage, then the active segments of each project that used it. */
export async function loadVersionChangeData(clients: Clients, assetId: string, signal?: AbortSignal): Promise<VersionChangeData> {
  const usages = await loadAssetUsage(clients, assetId, 0, signal);
  const projects = [...new Set(usages.filter((u) => u.segmentActive).map((u) => u.projectId))];
  const listings = await Promise.all(projects.map((projectId) => loadSegments(clients, { projectId }, signal)));
  const currentReceipts = new Map<string, string>();
  for (const l of listings.flat()) if (l.segment?.active && l.currentReceiptId) currentReceipts.set(l.segment.segmentId, l.currentReceiptId);
  return { usages, currentReceipts };
}
