/** GetAssetUsage: which segments' receipts used an asset (optionally one version or content hash), newest first. */
import type { DataSource } from "typeorm";
import { pageSizeOf } from "@provenance/shared";
import type { AssetVersionLookup } from "../clients/asset-versions.js";
import { usageHashFilter, type UsageRecord } from "../domain/asset-usage.js";
import { parseUsageCursor, usageCursorToken } from "../domain/page-cursors.js";
import { assetUsage } from "../persistence/usage-repository.js";

/** What GetAssetUsage asks for. */
export interface AssetUsageQuery {
  assetId: string;
  /** 0 = any version. */
  version: number;
  /** "" = any content hash. */
  contentHash: string;
  pageSize: number;
  pageToken: string;
}

/** One page of GetAssetUsage. */
export interface AssetUsagePage {
  usages: UsageRecord[];
  nextPageToken: string;
}

/**
 * GetAssetUsage: a version is resolved to its content hash through AssetService (NOT_FOUND for an unknown version,
 * UNAVAILABLE when AssetService is down), then one keyset-paged statement reads the page.
 */
export async function getAssetUsage(ds: DataSource, assetVersions: AssetVersionLookup, query: AssetUsageQuery): Promise<AssetUsagePage> {
  const limit = pageSizeOf(query.pageSize);
  const resolved = query.version === 0 ? undefined : await assetVersions.contentHashOf(query.assetId, query.version);
  const contentHash = usageHashFilter(query, resolved);
  const usages = await assetUsage(ds.manager, query.assetId, contentHash, limit, parseUsageCursor(query.pageToken));
  const last = usages.at(-1);
  return { usages, nextPageToken: usages.length === limit && last ? usageCursorToken(last) : "" };
}
