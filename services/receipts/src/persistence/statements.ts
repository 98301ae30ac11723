/**
 * Every SQL statement of the receipts service, as text, in one place; the repositories run them. Also the public
 * `@provenance/receipts/statements` export, through which the bench runs the service's own statements bare.
 * Set-based throughout: each batch statement takes arrays (`unnest`, `= ANY`) so a batch is a handful of statements
 * whatever its size.
 */

const RECEIPT_COLUMNS = `
  r.receipt_id, r.seq, r.workflow_version, r.prompt_text, r.negative_prompt, r.cfg_scale, r.seed::text AS seed,
  r.steps, r.sampler, r.resolution_width, r.resolution_height, r.additional_params, r.inputs_hash, r.status,
  r.generation_started_at, r.generation_completed_at, r.generation_duration_ms, r.output_hash, r.missing_fields,
  r.regeneration_job_id, r.supersedes_segment_id AS r_supersedes_segment_id, r.idempotency_key,
  r.request_fingerprint, r.created_at, r.recorded_by, r.completed_by, r.reproduction_of_receipt_id,
  s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.supersedes_segment_id,
  s.superseded_by_segment_id, s.created_at AS segment_created_at`;

const SEGMENT_COLUMNS = `
  s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.supersedes_segment_id,
  s.superseded_by_segment_id, s.created_at AS segment_created_at`;

const RECEIPTS_FROM = `
  FROM receipts.generation_receipts r
  JOIN receipts.segments s ON s.segment_id = r.segment_id`;

/**
 * GetSegmentProvenance in one statement (one round trip): the segment, each of its receipts newest first, and each
 * receipt's inputs as one JSON array from the receipt_inputs primary key. No row: no such segment. $1: segment id.
 */
export const SEGMENT_HISTORY_SQL = `
  SELECT ${RECEIPT_COLUMNS}, inp.inputs
    FROM receipts.segments s
    LEFT JOIN receipts.generation_receipts r ON r.segment_id = s.segment_id
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object('role', i.role, 'position', i.position, 'asset_id', i.asset_id,
                                        'content_hash', i.content_hash, 'version', i.version, 'weight', i.weight)
                      ORDER BY i.role, i.position) AS inputs
        FROM receipts.receipt_inputs i WHERE i.receipt_id = r.receipt_id) inp ON r.receipt_id IS NOT NULL
   WHERE s.segment_id = $1
   ORDER BY r.seq DESC`;

/** What {@link assetUsageSql} filters and resumes on. */
export interface AssetUsageQueryShape {
  /** Filter on one content hash ($2). */
  byContentHash: boolean;
  /** Resume after a (receipt_seq, role, position) position: the next three parameters. */
  after: boolean;
  /** Only segments of these projects (the caller's viewable ones): the last parameter, a text array. */
  byProjects?: boolean;
  /** Rows in the page. */
  limit: number;
}

/**
 * GetAssetUsage: inputs that named an asset ($1; optionally one content hash), newest receipt first, keyset-paged —
 * one range scan of receipt_inputs_asset_idx or receipt_inputs_asset_hash_idx, then key lookups of the receipt and
 * segment of each row. With `byProjects` the project filter is applied to each row of that scan before the page's
 * limit, so a page holds `limit` viewable rows and the cursor stays right. Built per shape so each shape gets its own
 * plan; `limit` is a validated integer.
 */
export function assetUsageSql(shape: AssetUsageQueryShape): string {
  let where = "i.asset_id = $1";
  let n = 1;
  if (shape.byContentHash) where += ` AND i.content_hash = $${++n}`;
  if (shape.after) {
    where += ` AND (i.receipt_seq, i.role, i.position) < ($${n + 1}::bigint, $${n + 2}, $${n + 3}::smallint)`;
    n += 3;
  }
  if (shape.byProjects) {
    return `
  SELECT i.receipt_seq, i.receipt_id, i.role, i.position, i.content_hash, i.version, i.weight,
         r.status, r.generation_started_at,
         s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.supersedes_segment_id,
         s.superseded_by_segment_id, s.created_at AS segment_created_at
    FROM receipts.receipt_inputs i
    JOIN receipts.generation_receipts r ON r.receipt_id = i.receipt_id
    JOIN receipts.segments s ON s.segment_id = r.segment_id
   WHERE ${where} AND s.project_id = ANY($${n + 1}::text[])
   ORDER BY i.receipt_seq DESC, i.role DESC, i.position DESC LIMIT ${Math.trunc(shape.limit)}`;
  }
  return `
  SELECT i.receipt_seq, i.receipt_id, i.role, i.position, i.content_hash, i.version, i.weight,
         r.status, r.generation_started_at,
         s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.supersedes_segment_id,
         s.superseded_by_segment_id, s.created_at AS segment_created_at
    FROM (SELECT * FROM receipts.receipt_inputs i WHERE ${where}
           ORDER BY i.receipt_seq DESC, i.role DESC, i.position DESC LIMIT ${Math.trunc(shape.limit)}) i
    JOIN receipts.generation_receipts r ON r.receipt_id = i.receipt_id
    JOIN receipts.segments s ON s.segment_id = r.segment_id
   ORDER BY i.receipt_seq DESC, i.role DESC, i.position DESC`;
}

