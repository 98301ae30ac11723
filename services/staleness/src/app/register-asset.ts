/** RegisterAsset: registers an asset, idempotently. */
import { randomUUID } from "node:crypto";
import type { AssetKindName } from "../domain/asset-kinds.js";
import type { AssetRecord } from "../domain/asset-records.js";
import { checkSameRegistration } from "../domain/asset-versions.js";
import { findAsset, insertAsset } from "../persistence/asset-repository.js";
import type { AppDeps } from "./deps.js";

/** What RegisterAsset asks for. */
export interface RegisterAssetInput {
  /** Generated (a UUID) when not given. */
  assetId?: string;
  kind: AssetKindName;
  name: string;
  /** Not given: shared by every project. */
  projectId?: string;
}

/** RegisterAsset's outcome. */
export interface RegisterAssetResult {
  asset: AssetRecord;
  created: boolean;
}

/** Registers the asset; the same id with the same kind, name and project returns it unchanged, a different one is ALREADY_EXISTS. */
export async function registerAsset(deps: AppDeps, input: RegisterAssetInput): Promise<RegisterAssetResult> {
  const requested = { assetId: input.assetId ?? randomUUID(), kind: input.kind, name: input.name, projectId: input.projectId ?? null };
  return deps.dataSource.transaction(async (m) => {
    const created = await insertAsset(m, requested);
    const asset = (await findAsset(m, requested.assetId))!;
    if (!created) checkSameRegistration(asset, requested);
    return { asset, created };
  });
}
