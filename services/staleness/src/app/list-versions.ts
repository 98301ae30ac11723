/** ListVersions: an asset's versions, newest first, each with its usage count, paged. */
import { notFound, projectFilter } from "@provenance/shared";
import type { ProjectScope } from "@provenance/shared/auth";
import type { VersionRecord } from "../domain/asset-records.js";
import { findAsset, listVersions as readVersions } from "../persistence/asset-repository.js";
import type { AppDeps } from "./deps.js";

/** One page of versions, and the version the next page starts before (none when this is the last). */
export interface VersionPage {
  versions: VersionRecord[];
  nextBeforeVersion?: number;
}

/**
 * Up to `limit` versions of the asset before `beforeVersion` (from the newest when not given), each used by how many
 * segments of the projects in `viewable` (the caller's); NOT_FOUND for an unknown asset. A full page whose last
 * version is not v1 has a next one.
 */
export async function listVersions(
  deps: AppDeps,
  assetId: string,
  limit: number,
  beforeVersion: number | undefined,
  viewable: ProjectScope,
): Promise<VersionPage> {
  const m = deps.dataSource.manager;
  if (!(await findAsset(m, assetId))) throw notFound("asset", assetId);
  const versions = await readVersions(m, assetId, limit, beforeVersion, projectFilter(viewable));
  const last = versions.at(-1);
  return { versions, nextBeforeVersion: versions.length === limit && last && last.version > 1 ? last.version : undefined };
}
