/** ListAssets: assets in id order, optionally of one project and one kind, paged. */
import type { AssetRecord } from "../domain/asset-records.js";
import { listAssets as readAssets, type AssetFilter } from "../persistence/asset-repository.js";
import type { AppDeps } from "./deps.js";

/** One page of assets, and the id the next page starts after (none when this is the last). */
export interface AssetPage {
  assets: AssetRecord[];
  nextAfterId?: string;
}

/** Up to `limit` assets of the filter after `filter.afterId`; a full page may have a next one. */
export async function listAssets(deps: AppDeps, filter: AssetFilter, limit: number): Promise<AssetPage> {
  const assets = await readAssets(deps.dataSource.manager, filter, limit);
  const last = assets.at(-1);
  return { assets, nextAfterId: assets.length === limit && last ? last.assetId : undefined };
}