/**
 * New segments, one multi-row INSERT from arrays ($1 ids … $6 superseded ids), in id order (the lock order of
 * concurrent batches); segments already stored are left as they are.
 */
export const INSERT_SEGMENTS_SQL = `
  INSERT INTO receipts.segments (segment_id, scene_id, project_id, character_name, sequence_index, supersedes_segment_id)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[]) AS s(id)
   ORDER BY s.id
  ON CONFLICT (segment_id) DO NOTHING`;

/**
 * New receipts, one multi-row INSERT from arrays, in array order (so seq follows it); a receipt whose idempotency
 * key is taken is skipped. $19: who recorded each (its caller's subject; a group commit mixes callers); $20: the
 * receipt each reproduces (NULL for none). Returns what storage assigned to each one inserted. `created_xid` is left to its
 * default, the inserting transaction's id.
 */
export const INSERT_RECEIPTS_SQL = `
  INSERT INTO receipts.generation_receipts (
    receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale, seed, steps, sampler,
    resolution_width, resolution_height, additional_params, inputs_hash, generation_started_at,
    regeneration_job_id, supersedes_segment_id, idempotency_key, request_fingerprint, recorded_by,
    reproduction_of_receipt_id)
  SELECT d.receipt_id, d.segment_id, d.workflow_version, d.prompt_text, d.negative_prompt, d.cfg_scale,
         d.seed::numeric, d.steps, d.sampler, d.resolution_width, d.resolution_height, d.additional_params::jsonb,
         d.inputs_hash, d.generation_started_at, d.regeneration_job_id, d.supersedes_segment_id, d.idempotency_key,
         d.request_fingerprint, d.recorded_by, d.reproduction_of_receipt_id
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::double precision[], $7::text[],
                $8::integer[], $9::text[], $10::integer[], $11::integer[], $12::text[], $13::text[],
                $14::timestamptz[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::uuid[])
         WITH ORDINALITY AS d(receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale,
           seed, steps, sampler, resolution_width, resolution_height, additional_params, inputs_hash,
           generation_started_at, regeneration_job_id, supersedes_segment_id, idempotency_key,
           request_fingerprint, recorded_by, reproduction_of_receipt_id, n)
   ORDER BY d.n
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING receipt_id, seq, created_at`;

/** The inputs of new receipts, one multi-row INSERT from arrays. */
export const INSERT_INPUTS_SQL = `
  INSERT INTO receipts.receipt_inputs (receipt_id, receipt_seq, role, position, asset_id, content_hash, version, weight)
  SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::smallint[], $5::text[], $6::text[], $7::integer[],
                       $8::double precision[])`;

/** The inputs of receipts ($1: receipt ids), from the receipt_inputs primary key. */
export const RECEIPT_INPUTS_SQL = `
  SELECT receipt_id, role, position, asset_id, content_hash, version, weight
    FROM receipts.receipt_inputs WHERE receipt_id = ANY($1::uuid[])`;

/** One receipt with its segment ($1: receipt id). */
export const RECEIPT_BY_ID_SQL = `
  SELECT ${RECEIPT_COLUMNS}${RECEIPTS_FROM}
   WHERE r.receipt_id = $1`;

/** The receipts holding idempotency keys ($1), with their segments. */
export const RECEIPTS_BY_IDEMPOTENCY_KEYS_SQL = `
  SELECT ${RECEIPT_COLUMNS}${RECEIPTS_FROM}
   WHERE r.idempotency_key = ANY($1::text[])
   ORDER BY r.seq DESC`;

/** Receipts by id ($1), with their segments, locked for update in id order (so concurrent batches cannot deadlock). */
export const LOCK_RECEIPTS_SQL = `
  SELECT ${RECEIPT_COLUMNS}${RECEIPTS_FROM}
   WHERE r.receipt_id = ANY($1::uuid[])
   ORDER BY r.receipt_id FOR UPDATE OF r`;

