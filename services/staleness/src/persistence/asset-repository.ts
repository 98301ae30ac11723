/** Every read and write of assets and versions; a current-version change also queues its staleness detection. */
import type { DataSource, EntityManager } from "typeorm";
import {
  AssetCurrentChangedSchema,
  AssetVersionPublishedSchema,
  alreadyExists,
  currentRequestId,
  enqueueEvent,
  notFound,
} from "@provenance/shared";
import { assetKindOf, type AssetKindName } from "../domain/asset-kinds.js";
import type { AssetRecord, VersionRecord } from "../domain/asset-records.js";
import { rowsOf, type Row } from "@provenance/shared";

/** The schema this service owns. */
export const STALENESS_SCHEMA = "staleness";

/** RegisterAsset's outcome. */
export interface RegisterResult {
  asset: AssetRecord;
  created: boolean;
}

/** PublishVersion's outcome. */
export interface PublishResult {
  version: VersionRecord;
  asset: AssetRecord;
  created: boolean;
}

/** SetCurrentVersion's outcome. */
export interface SetCurrentResult {
  asset: AssetRecord;
  previousVersion: number;
}

const ASSET_SELECT = `
  SELECT a.asset_id, a.kind, a.name, a.project_id, a.created_at,
         COALESCE(cv.version, 0) AS current_version, COALESCE(cv.content_hash, '') AS current_content_hash,
         (SELECT count(*) FROM staleness.asset_versions n WHERE n.asset_id = a.asset_id)::int AS version_count
    FROM staleness.assets a
    LEFT JOIN staleness.asset_versions cv ON cv.asset_id = a.asset_id AND cv.is_current`;

// usage_count: one range scan of segment_inputs_asset_hash_idx per version.
const VERSION_SELECT = `
  SELECT v.asset_id, v.version, v.content_hash, v.uploaded_by, v.note, v.created_at, v.is_current,
         COALESCE(v.previous_version, 0) AS previous_version,
         (SELECT count(DISTINCT i.segment_id) FROM staleness.segment_inputs i
           WHERE i.asset_id = v.asset_id AND i.content_hash = v.content_hash)::int AS usage_count
    FROM staleness.asset_versions v`;

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

/** Reads and writes assets and their versions; emits asset events through the outbox and queues detection. */
export class AssetRepository {
  constructor(
    private readonly ds: DataSource,
    /** Called after a change of an asset's current version has committed (wakes the detector). */
    private readonly onCurrentChanged?: () => void,
  ) {}

  private async asset(m: EntityManager, assetId: string): Promise<AssetRecord | undefined> {
    const [row] = rowsOf(await m.query(`${ASSET_SELECT} WHERE a.asset_id = $1`, [assetId]));
    return row ? assetOf(row) : undefined;
  }

  private async versionRow(m: EntityManager, assetId: string, where: string, value: unknown): Promise<VersionRecord | undefined> {
    const [row] = rowsOf(await m.query(`${VERSION_SELECT} WHERE v.asset_id = $1 AND ${where}`, [assetId, value]));
    return row ? versionOf(row) : undefined;
  }

  /** Registers an asset; the same id with the same kind, name and project returns it unchanged, a different one is ALREADY_EXISTS. */
  async register(assetId: string, kind: AssetKindName, name: string, projectId: string | null): Promise<RegisterResult> {
    return this.ds.transaction(async (m) => {
      const inserted = rowsOf(
        await m.query(
          `INSERT INTO staleness.assets (asset_id, kind, name, project_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (asset_id) DO NOTHING RETURNING asset_id`,
          [assetId, kind, name, projectId],
        ),
      );
      const asset = (await this.asset(m, assetId))!;
      if (inserted.length === 0 && (asset.kind !== kind || asset.name !== name || asset.projectId !== projectId)) {
        throw alreadyExists(
          `asset "${assetId}" is already registered as ${asset.kind} "${asset.name}"` +
            `${asset.projectId === null ? " (global)" : ` in project "${asset.projectId}"`}; register it with the same kind, name and project, or use another id`,
        );
      }
      return { asset, created: inserted.length > 0 };
    });
  }

