/**
 * Every event the staleness service publishes, written to its outbox in the caller's transaction (so it is published
 * if and only if the change commits) and relayed to JetStream by the shared outbox relay. Subjects and messages come
 * from the shared event catalog.
 */
import type { EntityManager } from "typeorm";
import {
  ASSET_CURRENT_CHANGED,
  ASSET_VERSION_PUBLISHED,
  EVENT_MESSAGES,
  STALENESS_DETECTED_PREFIX,
  enqueueEvent,
  stalenessDetectedSubject,
} from "@provenance/shared";
import { assetKindOf } from "../domain/asset-kinds.js";
import type { AssetRecord } from "../domain/asset-records.js";
import type { CurrentChange, DetectedChange } from "../domain/detected-change.js";
import { STALENESS_SCHEMA } from "../persistence/schema.js";

/** A version as AssetVersionPublished describes it. */
export interface PublishedVersion {
  version: number;
  contentHash: string;
  uploadedBy: string;
  madeCurrent: boolean;
}

/** Enqueues AssetVersionPublished for a version appended to `asset`. */
export async function enqueueVersionPublished(m: EntityManager, asset: AssetRecord, v: PublishedVersion, requestId?: string): Promise<void> {
  await enqueueEvent(m, {
    schema: STALENESS_SCHEMA,
    subject: ASSET_VERSION_PUBLISHED,
    eventSchema: EVENT_MESSAGES[ASSET_VERSION_PUBLISHED],
    event: {
      assetId: asset.assetId,
      kind: assetKindOf(asset.kind),
      assetName: asset.name,
      projectId: asset.projectId ?? "",
      version: v.version,
      contentHash: v.contentHash,
      uploadedBy: v.uploadedBy,
      madeCurrent: v.madeCurrent,
    },
    requestId,
  });
}

/** Enqueues AssetCurrentChanged for a change of `asset`'s current version. */
export async function enqueueCurrentChanged(m: EntityManager, asset: AssetRecord, change: CurrentChange, requestId?: string): Promise<void> {
  await enqueueEvent(m, {
    schema: STALENESS_SCHEMA,
    subject: ASSET_CURRENT_CHANGED,
    eventSchema: EVENT_MESSAGES[ASSET_CURRENT_CHANGED],
    event: {
      assetId: change.assetId,
      kind: assetKindOf(change.kind),
      assetName: change.assetName,
      projectId: asset.projectId ?? "",
      previousVersion: change.previousVersion,
      previousContentHash: change.previousContentHash,
      currentVersion: change.currentVersion,
      currentContentHash: change.currentContentHash,
    },
    requestId,
  });
}

/** Enqueues StalenessDetected on its project's subject; returns the event's id. */
export async function enqueueStalenessDetected(m: EntityManager, detected: DetectedChange, requestId?: string): Promise<string> {
  return enqueueEvent(m, {
    schema: STALENESS_SCHEMA,
    subject: stalenessDetectedSubject(detected.projectId),
    eventSchema: EVENT_MESSAGES[STALENESS_DETECTED_PREFIX],
    event: detected,
    requestId,
  });
}
