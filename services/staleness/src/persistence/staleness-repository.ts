/** Staleness, computed at query time from the projection and the assets' current versions. Never stored. */
import type { DataSource } from "typeorm";
import type { AssetKindName, InputRoleName } from "../domain/asset-kinds.js";
import { reportGroups, type StaleGroupWithScenes, type StalenessGroupRow } from "../domain/staleness-groups.js";
import { rowsOf } from "@provenance/shared";

/** The report's numbers and groups. */
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
 * `used`: the distinct (project, asset, hash) triples of active inputs, by a loose index scan of
 * segment_inputs_active_project_asset_idx: one index probe per triple, never a pass over the inputs. `project`, and
 * with it `asset`, are the parameters (`$n`) fixing the leading columns, when given.
 */
function usedTriplesCte(project?: string, asset?: string): string {
  const fixed = project === undefined ? [] : asset === undefined ? [`project_id = ${project}`] : [`project_id = ${project}`, `asset_id = ${asset}`];
  const free = ["project_id", "asset_id", "content_hash"].slice(fixed.length);
  const where = (prefix: string) => [...fixed.map((f) => `${prefix}${f}`), `${prefix}active`].join(" AND ");
  const cols = (prefix: string) => free.map((c) => `${prefix}${c}`).join(", ");
  return `used AS (
    (SELECT project_id, asset_id, content_hash FROM staleness.segment_inputs
      WHERE ${where("")} ORDER BY ${cols("")} LIMIT 1)
    UNION ALL
    SELECT n.project_id, n.asset_id, n.content_hash FROM used u CROSS JOIN LATERAL (
      SELECT i.project_id, i.asset_id, i.content_hash FROM staleness.segment_inputs i
       WHERE ${where("i.")} AND (${cols("i.")}) > (${cols("u.")}) ORDER BY ${cols("i.")} LIMIT 1) n
  )`;
}

/** `stale`: the triples of `used` whose asset is registered and whose hash is not its current version's, with both versions (0: not a version). */
const STALE_TRIPLES_CTE = `stale AS (
    SELECT u.project_id, u.asset_id, u.content_hash, COALESCE(rv.version, 0) AS receipt_version, cv.version AS current_version
      FROM used u
      JOIN staleness.asset_versions cv ON cv.asset_id = u.asset_id AND cv.is_current AND cv.content_hash <> u.content_hash
      LEFT JOIN staleness.asset_versions rv ON rv.asset_id = u.asset_id AND rv.content_hash = u.content_hash
  )`;

/**
 * The report as one statement, reading only what is stale. The (asset, hash) pairs a project used come from a loose
 * index scan; each pair that is not its asset's current version is one index-only range of
 * segment_inputs_active_project_asset_idx, already in segment_id order, so its group's id list is built without a
 * sort (only a group of several unregistered hashes of one asset, receipt version 0, merges its ranges with one). A
 * segment that used one (asset, hash) twice, a LoRA stacked twice, is listed twice in a range; {@link reportGroups}
 * drops the repeat, which is adjacent.
 * Untracked inputs are counted per pair of an unregistered asset, active segments index-only from
 * segments_active_project_idx. It returns those two counts and the groups, each with every stale segment id and its
 * distinct scenes; the stale totals are counted from the groups ({@link reportGroups}). Without a project, the same
 * runs over every project's triples.
 */
export function reportSql(scoped: boolean): string {
  return `
  WITH RECURSIVE ${usedTriplesCte(scoped ? "$1" : undefined)},
  ${STALE_TRIPLES_CTE},
  ranges AS MATERIALIZED (
    SELECT s.project_id, s.asset_id, s.receipt_version, s.current_version, r.segment_ids, r.scene_ids
      FROM stale s CROSS JOIN LATERAL (
        SELECT array_agg(d.segment_id) AS segment_ids, array_agg(DISTINCT d.scene_id) AS scene_ids
          FROM (SELECT i.segment_id, i.scene_id FROM staleness.segment_inputs i
                 WHERE i.project_id = s.project_id AND i.asset_id = s.asset_id AND i.content_hash = s.content_hash AND i.active
                 ORDER BY i.segment_id) d) r
  ), grouped AS (
    SELECT g.project_id, g.asset_id, g.receipt_version, g.current_version,
           CASE WHEN g.ranges = 1 THEN g.segment_ids
                ELSE (SELECT array_agg(DISTINCT x ORDER BY x) FROM ranges r, unnest(r.segment_ids) x
                       WHERE r.project_id = g.project_id AND r.asset_id = g.asset_id AND r.receipt_version = g.receipt_version) END
             AS segment_ids,
           CASE WHEN g.ranges = 1 THEN g.scene_ids
                ELSE (SELECT array_agg(DISTINCT x) FROM ranges r, unnest(r.scene_ids) x
                       WHERE r.project_id = g.project_id AND r.asset_id = g.asset_id AND r.receipt_version = g.receipt_version) END
             AS scene_ids
      FROM (SELECT project_id, asset_id, receipt_version, current_version, count(*) AS ranges,
                   min(segment_ids) AS segment_ids, min(scene_ids) AS scene_ids
              FROM ranges GROUP BY project_id, asset_id, receipt_version, current_version) g
  )
  SELECT (SELECT count(*) FROM staleness.segments s
           WHERE s.superseded_by_segment_id IS NULL AND s.current_receipt_id IS NOT NULL ${projectFilter("s.project_id", scoped)})::int
           AS total_active_segments,
         (SELECT COALESCE(sum(c.n), 0) FROM used u CROSS JOIN LATERAL (
             SELECT count(*) AS n FROM staleness.segment_inputs i
              WHERE i.project_id = u.project_id AND i.asset_id = u.asset_id AND i.content_hash = u.content_hash AND i.active) c
           WHERE NOT EXISTS (SELECT 1 FROM staleness.assets a WHERE a.asset_id = u.asset_id))::int AS untracked_inputs,
         COALESCE((SELECT json_agg(json_build_object(
                     'projectId', g.project_id, 'assetId', g.asset_id, 'assetName', a.name, 'kind', a.kind,
                     'receiptVersion', g.receipt_version, 'currentVersion', g.current_version,
                     'segmentIds', g.segment_ids, 'sceneIds', g.scene_ids)
                     ORDER BY g.project_id, g.asset_id, g.receipt_version)
                     FROM grouped g JOIN staleness.assets a ON a.asset_id = g.asset_id), '[]'::json) AS groups`;
}