  /** One asset, or undefined. */
  async get(assetId: string): Promise<AssetRecord | undefined> {
    return this.asset(this.ds.manager, assetId);
  }

  /** Assets in id order after `afterId`, optionally of one project (global ones excluded) and one kind. */
  async list(projectId: string | undefined, kind: AssetKindName | undefined, limit: number, afterId?: string): Promise<AssetRecord[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (projectId !== undefined) where.push(`a.project_id = $${params.push(projectId)}`);
    if (kind !== undefined) where.push(`a.kind = $${params.push(kind)}`);
    if (afterId !== undefined) where.push(`a.asset_id > $${params.push(afterId)}`);
    const rows = rowsOf(
      await this.ds.query(
        `${ASSET_SELECT} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY a.asset_id LIMIT ${limit}`,
        params,
      ),
    );
    return rows.map(assetOf);
  }

  /** An asset's versions, newest first, before `beforeVersion`; undefined when the asset is unknown. */
  async versions(assetId: string, limit: number, beforeVersion?: number): Promise<VersionRecord[] | undefined> {
    if (!(await this.asset(this.ds.manager, assetId))) return undefined;
    const rows = rowsOf(
      await this.ds.query(
        `${VERSION_SELECT} WHERE v.asset_id = $1 AND v.version < $2 ORDER BY v.version DESC LIMIT ${limit}`,
        [assetId, beforeVersion ?? 2147483647],
      ),
    );
    return rows.map(versionOf);
  }

  /** One version of an asset with the asset; undefined when either is unknown. */
  async version(assetId: string, version: number): Promise<{ asset: AssetRecord; version: VersionRecord } | undefined> {
    const asset = await this.asset(this.ds.manager, assetId);
    const found = asset && (await this.versionRow(this.ds.manager, assetId, "v.version = $2", version));
    return asset && found ? { asset, version: found } : undefined;
  }

