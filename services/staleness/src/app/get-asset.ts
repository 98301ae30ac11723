/** GetAsset: one asset with its current version. */
import { notFound } from "@provenance/shared";
import type { AssetRecord } from "../domain/asset-records.js";
import { findAsset } from "../persistence/asset-repository.js";
import type { AppDeps } from "./deps.js";

/** The asset; NOT_FOUND when there is none. */
export async function getAsset(deps: AppDeps, assetId: string): Promise<AssetRecord> {
  const asset = await findAsset(deps.dataSource.manager, assetId);
  if (!asset) throw notFound("asset", assetId);
  return asset;
}
