/**
 * The staleness rule, as it runs: the statements of GetStalenessReport, ListStaleSegments and detection's per-project
 * step. They are THE rule; nothing else in src/ restates it.
 *
 * **The rule.** An active input (an input of a segment's current receipt, the segment not superseded) is stale when
 * its asset is registered, has a current version, and that version's content hash differs from the input's. Each
 * stale input is one reason; a segment with at least one is stale — unless a pin waives it (below). An input whose asset is not registered is
 * untracked: counted, never stale. Detection compares with the change's own current version (the detection task's),
 * not with whatever is current when the task runs, so each change is reported by its own task, in commit order; an
 * input that now has the change's current hash, when the change moved away from another hash, was made fresh by it.
 *
 * **Pins.** A differing input is waived (not stale; the report lists it as pinned) while an open pin holds it: a pin of
 * the input's project that names its asset and its hash (the pinned version's), and its scene or its segment, whose
 * accepted version (the asset's current version when pinned) is the asset's current version, not unpinned and not
 * expired (`expires_at` after the statement's transaction began). So a pin lapses by itself when the asset moves past
 * the accepted version (and holds again should the asset return to it), when it expires, or when it is unpinned.
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

/** Most segment ids a detection row lists: MAX_EVENT_SEGMENT_IDS of domain/detected-change.ts (domain/detected-change.test.ts checks they agree). */
export const DETECTION_ID_LIMIT = 5_000;

/** `AND <column> = $1` when the query is for one project, so the planner sees a plain equality it can use an index for. */
function projectFilter(column: string, scoped: boolean): string {
  return scoped ? `AND ${column} = $1` : "";
}

/**
 * The pin part of the rule: whether an open pin waives input `i` (columns project_id, scene_id, segment_id, asset_id,
 * content_hash) while its asset's current version is `currentVersion` (an SQL expression). Pins are probed through
 * pins_open_idx, one (project, asset, hash) range, usually empty.
 */
function waivedSql(i: string, currentVersion: string): string {
  return `EXISTS (SELECT 1 FROM staleness.pins pin
     WHERE pin.project_id = ${i}.project_id AND pin.asset_id = ${i}.asset_id AND pin.content_hash = ${i}.content_hash
       AND pin.unpinned_at IS NULL AND pin.accepted_version = ${currentVersion} AND (pin.expires_at IS NULL OR pin.expires_at > now())
       AND (pin.scene_id = ${i}.scene_id
            OR (pin.scene_id IS NULL AND EXISTS (SELECT 1 FROM staleness.pin_segments ps WHERE ps.pin_id = pin.pin_id AND ps.segment_id = ${i}.segment_id))))`;
}

/**
 * Whether some open pin of the triple (project, asset, hash) `u` (SQL expressions) could waive its inputs while the asset is on
 * `currentVersion`: when not, the triple's ranges are read without a probe per input.
 */
function triplePinnedSql(u: { project: string; asset: string; hash: string }, currentVersion: string): string {
  return `EXISTS (SELECT 1 FROM staleness.pins pin
     WHERE pin.project_id = ${u.project} AND pin.asset_id = ${u.asset} AND pin.content_hash = ${u.hash}
       AND pin.unpinned_at IS NULL AND pin.accepted_version = ${currentVersion} AND (pin.expires_at IS NULL OR pin.expires_at > now()))`;
}

