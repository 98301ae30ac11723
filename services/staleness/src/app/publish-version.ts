/** PublishVersion: appends a version to an asset, or returns the one it already has with that content. */
import { notFound } from "@provenance/shared";
import type { AssetRecord, VersionRecord } from "../domain/asset-records.js";
import { newVersion, normalContentHash } from "../domain/asset-versions.js";
import { enqueueVersionPublished } from "../events/publishers.js";
import { findAsset, findVersion, findVersionByHash, clearCurrentVersion, insertVersion, latestVersionNumber, touchAsset } from "../persistence/asset-repository.js";
import { lockAsset, recordCurrentChange } from "./asset-change.js";
import type { AppDeps } from "./deps.js";

/** What PublishVersion asks for. */
export interface PublishVersionInput {
  assetId: string;
  contentHash: string;
  uploadedBy: string;
  note: string;
  /** Not given: true. */
  makeCurrent?: boolean;
  requestId?: string;
}

/** PublishVersion's outcome. */
export interface PublishVersionResult {
  version: VersionRecord;
  asset: AssetRecord;
  /** false: the asset already had this content, returned as it was. */
  created: boolean;
}

/**
 * Appends a version, numbered and made current as domain/asset-versions.ts `newVersion` says, with its
 * AssetVersionPublished and, when it became current, the change's event and detection task, in one transaction under
 * the asset's row lock. Publishing a hash the asset already has returns that version and writes nothing at all.
 */
export async function publishVersion(deps: AppDeps, input: PublishVersionInput): Promise<PublishVersionResult> {
  const { assetId, uploadedBy, note, requestId } = input;
  const contentHash = normalContentHash(input.contentHash);
  const db = deps.dataSource;
  // Read first, without a lock: publishing a hash the asset already has writes nothing at all.
  const known = await findAsset(db.manager, assetId);
  if (!known) throw notFound("asset", assetId);
  const existing = await findVersionByHash(db.manager, assetId, contentHash);
  if (existing) return { version: existing, asset: known, created: false };
  let madeCurrent = false;
  const result = await db.transaction(async (m): Promise<PublishVersionResult> => {
    const asset = await lockAsset(m, assetId);
    const raced = await findVersionByHash(m, assetId, contentHash);
    if (raced) return { version: raced, asset, created: false };
    const next = newVersion(asset, await latestVersionNumber(m, assetId), input.makeCurrent);
    if (next.current) await clearCurrentVersion(m, assetId);
    await insertVersion(m, { assetId, version: next.version, contentHash, uploadedBy, note, previousVersion: next.previousVersion, isCurrent: next.current });
    await touchAsset(m, assetId);
    await enqueueVersionPublished(m, asset, { version: next.version, contentHash, uploadedBy, madeCurrent: next.current }, requestId);
    const after = (await findAsset(m, assetId))!;
    const published = (await findVersion(m, assetId, next.version))!;
    if (next.current) await recordCurrentChange(m, asset, { version: next.version, contentHash }, requestId);
    madeCurrent = next.current;
    return { version: published, asset: after, created: true };
  });
  if (madeCurrent) deps.onCurrentChanged?.();
  return result;
}
