/** GetVersion: one version of an asset, with the asset. */
import { notFound, projectFilter } from "@provenance/shared";
import type { ProjectScope } from "@provenance/shared/auth";
import type { AssetRecord, VersionRecord } from "../domain/asset-records.js";
import { findAsset, findVersion } from "../persistence/asset-repository.js";
import type { AppDeps } from "./deps.js";

/** The version (its usage counted in the caller's `viewable` projects) and its asset; NOT_FOUND when either is unknown. */
export async function getVersion(
  deps: AppDeps,
  assetId: string,
  version: number,
  viewable: ProjectScope,
): Promise<{ asset: AssetRecord; version: VersionRecord }> {
  const m = deps.dataSource.manager;
  const asset = await findAsset(m, assetId);
  const found = asset && (await findVersion(m, assetId, version, projectFilter(viewable)));
  if (!asset || !found) throw notFound("asset version", `${assetId} v${version}`);
  return { asset, version: found };
}
