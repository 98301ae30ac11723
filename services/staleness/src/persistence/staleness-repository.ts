/** Staleness, computed at query time from the projection and the assets' current versions. Never stored. */
import type { DataSource } from "typeorm";
import type { AssetKindName, InputRoleName } from "../domain/asset-kinds.js";
import type { StalenessGroupRow } from "../domain/staleness-groups.js";
import { rowsOf } from "@provenance/shared";

/** The report's numbers and groups, as one query returns them. */
export interface StalenessReportRecord {
  totalActiveSegments: number;
  totalStaleSegments: number;
  totalStaleScenes: number;
  untrackedInputs: number;
  groups: StalenessGroupRow[];
}

/** One differing input of a stale segment. */
export interface StaleReasonRecord {
  role: InputRoleName;
  position: number;
  kind: AssetKindName;
  assetId: string;
  assetName: string;
  receiptVersion: number;
  currentVersion: number;
  receiptContentHash: string;
  currentContentHash: string;
}

/** A stale active segment with every reason. */
export interface StaleSegmentRecord {
  segmentId: string;
  sceneId: string;
  projectId: string;
  characterName: string;
  sequenceIndex: number;
  receiptId: string;
  reasons: StaleReasonRecord[];
}

/** `AND <column> = $1` when the query is for one project, so the planner sees a plain equality it can use an index for. */
function projectFilter(column: string, scoped: boolean): string {
  return scoped ? `AND ${column} = $1` : "";
}

/**
 * The report as one set-based statement. Stale inputs are found from the few current versions outwards: per current
 * version, one range of segment_inputs_active_asset_idx (asset, project) with another hash, index-only. Untracked
 * inputs come from segment_inputs_active_project_idx, active segments from segments_active_project_idx. Names, kinds
 * and receipt versions are joined per group, after aggregation.
 */
export function reportSql(scoped: boolean): string {
  return `
  WITH stale AS MATERIALIZED (
    SELECT i.project_id, i.scene_id, i.segment_id, i.asset_id, COALESCE(rv.version, 0) AS receipt_version, cv.version AS current_version
      FROM staleness.asset_versions cv
      JOIN staleness.segment_inputs i ON i.asset_id = cv.asset_id AND i.active AND i.content_hash <> cv.content_hash
      LEFT JOIN staleness.asset_versions rv ON rv.asset_id = i.asset_id AND rv.content_hash = i.content_hash
     WHERE cv.is_current ${projectFilter("i.project_id", scoped)}
  ), grouped AS (
    SELECT g.project_id AS "projectId", g.asset_id AS "assetId", a.name AS "assetName", a.kind,
           g.receipt_version AS "receiptVersion", g.current_version AS "currentVersion",
           g.segment_ids AS "segmentIds", g.affected_scenes AS "affectedScenes"
      FROM (SELECT project_id, asset_id, receipt_version, current_version,
                   array_agg(DISTINCT segment_id ORDER BY segment_id) AS segment_ids,
                   count(DISTINCT scene_id)::int AS affected_scenes
              FROM stale GROUP BY project_id, asset_id, receipt_version, current_version) g
      JOIN staleness.assets a ON a.asset_id = g.asset_id
  )
  SELECT (SELECT count(*) FROM staleness.segments s
           WHERE s.superseded_by_segment_id IS NULL AND s.current_receipt_id IS NOT NULL ${projectFilter("s.project_id", scoped)})::int
           AS total_active_segments,
         (SELECT count(*) FROM staleness.segment_inputs i
           WHERE i.active ${projectFilter("i.project_id", scoped)}
             AND NOT EXISTS (SELECT 1 FROM staleness.assets a WHERE a.asset_id = i.asset_id))::int AS untracked_inputs,
         (SELECT count(*) FROM (SELECT DISTINCT segment_id FROM stale) ss)::int AS total_stale_segments,
         (SELECT count(*) FROM (SELECT DISTINCT project_id, scene_id FROM stale) sc)::int AS total_stale_scenes,
         COALESCE((SELECT json_agg(g ORDER BY g."projectId", cardinality(g."segmentIds") DESC, g."assetId", g."receiptVersion")
                     FROM grouped g), '[]'::json) AS groups`;
}

