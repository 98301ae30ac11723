/** GetVersion: one version of an asset, with the asset. */
import { notFound } from "@provenance/shared";
import type { AssetRecord, VersionRecord } from "../domain/asset-records.js";
import { findAsset, findVersion } from "../persistence/asset-repository.js";
import type { AppDeps } from "./deps.js";

/** The version and its asset; NOT_FOUND when either is unknown. */
export async function getVersion(deps: AppDeps, assetId: string, version: number): Promise<{ asset: AssetRecord; version: VersionRecord }> {
  const m = deps.dataSource.manager;
  const asset = await findAsset(m, assetId);
  const found = asset && (await findVersion(m, assetId, version));
  if (!asset || !found) throw notFound("asset version", `${assetId} v${version}`);
  return { asset, version: found };
}