/**
 * Stale active segments, keyset-paged on segment_id, each with every differing input: first the page of ids, then
 * their reasons by the segment_inputs primary key. The page comes
 * - for a project (and maybe an asset): from its stale (asset, hash) ranges, as in the report, at most one page of
 *   distinct ids from each, already in order;
 * - for an asset alone: from the ranges of its non-current hashes (segment_inputs_asset_hash_idx) in each project
 *   that uses it (segment_inputs_active_asset_project_idx);
 * - for neither: by walking segment_inputs in segment_id order and checking each input against its asset's current
 *   version, which stops as soon as a page is found (slow only where almost nothing is stale).
 */
function staleSegmentsSql(filter: { projectId?: string; assetId?: string; after?: string }, limit: number): [string, unknown[]] {
  const params: unknown[] = [];
  const project = filter.projectId !== undefined ? `$${params.push(filter.projectId)}` : undefined;
  const asset = filter.assetId !== undefined ? `$${params.push(filter.assetId)}` : undefined;
  const after = filter.after !== undefined ? `AND i.segment_id > $${params.push(filter.after)}` : "";
  const fromRanges = `page AS (
    SELECT DISTINCT c.segment_id FROM stale s CROSS JOIN LATERAL (
      SELECT DISTINCT i.segment_id FROM staleness.segment_inputs i
       WHERE i.project_id = s.project_id AND i.asset_id = s.asset_id AND i.content_hash = s.content_hash AND i.active ${after}
       ORDER BY i.segment_id LIMIT ${limit}) c
     ORDER BY c.segment_id
     LIMIT ${limit}
  )`;
  let pageCte: string;
  if (project !== undefined) {
    pageCte = `WITH RECURSIVE ${usedTriplesCte(project, asset)},
  ${STALE_TRIPLES_CTE},
  ${fromRanges}`;
  } else if (asset !== undefined) {
    pageCte = `WITH RECURSIVE hashes AS (
    (SELECT content_hash FROM staleness.segment_inputs WHERE asset_id = ${asset} ORDER BY content_hash LIMIT 1)
    UNION ALL
    SELECT n.content_hash FROM hashes h CROSS JOIN LATERAL (
      SELECT i.content_hash FROM staleness.segment_inputs i
       WHERE i.asset_id = ${asset} AND i.content_hash > h.content_hash ORDER BY i.content_hash LIMIT 1) n
  ), projects AS (
    (SELECT project_id FROM staleness.segment_inputs WHERE asset_id = ${asset} AND active ORDER BY project_id LIMIT 1)
    UNION ALL
    SELECT n.project_id FROM projects p CROSS JOIN LATERAL (
      SELECT i.project_id FROM staleness.segment_inputs i
       WHERE i.asset_id = ${asset} AND i.active AND i.project_id > p.project_id ORDER BY i.project_id LIMIT 1) n
  ), stale AS (
    SELECT p.project_id, cv.asset_id, h.content_hash
      FROM staleness.asset_versions cv
      JOIN hashes h ON h.content_hash <> cv.content_hash
      CROSS JOIN projects p
     WHERE cv.asset_id = ${asset} AND cv.is_current
  ),
  ${fromRanges}`;
  } else {
    pageCte = `WITH page AS (
    SELECT DISTINCT i.segment_id
      FROM staleness.segment_inputs i
      JOIN staleness.asset_versions cv ON cv.asset_id = i.asset_id AND cv.is_current AND cv.content_hash <> i.content_hash
     WHERE i.active ${after}
     ORDER BY i.segment_id
     LIMIT ${limit}
  )`;
  }
  const sql = `
  ${pageCte}
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
      // Groups of several ranges are merged in memory rather than in batches spilled to disk. JIT compilation (~40 ms)
      // never pays for itself on a statement that is a series of index ranges.
      await m.query(`SET LOCAL work_mem = '64MB'; SET LOCAL jit = off`);
      return rowsOf(await m.query(reportSql(projectId !== undefined), projectId === undefined ? [] : [projectId]));
    });
    // Every stale segment is in at least one group, with every id: the totals are counted from them.
    return {
      totalActiveSegments: row!.total_active_segments as number,
      untrackedInputs: row!.untracked_inputs as number,
      ...reportGroups(row!.groups as StaleGroupWithScenes[]),
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
