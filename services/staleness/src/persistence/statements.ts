/**
 * The staleness rule, as it runs: the statements of GetStalenessReport, ListStaleSegments and detection's per-project
 * step. They are THE rule; nothing else in src/ restates it.
 *
 * **The rule.** An active input (an input of a segment's current receipt, the segment not superseded) is stale when
 * its asset is registered, has a current version, and that version's content hash differs from the input's. Each
 * stale input is one reason; a segment with at least one is stale. An input whose asset is not registered is
 * untracked: counted, never stale. Detection compares with the change's own current version (the detection task's),
 * not with whatever is current when the task runs, so each change is reported by its own task, in commit order; an
 * input that now has the change's current hash, when the change moved away from another hash, was made fresh by it.
 *
 * **Why SQL is the rule and TypeScript the oracle.** The statements read only what is stale, one index range per
 * stale (project, asset, hash) instead of one row per input, and the database compares ids in its own collation;
 * a TypeScript copy of the comparison would either run on rows the SQL already chose (deciding nothing) or need every
 * input read out of the database. So the rule is written once, here, and `test/staleness-oracle.ts` restates it in
 * plain TypeScript over plain rows, only for the equivalence tests to compare these statements with.
 *
 * Exported for the service's repositories and, as `@provenance/staleness/statements`, for the bench's floor (the same
 * SQL run bare on PostgreSQL).
 */

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

/**
 * `stale`: the rule applied to the triples of `used`: those whose asset is registered (it has a current version) and
 * whose hash is not its current version's, with both versions (0: the hash is not a version of the asset).
 */
const STALE_TRIPLES_CTE = `stale AS (
    SELECT u.project_id, u.asset_id, u.content_hash, COALESCE(rv.version, 0) AS receipt_version, cv.version AS current_version
      FROM used u
      JOIN staleness.asset_versions cv ON cv.asset_id = u.asset_id AND cv.is_current AND cv.content_hash <> u.content_hash
      LEFT JOIN staleness.asset_versions rv ON rv.asset_id = u.asset_id AND rv.content_hash = u.content_hash
  )`;

/** The isolation level the report statement runs at: its sub-selects (totals, groups) read one snapshot. */
export const REPORT_ISOLATION = "REPEATABLE READ";

/**
 * The settings the report statement runs with, in its own transaction (SET LOCAL). Groups of several ranges are
 * merged in memory rather than in batches spilled to disk; JIT compilation (~40 ms) never pays for itself on a
 * statement that is a series of index ranges.
 */
export const REPORT_SETTINGS_SQL = `SET LOCAL work_mem = '64MB'; SET LOCAL jit = off`;

/**
 * GetStalenessReport as one statement, reading only what is stale (`$1`: the project, when `scoped`). The (asset, hash)
 * pairs a project used come from a loose index scan; each pair that is not its asset's current version is one
 * index-only range of segment_inputs_active_project_asset_idx, already in segment_id order, so its group's id list is
 * built without a sort (only a group of several unregistered hashes of one asset, receipt version 0, merges its ranges
 * with one). A segment that used one (asset, hash) twice, a LoRA stacked twice, is listed twice in a range;
 * `reportGroups` (domain/staleness-groups.ts) drops the repeat, which is adjacent.
 * Untracked inputs are counted per pair of an unregistered asset, active segments index-only from
 * segments_active_project_idx. It returns those two counts and the groups, each with every stale segment id and its
 * distinct scenes; the stale totals are counted from the groups. Without a project, the same runs over every
 * project's triples. Run it at {@link REPORT_ISOLATION} after {@link REPORT_SETTINGS_SQL}.
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

/** Which stale segments ListStaleSegments pages through: a project's, an asset's, both, or every project's; after a segment id. */
export interface StaleSegmentsFilter {
  projectId?: string;
  assetId?: string;
  /** Keyset: only segment ids after this one. */
  after?: string;
  /**
   * Without `projectId`: only segments of these projects (the caller's viewable ones; undefined = every project).
   * Applied inside the page's scan, so a page holds `limit` of them and the cursor stays right.
   */
  projects?: readonly string[];
}

/**
 * ListStaleSegments as one statement and its parameters: stale active segments, keyset-paged on segment_id, each
 * with every differing input (the rule applied per input). First the page of ids, then their reasons by the
 * segment_inputs primary key. The page comes
 * - for a project (and maybe an asset): from its stale (asset, hash) ranges, as in the report, at most one page of
 *   distinct ids from each, already in order;
 * - for an asset alone: from the ranges of its non-current hashes (segment_inputs_asset_hash_idx) in each project
 *   that uses it (segment_inputs_active_asset_project_idx);
 * - for neither: by walking segment_inputs in segment_id order and checking each input against its asset's current
 *   version, which stops as soon as a page is found (slow only where almost nothing is stale).
 * Without a project, `filter.projects` keeps only those projects: in the projects using the asset, or in the walk.
 */
export function staleSegmentsSql(filter: StaleSegmentsFilter, limit: number): [string, unknown[]] {
  const params: unknown[] = [];
  const project = filter.projectId !== undefined ? `$${params.push(filter.projectId)}` : undefined;
  const asset = filter.assetId !== undefined ? `$${params.push(filter.assetId)}` : undefined;
  const after = filter.after !== undefined ? `AND i.segment_id > $${params.push(filter.after)}` : "";
  const viewable =
    project === undefined && filter.projects !== undefined ? `$${params.push(filter.projects)}::text[]` : undefined;
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
     WHERE cv.asset_id = ${asset} AND cv.is_current${viewable ? ` AND p.project_id = ANY(${viewable})` : ""}
  ),
  ${fromRanges}`;
  } else {
    pageCte = `WITH page AS (
    SELECT DISTINCT i.segment_id
      FROM staleness.segment_inputs i
      JOIN staleness.asset_versions cv ON cv.asset_id = i.asset_id AND cv.is_current AND cv.content_hash <> i.content_hash
     WHERE i.active ${after}${viewable ? ` AND i.project_id = ANY(${viewable})` : ""}
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

/**
 * Detection's per-project step: one project's active inputs of the changed asset, index-only from
 * segment_inputs_active_project_asset_idx, each with the rule's verdict against the change. `$1` project id, `$2`
 * asset id, `$3` the change's current content hash, `$4` its previous one ('' when the asset had no current version).
 * Columns: `scene_id`, `segment_id`, `receipt_version` (the version with the input's hash, 0 when none), `stale` (the
 * input's hash is not the change's current one) and `fresh` (the change moved to the input's hash from another).
 */
export const PROJECT_DETECTION_SQL = `
  SELECT i.scene_id, i.segment_id, COALESCE(v.version, 0) AS receipt_version,
         i.content_hash <> $3::text AS stale,
         ($4::text <> $3::text AND i.content_hash = $3::text) AS fresh
    FROM staleness.segment_inputs i
    LEFT JOIN staleness.asset_versions v ON v.asset_id = i.asset_id AND v.content_hash = i.content_hash
   WHERE i.project_id = $1 AND i.asset_id = $2 AND i.active`;