/** The receipts with these ids ($1), with their segments, not locked (the receipt log's integrator and auditor). */
export const RECEIPTS_BY_IDS_SQL = `
  SELECT ${RECEIPT_COLUMNS}${RECEIPTS_FROM}
   WHERE r.receipt_id = ANY($1::uuid[])`;

/** FindReceiptsByInputsHash, first page: $1 inputs hash, $2 page size; newest first. */
export const RECEIPTS_BY_INPUTS_HASH_SQL = `
  SELECT ${RECEIPT_COLUMNS}${RECEIPTS_FROM}
   WHERE r.inputs_hash = $1
   ORDER BY r.seq DESC LIMIT $2`;

/** FindReceiptsByInputsHash, later pages: $1 inputs hash, $2 page size, $3 the seq the page resumes before. */
export const RECEIPTS_BY_INPUTS_HASH_AFTER_SQL = `
  SELECT ${RECEIPT_COLUMNS}${RECEIPTS_FROM}
   WHERE r.inputs_hash = $1 AND r.seq < $3
   ORDER BY r.seq DESC LIMIT $2`;

/**
 * FindReceiptsByInputsHash of a caller who may view only some projects: the same, with only receipts of the projects
 * in $3 (`after`: resuming before the seq in $4). The filter is in the scan, so a page holds `$2` viewable receipts.
 */
export function receiptsByInputsHashInProjectsSql(after: boolean): string {
  return `
  SELECT ${RECEIPT_COLUMNS}${RECEIPTS_FROM}
   WHERE r.inputs_hash = $1 AND s.project_id = ANY($3::text[])${after ? " AND r.seq < $4" : ""}
   ORDER BY r.seq DESC LIMIT $2`;
}

/**
 * Sets completion fields from arrays ($1 ids, $2 statuses, $3 completed at, $4 durations, $5 output hashes, $6 who
 * completed each).
 */
export const SET_COMPLETIONS_SQL = `
  UPDATE receipts.generation_receipts r
     SET status = c.status, generation_completed_at = c.completed_at, generation_duration_ms = c.duration_ms,
         output_hash = c.output_hash, completed_by = c.completed_by
    FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::text[], $6::text[])
         AS c(receipt_id, status, completed_at, duration_ms, output_hash, completed_by)
   WHERE r.receipt_id = c.receipt_id`;

/** The project of each stored receipt among $1 (UUIDs), through its segment: the access decision's receipt resolver. */
export const RECEIPT_PROJECTS_SQL = `
  SELECT r.receipt_id, s.project_id
    FROM receipts.generation_receipts r
    JOIN receipts.segments s ON s.segment_id = r.segment_id
   WHERE r.receipt_id = ANY($1::uuid[])`;

/** The project of each stored segment among $1. */
export const SEGMENT_PROJECTS_SQL = `
  SELECT segment_id, project_id FROM receipts.segments WHERE segment_id = ANY($1::text[])`;

/** Segments by id ($1). */
export const SEGMENTS_BY_IDS_SQL = `
  SELECT segment_id, scene_id, project_id, character_name, sequence_index, supersedes_segment_id,
         superseded_by_segment_id, created_at AS segment_created_at
    FROM receipts.segments WHERE segment_id = ANY($1::text[])`;

/**
 * Marks old segments ($1) superseded by new ones ($2, pairwise) where not superseded yet; returns the ids marked.
 */
export const MARK_SUPERSEDED_SQL = `
  UPDATE receipts.segments s SET superseded_by_segment_id = u.new_segment, superseded_at = now()
    FROM unnest($1::text[], $2::text[]) AS u(old_segment, new_segment)
   WHERE s.segment_id = u.old_segment AND s.superseded_by_segment_id IS NULL
   RETURNING s.segment_id`;

/**
 * ListProjects in one statement: every project that has segments, in project id order, with its scene count, active
 * and superseded segment counts, and when its newest receipt (the highest seq) was recorded. One ordered range scan
 * of segments_listing_idx from the page's start, the newest seq of each segment from the first entry of
 * generation_receipts_segment_idx (index-only once vacuumed), then one key lookup per project. Its cost grows with
 * the segments of the page's projects. $1: rows to return; with `after`, $2: the project id the page resumes after;
 * with `byProjects`, the last parameter: the only projects to list (the caller's viewable ones).
 */