  /**
   * Appends a version (or returns the existing one with this hash, writing nothing). It becomes current when
   * `makeCurrent`, and always when the asset has no current version yet, so an asset with versions has exactly one.
   */
  async publish(
    assetId: string,
    contentHash: string,
    uploadedBy: string,
    note: string,
    makeCurrent: boolean,
    requestId?: string,
  ): Promise<PublishResult> {
    // Read first, without a lock: publishing a hash the asset already has writes nothing at all.
    const known = await this.get(assetId);
    if (!known) throw notFound("asset", assetId);
    const existing = await this.versionRow(this.ds.manager, assetId, "v.content_hash = $2", contentHash);
    if (existing) return { version: existing, asset: known, created: false };
    let changed = false;
    const result = await this.ds.transaction(async (m): Promise<PublishResult> => {
      const asset = await this.lockAsset(m, assetId);
      const raced = await this.versionRow(m, assetId, "v.content_hash = $2", contentHash);
      if (raced) return { version: raced, asset, created: false };
      const [latest] = rowsOf(await m.query(`SELECT max(version) AS v FROM staleness.asset_versions WHERE asset_id = $1`, [assetId]));
      const previous = (latest?.v as number | null) ?? null;
      const version = (previous ?? 0) + 1;
      const current = makeCurrent || asset.currentVersion === 0;
      if (current) await m.query(`UPDATE staleness.asset_versions SET is_current = false WHERE asset_id = $1 AND is_current`, [assetId]);
      await m.query(
        `INSERT INTO staleness.asset_versions (asset_id, version, content_hash, uploaded_by, note, previous_version, is_current)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [assetId, version, contentHash, uploadedBy, note, previous, current],
      );
      await this.touch(m, assetId);
      await enqueueEvent(m, {
        schema: STALENESS_SCHEMA,
        subject: "provenance.asset.version_published",
        eventSchema: AssetVersionPublishedSchema,
        event: {
          assetId,
          kind: assetKindOf(asset.kind),
          assetName: asset.name,
          projectId: asset.projectId ?? "",
          version,
          contentHash,
          uploadedBy,
          madeCurrent: current,
        },
        requestId,
      });
      const after = (await this.asset(m, assetId))!;
      const published = (await this.versionRow(m, assetId, "v.version = $2", version))!;
      if (current) await this.currentChanged(m, asset, { version, contentHash }, requestId);
      changed = current;
      return { version: published, asset: after, created: true };
    });
    if (changed) this.onCurrentChanged?.();
    return result;
  }

  /** Makes an existing version current (promote or roll back); a no-op when it already is. */
  async setCurrent(assetId: string, version: number, requestId?: string): Promise<SetCurrentResult> {
    let changed = false;
    const result = await this.ds.transaction(async (m): Promise<SetCurrentResult> => {
      // The row lock serialises concurrent calls on one asset; the partial unique index is the backstop.
      const asset = await this.lockAsset(m, assetId);
      const target = await this.versionRow(m, assetId, "v.version = $2", version);
      if (!target) throw notFound("asset version", `${assetId} v${version}`);
      if (asset.currentVersion === version) return { asset, previousVersion: version };
      await m.query(`UPDATE staleness.asset_versions SET is_current = false WHERE asset_id = $1 AND is_current`, [assetId]);
      await m.query(`UPDATE staleness.asset_versions SET is_current = true WHERE asset_id = $1 AND version = $2`, [assetId, version]);
      await this.touch(m, assetId);
      const after = (await this.asset(m, assetId))!;
      await this.currentChanged(m, asset, { version, contentHash: target.contentHash }, requestId);
      changed = true;
      return { asset: after, previousVersion: asset.currentVersion };
    });
    if (changed) this.onCurrentChanged?.();
    return result;
  }

  private async touch(m: EntityManager, assetId: string): Promise<void> {
    await m.query(`UPDATE staleness.assets SET versions_changed_at = now() WHERE asset_id = $1`, [assetId]);
  }

  private async lockAsset(m: EntityManager, assetId: string): Promise<AssetRecord> {
    const locked = rowsOf(await m.query(`SELECT asset_id FROM staleness.assets WHERE asset_id = $1 FOR UPDATE`, [assetId]));
    if (locked.length === 0) throw notFound("asset", assetId);
    return (await this.asset(m, assetId))!;
  }

  /**
   * The last statements of a current-version change's transaction: emits provenance.asset.current_changed and queues
   * the change for detection (staleness.detection_tasks), so both commit with the change or not at all. The detector
   * (events/staleness-detector.ts) turns the task into provenance.staleness.detected.<project_id> events after the
   * commit, project by project; the task's created_at, written here, is what detection latency is measured from.
   */
  private async currentChanged(
    m: EntityManager,
    before: AssetRecord,
    now: { version: number; contentHash: string },
    requestId?: string,
  ): Promise<void> {
    await enqueueEvent(m, {
      schema: STALENESS_SCHEMA,
      subject: "provenance.asset.current_changed",
      eventSchema: AssetCurrentChangedSchema,
      event: {
        assetId: before.assetId,
        kind: assetKindOf(before.kind),
        assetName: before.name,
        projectId: before.projectId ?? "",
        previousVersion: before.currentVersion,
        previousContentHash: before.currentContentHash,
        currentVersion: now.version,
        currentContentHash: now.contentHash,
      },
      requestId,
    });
    await m.query(
      `INSERT INTO staleness.detection_tasks (asset_id, previous_version, previous_content_hash, current_version, current_content_hash, request_id)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [before.assetId, before.currentVersion, before.currentContentHash, now.version, now.contentHash, requestId || currentRequestId() || ""],
    );
  }
}
