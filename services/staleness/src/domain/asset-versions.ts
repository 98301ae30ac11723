/**
 * The rules of registering assets and of publishing and promoting their versions. Pure, no I/O: the use cases in
 * app/ ask these and write what they say.
 */
import { alreadyExists } from "@provenance/shared";
import type { AssetKindName } from "./asset-kinds.js";
import type { AssetRecord } from "./asset-records.js";
import type { CurrentChange } from "./detected-change.js";

/** What RegisterAsset asks for. */
export interface AssetRegistration {
  assetId: string;
  kind: AssetKindName;
  name: string;
  /** null: shared by every project. */
  projectId: string | null;
}

/**
 * Registering is idempotent: the same id again with the same kind, name and project is the asset already there; a
 * different kind, name or project under that id is ALREADY_EXISTS.
 */
export function checkSameRegistration(existing: AssetRecord, requested: AssetRegistration): void {
  if (existing.kind === requested.kind && existing.name === requested.name && existing.projectId === requested.projectId) return;
  throw alreadyExists(
    `asset "${existing.assetId}" is already registered as ${existing.kind} "${existing.name}"` +
      `${existing.projectId === null ? " (global)" : ` in project "${existing.projectId}"`}; register it with the same kind, name and project, or use another id`,
  );
}

/** Content hashes are compared in lower case: the same hash in capitals is the same content (and so the same version). */
export function normalContentHash(contentHash: string): string {
  return contentHash.toLowerCase();
}

/** Where a new version goes: its number, the version it follows, and whether it becomes current. */
export interface NewVersion {
  version: number;
  /** null for the first version. */
  previousVersion: number | null;
  current: boolean;
}

/**
 * A published version takes the next number after the asset's latest and follows it. It becomes current when asked
 * (`makeCurrent`, true when not given) and always when the asset has no current version yet, so an asset with
 * versions has exactly one current. (Publishing a hash the asset already has is not a new version: the use case
 * returns the existing one before asking this.)
 */
export function newVersion(asset: AssetRecord, latestVersion: number | undefined, makeCurrent: boolean | undefined): NewVersion {
  return {
    version: (latestVersion ?? 0) + 1,
    previousVersion: latestVersion ?? null,
    current: (makeCurrent ?? true) || asset.currentVersion === 0,
  };
}

/**
 * Whether making `version` current changes anything. Promoting a newer version and rolling back to an older one are
 * the same change (any existing version may be made current); making the current version current again is a no-op.
 */
export function changesCurrent(asset: AssetRecord, version: number): boolean {
  return asset.currentVersion !== version;
}

/** The change of `asset`'s current version (as it was before) to `now`. */
export function currentChangeOf(before: AssetRecord, now: { version: number; contentHash: string }): CurrentChange {
  return {
    assetId: before.assetId,
    assetName: before.name,
    kind: before.kind,
    previousVersion: before.currentVersion,
    previousContentHash: before.currentContentHash,
    currentVersion: now.version,
    currentContentHash: now.contentHash,
  };
}