/** The filter of a stale triple's range (`s`, with `pinned` and `current_version`) that leaves out the waived inputs `i`. */
function notWaivedInRange(s: string, i: string): string {
  return `AND CASE WHEN ${s}.pinned THEN NOT ${waivedSql(i, `${s}.current_version`)} ELSE true END`;
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
 * whose hash is not its current version's, with both versions (0: the hash is not a version of the asset), and
 * whether an open pin may waive some of its inputs (`pinned`).
 */
const STALE_TRIPLES_CTE: string = `stale AS (
    SELECT u.project_id, u.asset_id, u.content_hash, COALESCE(rv.version, 0) AS receipt_version, cv.version AS current_version,
           ${triplePinnedSql({ project: "u.project_id", asset: "u.asset_id", hash: "u.content_hash" }, "cv.version")} AS pinned
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
 * with one). A segment that used one (asset, hash) twice, a LoRA stacked twice, is listed twice in a range; the
 * repeat, which is adjacent, is dropped when the group's ids are written out.
 * Untracked inputs are counted per pair of an unregistered asset, active segments index-only from
 * segments_active_project_idx. It returns those two counts, the stale totals (distinct segments and (project, scene)
 * pairs over all groups) and the groups, each with its scene count and every stale segment id, in order, as one
 * string joined by spaces (ids never hold whitespace): the service writes that out as the ids' wire bytes without
 * making ~70,000 strings of a big project's ids (domain/staleness-groups.ts). Without a project, the same runs over
 * every project's triples. Inputs an open pin waives are left out of the ranges (probed only in triples some open pin
 * names) and returned as `pinned`, one row per (segment, asset) with the earliest such pin. Run it at
 * {@link REPORT_ISOLATION} after {@link REPORT_SETTINGS_SQL}.
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
                       ${notWaivedInRange("s", "i")}
                 ORDER BY i.segment_id) d) r
     WHERE r.segment_ids IS NOT NULL
  ), pinned AS (
    SELECT DISTINCT ON (i.segment_id, s.asset_id)
           i.project_id, i.segment_id, i.scene_id, s.asset_id, s.receipt_version, s.current_version,
           p.pin_id, p.reason, p.pinned_by, p.expires_at
      FROM stale s
      JOIN staleness.segment_inputs i
        ON i.project_id = s.project_id AND i.asset_id = s.asset_id AND i.content_hash = s.content_hash AND i.active
      CROSS JOIN LATERAL (
        SELECT p.pin_id, p.reason, p.pinned_by, p.expires_at FROM staleness.pins p
         WHERE p.project_id = i.project_id AND p.asset_id = i.asset_id AND p.content_hash = i.content_hash
           AND p.unpinned_at IS NULL AND p.accepted_version = s.current_version AND (p.expires_at IS NULL OR p.expires_at > now())
           AND (p.scene_id = i.scene_id
                OR (p.scene_id IS NULL AND EXISTS (SELECT 1 FROM staleness.pin_segments ps WHERE ps.pin_id = p.pin_id AND ps.segment_id = i.segment_id)))
         ORDER BY p.created_at, p.pin_id LIMIT 1) p
     WHERE s.pinned
     ORDER BY i.segment_id, s.asset_id, s.receipt_version
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
         (SELECT count(*) FROM (SELECT x FROM grouped g, unnest(g.segment_ids) x GROUP BY x) d)::int AS stale_segments,
         (SELECT count(*) FROM (SELECT g.project_id, x FROM grouped g, unnest(g.scene_ids) x GROUP BY g.project_id, x) d)::int
           AS stale_scenes,
         COALESCE((SELECT json_agg(json_build_object(
                     'projectId', g.project_id, 'assetId', g.asset_id, 'assetName', a.name, 'kind', a.kind,
                     'receiptVersion', g.receipt_version, 'currentVersion', g.current_version,
                     'affectedScenes', cardinality(g.scene_ids),
                     'segmentIds', array_to_string(g.segment_ids, ' '), 'listed', cardinality(g.segment_ids))
                     ORDER BY g.project_id, g.asset_id, g.receipt_version)
                     FROM grouped g JOIN staleness.assets a ON a.asset_id = g.asset_id), '[]'::json) AS groups,
         COALESCE((SELECT json_agg(json_build_object(
                     'projectId', p.project_id, 'segmentId', p.segment_id, 'sceneId', p.scene_id, 'assetId', p.asset_id,
                     'assetName', a.name, 'version', p.receipt_version, 'currentVersion', p.current_version, 'pinId', p.pin_id,
                     'reason', p.reason, 'pinnedBy', p.pinned_by, 'expiresAt', p.expires_at)
                     ORDER BY p.project_id, p.segment_id, p.asset_id)
                     FROM pinned p JOIN staleness.assets a ON a.asset_id = p.asset_id), '[]'::json) AS pinned`;
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
 * Inputs an open pin waives are neither reasons nor make a segment stale.
 */
export function staleSegmentsSql(filter: StaleSegmentsFilter, limit: number): [string, unknown[]] {
  const params: unknown[] = [];
  const project = filter.projectId !== undefined ? `$${params.push(filter.projectId)}` : undefined;
  const asset = filter.assetId !== undefined ? `$${params.push(filter.assetId)}` : undefined;
  const afterParam = filter.after !== undefined ? `$${params.push(filter.after)}` : undefined;
  const after = afterParam ? `AND i.segment_id > ${afterParam}` : "";
  // In a range the keyset is written as a row comparison led by the range's own columns, which only
  // segment_inputs_active_project_asset_idx can take as a bound: as a bare segment_id bound it also fits the primary
  // key, and for a project written after the last ANALYZE (estimated at a row or two) the planner walked the primary
  // key from the cursor on, filtering every later segment's inputs per range (14 s for a 10,000-segment project's
  // second page, where the first took 0.13 s).
  const afterInRange = afterParam ? `AND (i.asset_id, i.content_hash, i.segment_id) > (s.asset_id, s.content_hash, ${afterParam})` : "";
  const viewable =
    project === undefined && filter.projects !== undefined ? `$${params.push(filter.projects)}::text[]` : undefined;
  const fromRanges = `page AS (
    SELECT DISTINCT c.segment_id FROM stale s CROSS JOIN LATERAL (
      SELECT DISTINCT i.segment_id FROM staleness.segment_inputs i
       WHERE i.project_id = s.project_id AND i.asset_id = s.asset_id AND i.content_hash = s.content_hash AND i.active ${afterInRange}
             ${notWaivedInRange("s", "i")}
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
    SELECT p.project_id, cv.asset_id, h.content_hash, cv.version AS current_version,
           ${triplePinnedSql({ project: "p.project_id", asset: "cv.asset_id", hash: "h.content_hash" }, "cv.version")} AS pinned
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
       AND NOT ${waivedSql("i", "cv.version")}
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
   WHERE NOT ${waivedSql("i", "cv.version")}
   GROUP BY s.segment_id
   ORDER BY s.segment_id`;
  return [sql, params];
}

/**
 * Detection's per-project step: one project's active inputs of the changed asset, index-only from
 * segment_inputs_active_project_asset_idx, each with the rule's verdict against the change, counted here so that
 * only what the event carries leaves the database. `$1` project id, `$2` asset id, `$3` the change's current content
 * hash, `$4` its previous one ('' when the asset had no current version), `$5` its current version.
 * An input is `stale` when its hash is not the change's current one and no open pin waives it while the asset is on
 * the change's current version `$5`, and `fresh` when the change moved from another hash to the input's, or to the
 * version a pin waiting for it accepted. The pin probe runs only for the inputs whose hash an open pin of the project
 * names (`pinned`, usually none: then not at all), not once per input; hashes are compared as the column's char(64),
 * and ids and scenes in byte order (COLLATE "C"), which sorts several times faster than the database's collation.
 * Rows: one with `receipt_version` NULL for the project — `stale_segments` / `stale_scenes` (distinct), `stale_ids` and
 * `fresh_ids` (the first 5,000 distinct segment ids, in byte order) — and one per receipt version with a stale input
 * (the version with the input's hash, 0 when none): its distinct `stale_segments`, `stale_scenes` and first
 * 5,000 `stale_ids`.
 */
export const PROJECT_DETECTION_SQL: string = detectionSql(false);

/**
 * {@link PROJECT_DETECTION_SQL} for several projects at once (`$1` their ids, a text[]), as detection runs it: the same
 * rows for each project, with a leading `project_id` column (a project none of whose active inputs uses the asset any
 * more has none).
 */
export const PROJECTS_DETECTION_SQL: string = detectionSql(true);

function detectionSql(many: boolean): string {
  const projects = many ? "= ANY($1::text[])" : "= $1";
  const project = many ? "project_id, " : "";
  return `
  WITH pinned AS MATERIALIZED (
    SELECT DISTINCT pin.project_id, pin.content_hash FROM staleness.pins pin
     WHERE pin.project_id ${projects} AND pin.asset_id = $2 AND pin.unpinned_at IS NULL AND pin.accepted_version = $5::int
       AND (pin.expires_at IS NULL OR pin.expires_at > now())
  ), inputs AS MATERIALIZED (
    SELECT i.project_id, i.scene_id COLLATE "C" AS scene_id, i.segment_id COLLATE "C" AS segment_id, i.content_hash,
           CASE WHEN EXISTS (SELECT FROM pinned) AND (i.project_id, i.content_hash) IN (SELECT p.project_id, p.content_hash FROM pinned p)
                THEN ${waivedSql("i", "$5::int")} ELSE false END AS waived
      FROM staleness.segment_inputs i
     WHERE i.project_id ${projects} AND i.asset_id = $2 AND i.active
  ), verdicts AS MATERIALIZED (
    SELECT i.project_id, i.scene_id, i.segment_id, COALESCE(v.version, 0) AS receipt_version,
           i.content_hash <> $3::bpchar AND NOT i.waived AS stale,
           $4::bpchar <> $3::bpchar AND (i.content_hash = $3::bpchar OR i.waived) AS fresh
      FROM inputs i
      LEFT JOIN staleness.asset_versions v ON v.asset_id = $2 AND v.content_hash = i.content_hash
  )
  SELECT ${project}NULL::int AS receipt_version,
         count(DISTINCT segment_id) FILTER (WHERE stale)::int AS stale_segments,
         count(DISTINCT scene_id) FILTER (WHERE stale)::int AS stale_scenes,
         (array_agg(DISTINCT segment_id ORDER BY segment_id) FILTER (WHERE stale))[1:${DETECTION_ID_LIMIT}] AS stale_ids,
         (array_agg(DISTINCT segment_id ORDER BY segment_id) FILTER (WHERE fresh))[1:${DETECTION_ID_LIMIT}] AS fresh_ids
    FROM verdicts ${many ? "GROUP BY project_id" : ""}
  UNION ALL
  SELECT ${project}receipt_version, count(DISTINCT segment_id)::int, count(DISTINCT scene_id)::int,
         (array_agg(DISTINCT segment_id ORDER BY segment_id))[1:${DETECTION_ID_LIMIT}], NULL
    FROM verdicts WHERE stale GROUP BY ${project}receipt_version`;
}

/**
 * The report's legacy_segments: active segments (not superseded) with a LEGACY receipt and no current one — made
 * before receipts were recorded, never stale nor fresh (`$1`: the project, when `scoped`). Index-only from
 * segments_legacy_project_idx. Run in the report's transaction, so it counts the report's snapshot.
 */
export function legacySegmentsSql(scoped: boolean): string {
  return `
  SELECT count(*)::int AS legacy_segments FROM staleness.segments s
   WHERE s.legacy AND s.superseded_by_segment_id IS NULL AND s.current_receipt_id IS NULL ${projectFilter("s.project_id", scoped)}`;
}

/**
 * A pin change's verdicts (PinSegments, UnpinSegments, a pin's expiry): the active inputs pin `$1` names (its
 * project, asset and pinned hash, in its scene or among its segments), each with the rule's verdict now, against the
 * asset's current version: `stale` (no open pin waives it), `fresh` (one does: the rule would call it stale and a pin
 * holds it). Columns as {@link PROJECT_DETECTION_SQL}'s, plus the change's asset columns.
 */
export const PIN_DETECTION_SQL = `
  SELECT i.scene_id, i.segment_id, p.version AS receipt_version,
         NOT ${waivedSql("i", "cv.version")} AS stale,
         ${waivedSql("i", "cv.version")} AS fresh
    FROM staleness.pins p
    JOIN staleness.asset_versions cv ON cv.asset_id = p.asset_id AND cv.is_current AND cv.content_hash <> p.content_hash
    JOIN staleness.segment_inputs i
      ON i.project_id = p.project_id AND i.asset_id = p.asset_id AND i.content_hash = p.content_hash AND i.active
     AND (p.scene_id = i.scene_id
          OR (p.scene_id IS NULL AND EXISTS (SELECT 1 FROM staleness.pin_segments ps WHERE ps.pin_id = p.pin_id AND ps.segment_id = i.segment_id)))
   WHERE p.pin_id = $1`;
