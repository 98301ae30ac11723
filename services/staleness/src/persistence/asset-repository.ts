/** The rows of assets and their versions: each function one read or write, in the caller's transaction (or none). */
import type { EntityManager } from "typeorm";
import { rowsOf, type Row } from "@provenance/shared";
import type { AssetKindName } from "../domain/asset-kinds.js";
import type { AssetRecord, VersionRecord } from "../domain/asset-records.js";
import type { AssetRegistration } from "../domain/asset-versions.js";

const ASSET_SELECT = `
  SELECT a.asset_id, a.kind, a.name, a.project_id, a.created_at,
         COALESCE(cv.version, 0) AS current_version, COALESCE(cv.content_hash, '') AS current_content_hash,
         (SELECT count(*) FROM staleness.asset_versions n WHERE n.asset_id = a.asset_id)::int AS version_count
    FROM staleness.assets a
    LEFT JOIN staleness.asset_versions cv ON cv.asset_id = a.asset_id AND cv.is_current`;

/**
 * A version row with its usage_count: one range scan of segment_inputs_asset_hash_idx per version — counting only the
 * segments of the projects in parameter `$<projectsParam>` when given (a caller who may view only those: a shared
 * model's count must not reveal other projects').
 */
function versionSelect(projectsParam?: number): string {
  const inProjects = projectsParam === undefined ? "" : ` AND i.project_id = ANY($${projectsParam}::text[])`;
  return `
  SELECT v.asset_id, v.version, v.content_hash, v.uploaded_by, v.note, v.created_at, v.is_current,
         COALESCE(v.previous_version, 0) AS previous_version,
         (SELECT count(DISTINCT i.segment_id) FROM staleness.segment_inputs i
           WHERE i.asset_id = v.asset_id AND i.content_hash = v.content_hash${inProjects})::int AS usage_count
    FROM staleness.asset_versions v`;
}

const VERSION_SELECT = versionSelect();

/** The largest version number a version row can hold (integer). */
const MAX_VERSION = 2147483647;

function assetOf(row: Row): AssetRecord {
  return {
    assetId: row.asset_id as string,
    kind: row.kind as AssetKindName,
    name: row.name as string,
    projectId: (row.project_id as string | null) ?? null,
    createdAt: row.created_at as Date,
    currentVersion: row.current_version as number,
    currentContentHash: row.current_content_hash as string,
    versionCount: row.version_count as number,
  };
}

function versionOf(row: Row): VersionRecord {
  return {
    assetId: row.asset_id as string,
    version: row.version as number,
    contentHash: row.content_hash as string,
    uploadedBy: row.uploaded_by as string,
    note: row.note as string,
    createdAt: row.created_at as Date,
    isCurrent: row.is_current as boolean,
    previousVersion: row.previous_version as number,
    usageCount: row.usage_count as number,
  };
}

/** Inserts the asset unless its id is taken; whether it was inserted. */
export async function insertAsset(m: EntityManager, a: AssetRegistration): Promise<boolean> {
  const inserted = rowsOf(
    await m.query(
      `INSERT INTO staleness.assets (asset_id, kind, name, project_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (asset_id) DO NOTHING RETURNING asset_id`,
      [a.assetId, a.kind, a.name, a.projectId],
    ),
  );
  return inserted.length > 0;
}

/** One asset with its current version, or undefined. */
export async function findAsset(m: EntityManager, assetId: string): Promise<AssetRecord | undefined> {
  const [row] = rowsOf(await m.query(`${ASSET_SELECT} WHERE a.asset_id = $1`, [assetId]));
  return row ? assetOf(row) : undefined;
}

/** Locks the asset's row until the transaction ends (SELECT … FOR UPDATE); whether there is one. */
export async function lockAssetRow(m: EntityManager, assetId: string): Promise<boolean> {
  const locked = rowsOf(await m.query(`SELECT asset_id FROM staleness.assets WHERE asset_id = $1 FOR UPDATE`, [assetId]));
  return locked.length > 0;
}

/** Records that the asset's versions changed (a version appended or made current). */
export async function touchAsset(m: EntityManager, assetId: string): Promise<void> {
  await m.query(`UPDATE staleness.assets SET versions_changed_at = now() WHERE asset_id = $1`, [assetId]);
}

/** Which assets ListAssets reads: one project's (global ones excluded) and/or one kind's, after an id. */
export interface AssetFilter {
  projectId?: string;
  kind?: AssetKindName;
  afterId?: string;
  /** Without `projectId`: only assets of these projects and shared ones (the caller's view; undefined = all). */
  projects?: readonly string[];
}