/**
 * Stale active segments, keyset-paged on segment_id, each with every differing input: first the page of ids (from
 * the current versions outwards, as in the report; with an asset, only that asset's range), then their reasons by
 * the segment_inputs primary key.
 */
function staleSegmentsSql(filter: { projectId?: string; assetId?: string; after?: string }, limit: number): [string, unknown[]] {
  const params: unknown[] = [];
  const where = [
    filter.projectId !== undefined ? `AND i.project_id = $${params.push(filter.projectId)}` : "",
    filter.assetId !== undefined ? `AND cv.asset_id = $${params.push(filter.assetId)}` : "",
    filter.after !== undefined ? `AND i.segment_id > $${params.push(filter.after)}` : "",
  ].join(" ");
  const sql = `
  WITH page AS (
    SELECT DISTINCT i.segment_id
      FROM staleness.asset_versions cv
      JOIN staleness.segment_inputs i ON i.asset_id = cv.asset_id AND i.active AND i.content_hash <> cv.content_hash
     WHERE cv.is_current ${where}
     ORDER BY i.segment_id
     LIMIT ${limit}
  )
  SELECT s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.current_receipt_id,
         json_agg(json_build_object(
           'role', i.role, 'position', i.position, 'kind', a.kind, 'assetId', a.asset_id, 'assetName', a.name,
           'receiptVersion', COALESCE(rv.version, 0), 'currentVersion', cv.version,
           'receiptContentHash', i.content_hash, 'currentContentHash', cv.content_hash)
           ORDER BY i.role, i.position) AS reasons
    FROM page
    JOIN staleness.segments s ON s.segment_id = page.segment_id
    JOIN staleness.segment_inputs i ON i.segment_id = page.segment_id
    JOIN staleness.asset_versions cv ON cv.asset_id = i.asset_id AND cv.is_current AND cv.content_hash <> i.content_hash
    JOIN staleness.assets a ON a.asset_id = i.asset_id
    LEFT JOIN staleness.asset_versions rv ON rv.asset_id = i.asset_id AND rv.content_hash = i.content_hash
   GROUP BY s.segment_id
   ORDER BY s.segment_id`;
  return [sql, params];
}

/** Reads staleness. */
export class StalenessRepository {
  constructor(private readonly ds: DataSource) {}

  /** The report for one project, or every project when `projectId` is undefined. */
  async report(projectId: string | undefined): Promise<StalenessReportRecord> {
    const [row] = await this.ds.transaction("REPEATABLE READ", async (m) => {
      // A project's inputs are hashed in memory rather than in batches spilled to disk.
      await m.query(`SET LOCAL work_mem = '64MB'`);
      return rowsOf(await m.query(reportSql(projectId !== undefined), projectId === undefined ? [] : [projectId]));
    });
    return {
      totalActiveSegments: row!.total_active_segments as number,
      untrackedInputs: row!.untracked_inputs as number,
      totalStaleSegments: row!.total_stale_segments as number,
      totalStaleScenes: row!.total_stale_scenes as number,
      groups: row!.groups as StalenessGroupRow[],
    };
  }

  /** Stale segments of a project and/or made stale by an asset, after `afterSegmentId`. */
  async staleSegments(
    filter: { projectId?: string; assetId?: string },
    limit: number,
    afterSegmentId?: string,
  ): Promise<StaleSegmentRecord[]> {
    const rows = rowsOf(
      await this.ds.query(...staleSegmentsSql({ ...filter, after: afterSegmentId }, limit)),
    );
    return rows.map((r) => ({
      segmentId: r.segment_id as string,
      sceneId: r.scene_id as string,
      projectId: r.project_id as string,
      characterName: r.character_name as string,
      sequenceIndex: r.sequence_index as number,
      receiptId: r.current_receipt_id as string,
      reasons: (r.reasons as StaleReasonRecord[]).map((x) => ({ ...x, receiptContentHash: x.receiptContentHash.trim() })),
    }));
  }
}