export function listProjectsSql(after: boolean, byProjects = false): string {
  const where = [after ? "s.project_id > $2" : "", byProjects ? `s.project_id = ANY($${after ? 3 : 2}::text[])` : ""].filter((w) => w !== "");
  return `
  SELECT p.project_id, p.scene_count, p.active_segment_count, p.superseded_segment_count, r.created_at AS last_recorded_at
    FROM (SELECT s.project_id,
                 count(DISTINCT s.scene_id)::int AS scene_count,
                 (count(*) FILTER (WHERE s.superseded_by_segment_id IS NULL))::int AS active_segment_count,
                 (count(*) FILTER (WHERE s.superseded_by_segment_id IS NOT NULL))::int AS superseded_segment_count,
                 max(n.seq) AS newest_seq
            FROM receipts.segments s
            CROSS JOIN LATERAL (SELECT max(g.seq) AS seq FROM receipts.generation_receipts g WHERE g.segment_id = s.segment_id) n
           ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
           GROUP BY s.project_id
           ORDER BY s.project_id
           LIMIT $1) p
    LEFT JOIN receipts.generation_receipts r ON r.seq = p.newest_seq
   ORDER BY p.project_id`;
}

/** What {@link listSegmentsSql} filters and resumes on. */
export interface SegmentListingQueryShape {
  /** Only one scene: $2. */
  byScene: boolean;
  /** Superseded segments too (otherwise active ones only). */
  includeSuperseded: boolean;
  /** Resume after a (scene id, sequence index, segment id) position: the next three parameters. */
  after: boolean;
}

/**
 * ListSegments in one statement: the page of a project's segments ($1; optionally one scene), ordered by scene id,
 * sequence index and segment id — one ordered range scan of segments_listing_idx that stops at the page's end — and
 * only for those, each one's receipt count, newest receipt's status and current receipt (the latest SUCCEEDED one:
 * the rule of domain/current-receipt.ts, applied set-based) from generation_receipts_segment_idx. The last parameter:
 * rows to return. Built per shape so each shape gets its own plan.
 */
export function listSegmentsSql(shape: SegmentListingQueryShape): string {
  const where = ["s.project_id = $1"];
  let n = 1;
  if (shape.byScene) where.push(`s.scene_id = $${++n}`);
  if (!shape.includeSuperseded) where.push("s.superseded_by_segment_id IS NULL");
  if (shape.after) {
    where.push(`(s.scene_id, s.sequence_index, s.segment_id) > ($${n + 1}, $${n + 2}::integer, $${n + 3})`);
    n += 3;
  }
  return `
  SELECT ${SEGMENT_COLUMNS},
         r.receipt_count, r.latest_status, r.current_receipt_id
    FROM (SELECT * FROM receipts.segments s
           WHERE ${where.join("\n             AND ")}
           ORDER BY s.scene_id, s.sequence_index, s.segment_id
           LIMIT $${n + 1}) s
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS receipt_count,
             (array_agg(g.status ORDER BY g.seq DESC))[1] AS latest_status,
             (array_agg(g.receipt_id ORDER BY g.seq DESC) FILTER (WHERE g.status = 'SUCCEEDED'))[1] AS current_receipt_id
        FROM receipts.generation_receipts g WHERE g.segment_id = s.segment_id) r
   ORDER BY s.scene_id, s.sequence_index, s.segment_id`;
}

/**
 * New LEGACY receipts (ImportLegacySegments), one multi-row INSERT from arrays in array order: born complete
 * (status LEGACY, completed when generated), what is unknown stored as zero values, an unknown inputs hash as NULL
 * ($13 ''). $1 ids, $2 segments, $3–$12 the parameters as in INSERT_RECEIPTS_SQL, $14 when each was generated,
 * $15 idempotency keys, $16 fingerprints, $17 output hashes (NULL unknown), $18 each one's missing fields as a JSON
 * array of text, $19 who imported them. A receipt whose idempotency key is taken is skipped.
 */
export const INSERT_LEGACY_RECEIPTS_SQL = `
  INSERT INTO receipts.generation_receipts (
    receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale, seed, steps, sampler,
    resolution_width, resolution_height, additional_params, inputs_hash, generation_started_at, idempotency_key,
    request_fingerprint, status, generation_completed_at, output_hash, missing_fields, recorded_by)
  SELECT d.receipt_id, d.segment_id, d.workflow_version, d.prompt_text, d.negative_prompt, d.cfg_scale,
         d.seed::numeric, d.steps, d.sampler, d.resolution_width, d.resolution_height, d.additional_params::jsonb,
         NULLIF(d.inputs_hash, ''), d.generated_at, d.idempotency_key, d.request_fingerprint, 'LEGACY', d.generated_at,
         d.output_hash, ARRAY(SELECT jsonb_array_elements_text(d.missing_fields::jsonb)), $19::text
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::double precision[], $7::text[],
                $8::integer[], $9::text[], $10::integer[], $11::integer[], $12::text[], $13::text[],
                $14::timestamptz[], $15::text[], $16::text[], $17::text[], $18::text[])
         WITH ORDINALITY AS d(receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale,
           seed, steps, sampler, resolution_width, resolution_height, additional_params, inputs_hash, generated_at,
           idempotency_key, request_fingerprint, output_hash, missing_fields, n)
   ORDER BY d.n
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING receipt_id, seq, created_at`;