/** Up to `limit` assets in id order (assets_project_idx when filtered by project). */
export async function listAssets(m: EntityManager, filter: AssetFilter, limit: number): Promise<AssetRecord[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (filter.projectId !== undefined) where.push(`a.project_id = $${params.push(filter.projectId)}`);
  else if (filter.projects !== undefined) where.push(`(a.project_id IS NULL OR a.project_id = ANY($${params.push(filter.projects)}::text[]))`);
  if (filter.kind !== undefined) where.push(`a.kind = $${params.push(filter.kind)}`);
  if (filter.afterId !== undefined) where.push(`a.asset_id > $${params.push(filter.afterId)}`);
  const rows = rowsOf(
    await m.query(`${ASSET_SELECT} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY a.asset_id LIMIT ${limit}`, params),
  );
  return rows.map(assetOf);
}

/**
 * Up to `limit` of the asset's versions, newest first, before `beforeVersion` (from the newest when not given); usage
 * counted in `projects` only, when given.
 */
export async function listVersions(
  m: EntityManager,
  assetId: string,
  limit: number,
  beforeVersion?: number,
  projects?: readonly string[],
): Promise<VersionRecord[]> {
  const select = projects === undefined ? VERSION_SELECT : versionSelect(3);
  const params: unknown[] = [assetId, beforeVersion ?? MAX_VERSION, ...(projects === undefined ? [] : [projects])];
  const rows = rowsOf(await m.query(`${select} WHERE v.asset_id = $1 AND v.version < $2 ORDER BY v.version DESC LIMIT ${limit}`, params));
  return rows.map(versionOf);
}

/** One version by number, or undefined; usage counted in `projects` only, when given. */
export async function findVersion(m: EntityManager, assetId: string, version: number, projects?: readonly string[]): Promise<VersionRecord | undefined> {
  const select = projects === undefined ? VERSION_SELECT : versionSelect(3);
  const params: unknown[] = [assetId, version, ...(projects === undefined ? [] : [projects])];
  const [row] = rowsOf(await m.query(`${select} WHERE v.asset_id = $1 AND v.version = $2`, params));
  return row ? versionOf(row) : undefined;
}

/** The project of each of these assets that is registered (null: shared by every project), by asset id. */
export async function assetProjects(m: EntityManager, assetIds: readonly string[]): Promise<Map<string, string | null>> {
  if (assetIds.length === 0) return new Map();
  const rows = rowsOf(await m.query(`SELECT asset_id, project_id FROM staleness.assets WHERE asset_id = ANY($1::text[])`, [assetIds]));
  return new Map(rows.map((r) => [r.asset_id as string, (r.project_id as string | null) ?? null]));
}

/** The version with this content hash (asset_versions_hash_idx), or undefined. */
export async function findVersionByHash(m: EntityManager, assetId: string, contentHash: string): Promise<VersionRecord | undefined> {
  const [row] = rowsOf(await m.query(`${VERSION_SELECT} WHERE v.asset_id = $1 AND v.content_hash = $2`, [assetId, contentHash]));
  return row ? versionOf(row) : undefined;
}

/** The asset's highest version number; undefined when it has none. */
export async function latestVersionNumber(m: EntityManager, assetId: string): Promise<number | undefined> {
  const [latest] = rowsOf(await m.query(`SELECT max(version) AS v FROM staleness.asset_versions WHERE asset_id = $1`, [assetId]));
  return (latest?.v as number | null) ?? undefined;
}

/** A version row to append. */
export interface NewVersionRow {
  assetId: string;
  version: number;
  contentHash: string;
  uploadedBy: string;
  note: string;
  previousVersion: number | null;
  isCurrent: boolean;
}

/** Appends a version row. */
export async function insertVersion(m: EntityManager, v: NewVersionRow): Promise<void> {
  await m.query(
    `INSERT INTO staleness.asset_versions (asset_id, version, content_hash, uploaded_by, note, previous_version, is_current)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [v.assetId, v.version, v.contentHash, v.uploadedBy, v.note, v.previousVersion, v.isCurrent],
  );
}

/** Clears the current flag of the asset's current version, if it has one (before another is flagged: one current per asset). */
export async function clearCurrentVersion(m: EntityManager, assetId: string): Promise<void> {
  await m.query(`UPDATE staleness.asset_versions SET is_current = false WHERE asset_id = $1 AND is_current`, [assetId]);
}

/** Flags one version current. */
export async function flagCurrentVersion(m: EntityManager, assetId: string, version: number): Promise<void> {
  await m.query(`UPDATE staleness.asset_versions SET is_current = true WHERE asset_id = $1 AND version = $2`, [assetId, version]);
}
