/** The steps PublishVersion and SetCurrentVersion share, inside their transactions. */
import type { EntityManager } from "typeorm";
import { currentRequestId, notFound } from "@provenance/shared";
import type { AssetRecord } from "../domain/asset-records.js";
import { currentChangeOf } from "../domain/asset-versions.js";
import { enqueueCurrentChanged } from "../events/publishers.js";
import { findAsset, lockAssetRow } from "../persistence/asset-repository.js";
import { insertDetectionTask } from "../persistence/detection-repository.js";

/**
 * Locks the asset's row for the rest of the transaction and reads it: concurrent changes of one asset's versions
 * serialise here (the partial unique index on is_current is the backstop). NOT_FOUND when there is no such asset.
 */
export async function lockAsset(m: EntityManager, assetId: string): Promise<AssetRecord> {
  if (!(await lockAssetRow(m, assetId))) throw notFound("asset", assetId);
  return (await findAsset(m, assetId))!;
}

/**
 * The last statements of a current-version change's transaction: enqueues AssetCurrentChanged and queues the change
 * for detection (staleness.detection_tasks), so both commit with the change or not at all, and the change stays fast
 * however widely the asset is used. The detector (app/detect-staleness.ts) turns the task into one StalenessDetected
 * per affected project after the commit; the task's created_at, written here, is what detection latency is measured
 * from.
 */
export async function recordCurrentChange(
  m: EntityManager,
  before: AssetRecord,
  now: { version: number; contentHash: string },
  requestId?: string,
): Promise<void> {
  const change = currentChangeOf(before, now);
  await enqueueCurrentChanged(m, before, change, requestId);
  await insertDetectionTask(m, change, requestId || currentRequestId() || "");
}
