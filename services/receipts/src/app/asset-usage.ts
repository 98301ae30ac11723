/** GetAssetUsage: which segments' receipts used an asset (optionally one version or content hash), newest first. */
import type { DataSource } from "typeorm";
import { pageSizeOf, projectFilter } from "@provenance/shared";
import type { Caller } from "@provenance/shared/auth";
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
 * GetAssetUsage for `caller`: a version is resolved to its content hash through AssetService, asked with the caller's
 * own token (NOT_FOUND for an unknown version or one of an asset the caller cannot view, UNAVAILABLE when AssetService
 * is down), then one keyset-paged statement reads the page — of the projects the caller may view only, whatever
 * project the asset belongs to (a shared base model's usage shows the caller's projects, no other).
 */
export async function getAssetUsage(ds: DataSource, assetVersions: AssetVersionLookup, query: AssetUsageQuery, caller: Caller): Promise<AssetUsagePage> {
  const limit = pageSizeOf(query.pageSize);
  const resolved = query.version === 0 ? undefined : await assetVersions.contentHashOf(query.assetId, query.version, caller);
  const contentHash = usageHashFilter(query, resolved);
  const usages = await assetUsage(ds.manager, query.assetId, contentHash, limit, parseUsageCursor(query.pageToken), projectFilter(caller.viewable));
  const last = usages.at(-1);
  return { usages, nextPageToken: usages.length === limit && last ? usageCursorToken(last) : "" };
}
