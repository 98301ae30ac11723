/** Staleness, computed at query time from the projection and the assets' current versions. Never stored. */
import type { DataSource } from "typeorm";
import type { AssetKindName, InputRoleName } from "../domain/asset-kinds.js";
import type { StalenessGroupRow } from "../domain/staleness-groups.js";
import { rowsOf } from "./sql-rows.js";

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

/**
 * The report as one set-based statement. `scope`: active segments with a current receipt (segments_active_project_idx
 * for one project); their inputs by the segment_inputs primary key; each input's asset and current version
 * (asset_versions_one_current_idx); the receipt's version by hash (asset_versions_hash_idx). Stale inputs are those
 * whose hash differs from the current version's; inputs of unregistered assets are counted, never stale.
 */
const REPORT_SQL = `
  WITH scope AS (
    SELECT s.segment_id, s.project_id, s.scene_id
      FROM staleness.segments s
     WHERE s.superseded_by_segment_id IS NULL AND s.current_receipt_id IS NOT NULL
       AND ($1::text IS NULL OR s.project_id = $1)
  ), inputs AS (
    SELECT sc.segment_id, sc.project_id, sc.scene_id, i.asset_id, i.content_hash,
           a.asset_id IS NULL AS untracked, a.name, a.kind, cv.version AS current_version, cv.content_hash AS current_hash
      FROM scope sc
      JOIN staleness.segment_inputs i ON i.segment_id = sc.segment_id
      LEFT JOIN staleness.assets a ON a.asset_id = i.asset_id
      LEFT JOIN staleness.asset_versions cv ON cv.asset_id = i.asset_id AND cv.is_current
  ), stale AS (
    SELECT * FROM inputs WHERE current_hash IS NOT NULL AND content_hash <> current_hash
  ), grouped AS (
    SELECT st.project_id AS "projectId", st.asset_id AS "assetId", st.name AS "assetName", st.kind,
           COALESCE(rv.version, 0) AS "receiptVersion", st.current_version AS "currentVersion",
           array_agg(DISTINCT st.segment_id ORDER BY st.segment_id) AS "segmentIds",
           count(DISTINCT st.scene_id)::int AS "affectedScenes"
      FROM stale st
      LEFT JOIN staleness.asset_versions rv ON rv.asset_id = st.asset_id AND rv.content_hash = st.content_hash
     GROUP BY st.project_id, st.asset_id, st.name, st.kind, COALESCE(rv.version, 0), st.current_version
  )
  SELECT (SELECT count(*) FROM scope)::int AS total_active_segments,
         (SELECT count(*) FROM inputs WHERE untracked)::int AS untracked_inputs,
         (SELECT count(DISTINCT segment_id) FROM stale)::int AS total_stale_segments,
         (SELECT count(DISTINCT (project_id, scene_id)) FROM stale)::int AS total_stale_scenes,
         COALESCE((SELECT json_agg(g ORDER BY g."projectId", cardinality(g."segmentIds") DESC, g."assetId", g."receiptVersion")
                     FROM grouped g), '[]'::json) AS groups`;

/**
 * Stale active segments, keyset-paged on segment_id, each with every differing input. With an asset, only segments
 * that asset makes stale (found from segment_inputs_asset_hash_idx), still listing all their reasons.
 */
const STALE_SEGMENTS_SQL = `
  SELECT s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.current_receipt_id,
         json_agg(json_build_object(
           'role', i.role, 'position', i.position, 'kind', a.kind, 'assetId', a.asset_id, 'assetName', a.name,
           'receiptVersion', COALESCE(rv.version, 0), 'currentVersion', cv.version,
           'receiptContentHash', i.content_hash, 'currentContentHash', cv.content_hash)
           ORDER BY i.role, i.position) AS reasons
    FROM staleness.segments s
    JOIN staleness.segment_inputs i ON i.segment_id = s.segment_id
    JOIN staleness.asset_versions cv ON cv.asset_id = i.asset_id AND cv.is_current AND cv.content_hash <> i.content_hash
    JOIN staleness.assets a ON a.asset_id = i.asset_id
    LEFT JOIN staleness.asset_versions rv ON rv.asset_id = i.asset_id AND rv.content_hash = i.content_hash
   WHERE s.superseded_by_segment_id IS NULL AND s.current_receipt_id IS NOT NULL
     AND ($1::text IS NULL OR s.project_id = $1)
     AND ($3::text IS NULL OR s.segment_id > $3)
     AND ($2::text IS NULL OR s.segment_id IN (
           SELECT x.segment_id FROM staleness.segment_inputs x
             JOIN staleness.asset_versions xv ON xv.asset_id = x.asset_id AND xv.is_current
            WHERE x.asset_id = $2 AND x.content_hash <> xv.content_hash))
   GROUP BY s.segment_id
   ORDER BY s.segment_id
   LIMIT $4`;

/** Reads staleness. */
export class StalenessRepository {
  constructor(private readonly ds: DataSource) {}

  /** The report for one project, or every project when `projectId` is undefined. */
  async report(projectId: string | undefined): Promise<StalenessReportRecord> {
    const [row] = rowsOf(await this.ds.query(REPORT_SQL, [projectId ?? null]));
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
      await this.ds.query(STALE_SEGMENTS_SQL, [filter.projectId ?? null, filter.assetId ?? null, afterSegmentId ?? null, limit]),
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