/** Which of the segments $1 have receipts other than LEGACY ones (recorded by the pipeline). */
export const RECORDED_SEGMENTS_SQL = `
  SELECT DISTINCT r.segment_id FROM receipts.generation_receipts r
   WHERE r.segment_id = ANY($1::text[]) AND r.status <> 'LEGACY'`;

/**
 * GetCoverage in one statement: each active segment (not superseded, not a reproduction's) of the projects counted — every project, or
 * only those in the last parameter, a text array — classed once: complete (a SUCCEEDED receipt), else legacy (a
 * LEGACY one), else by its newest receipt (the highest seq): running (started less than $1 seconds ago), running too
 * long, or failed; counted per project, in project id order. Plain aggregates per segment (no sort per segment), so
 * every project is one hash join and hash aggregate of segments and receipts, and a few projects index lookups.
 */
export function coverageSql(byProjects: boolean): string {
  return `
  SELECT c.project_id,
         count(*)::int AS segments,
         (count(*) FILTER (WHERE c.class = 'complete'))::int AS complete,
         (count(*) FILTER (WHERE c.class = 'legacy'))::int AS legacy,
         (count(*) FILTER (WHERE c.class = 'running'))::int AS running,
         (count(*) FILTER (WHERE c.class = 'running_too_long'))::int AS running_too_long,
         (count(*) FILTER (WHERE c.class = 'failed'))::int AS failed
    FROM (SELECT a.project_id,
                 CASE WHEN a.succeeded THEN 'complete'
                      WHEN a.legacy THEN 'legacy'
                      WHEN a.failed_seq > greatest(a.running_seq, a.too_long_seq) THEN 'failed'
                      WHEN a.running_seq > a.too_long_seq THEN 'running'
                      ELSE 'running_too_long' END AS class
            FROM (SELECT s.project_id,
                         bool_or(g.status = 'SUCCEEDED') AS succeeded,
                         bool_or(g.status = 'LEGACY') AS legacy,
                         COALESCE(max(g.seq) FILTER (WHERE g.status = 'FAILED'), 0) AS failed_seq,
                         COALESCE(max(g.seq) FILTER (WHERE g.status = 'RUNNING'
                           AND g.generation_started_at >= now() - make_interval(secs => $1::double precision)), 0) AS running_seq,
                         COALESCE(max(g.seq) FILTER (WHERE g.status = 'RUNNING'
                           AND g.generation_started_at < now() - make_interval(secs => $1::double precision)), 0) AS too_long_seq
                    FROM receipts.segments s
                    JOIN receipts.generation_receipts g ON g.segment_id = s.segment_id AND g.reproduction_of_receipt_id IS NULL
                   WHERE s.superseded_by_segment_id IS NULL${byProjects ? " AND s.project_id = ANY($2::text[])" : ""}
                   GROUP BY s.project_id, s.segment_id) a) c
   GROUP BY c.project_id
   ORDER BY c.project_id`;
}

/**
 * GetGenerationDurations for keys of one shape, $1..$5 (workflow, model, width, height, steps arrays; n: a key's
 * 1-based place): per key the median and count of the latest `limit` durations of receipts.generation_durations whose
 * `compared` columns equal the key's fields (only those: a key of every setting, or of only a model, is then one range
 * scan of an index in answer order — migration 1732200000800); `byProjects`: only of the projects in $6.
 */
export function generationDurationsSql(compared: readonly { column: string; param: string }[], limit: number, byProjects: boolean): string {
  const where = compared.map((c) => `d.${c.column} = k.${c.param}`);
  if (byProjects) where.push("d.project_id = ANY($6::text[])");
  return `
  SELECT k.n, count(l.ms)::integer AS sample_size,
         COALESCE(round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l.ms))::numeric), 0)::bigint AS median_ms
    FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::integer[])
         WITH ORDINALITY AS k(workflow, model, w, h, steps, n)
    LEFT JOIN LATERAL (
      SELECT d.duration_ms AS ms FROM receipts.generation_durations d
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY d.receipt_seq DESC LIMIT ${limit}) l ON true
   GROUP BY k.n`;
}
