/** Assets and versions as stored, and their API messages. Pure, no I/O. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AssetSchema, AssetVersionSchema, type Asset, type AssetVersion } from "@provenance/shared";
import { assetKindOf, type AssetKindName } from "./asset-kinds.js";

/** An asset with its current version, as stored. */
export interface AssetRecord {
  assetId: string;
  kind: AssetKindName;
  name: string;
  /** null: shared by every project. */
  projectId: string | null;
  createdAt: Date;
  /** 0 until a version is published. */
  currentVersion: number;
  currentContentHash: string;
  versionCount: number;
}

/** One version of an asset, as stored, with how many segments' current receipts used its content. */
export interface VersionRecord {
  assetId: string;
  version: number;
  contentHash: string;
  uploadedBy: string;
  note: string;
  createdAt: Date;
  isCurrent: boolean;
  /** 0 for the first version. */
  previousVersion: number;
  usageCount: number;
}

/** The API message of an asset. */
export function toAssetMessage(a: AssetRecord): Asset {
  return create(AssetSchema, {
    assetId: a.assetId,
    kind: assetKindOf(a.kind),
    name: a.name,
    projectId: a.projectId ?? "",
    currentVersion: a.currentVersion,
    currentContentHash: a.currentContentHash,
    versionCount: a.versionCount,
    createdAt: timestampFromDate(a.createdAt),
  });
}

/** The API message of a version. */
export function toVersionMessage(v: VersionRecord): AssetVersion {
  return create(AssetVersionSchema, {
    assetId: v.assetId,
    version: v.version,
    contentHash: v.contentHash,
    uploadedBy: v.uploadedBy,
    note: v.note,
    createdAt: timestampFromDate(v.createdAt),
    isCurrent: v.isCurrent,
    previousVersion: v.previousVersion,
    usageCount: v.usageCount,
  });
}
