/** SetCurrentVersion: makes an existing version of an asset current — a promotion or a rollback, the same change. */
import { notFound } from "@provenance/shared";
import type { AssetRecord } from "../domain/asset-records.js";
import { changesCurrent } from "../domain/asset-versions.js";
import { clearCurrentVersion, findAsset, findVersion, flagCurrentVersion, touchAsset } from "../persistence/asset-repository.js";
import { lockAsset, recordCurrentChange } from "./asset-change.js";
import type { AppDeps } from "./deps.js";

/** What SetCurrentVersion asks for. */
export interface SetCurrentVersionInput {
  assetId: string;
  version: number;
  requestId?: string;
}

/** SetCurrentVersion's outcome. */
export interface SetCurrentVersionResult {
  asset: AssetRecord;
  /** The version current before (the same one when nothing changed). */
  previousVersion: number;
}

/**
 * Makes the version current under the asset's row lock, with the change's event and detection task in the same
 * transaction; a no-op when it already is. Rolling back is making an older version current: segments made from it
 * are fresh again with no other code. NOT_FOUND for an unknown asset or version.
 */
export async function setCurrentVersion(deps: AppDeps, input: SetCurrentVersionInput): Promise<SetCurrentVersionResult> {
  const { assetId, version, requestId } = input;
  let changed = false;
  const result = await deps.dataSource.transaction(async (m): Promise<SetCurrentVersionResult> => {
    const asset = await lockAsset(m, assetId);
    const target = await findVersion(m, assetId, version);
    if (!target) throw notFound("asset version", `${assetId} v${version}`);
    if (!changesCurrent(asset, version)) return { asset, previousVersion: version };
    await clearCurrentVersion(m, assetId);
    await flagCurrentVersion(m, assetId, version);
    await touchAsset(m, assetId);
    const after = (await findAsset(m, assetId))!;
    await recordCurrentChange(m, asset, { version, contentHash: target.contentHash }, requestId);
    changed = true;
    return { asset: after, previousVersion: asset.currentVersion };
  });
  if (changed) deps.onCurrentChanged?.();
  return result;
}
