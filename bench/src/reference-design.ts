/**
 * The reference design: the task list's (tasks-069) generation_receipts table with JSONB lora_configs, its indexes,
 * and its SQL for forward lookup, reverse usage and staleness, in schema `reference`. It has no service, so it is
 * loaded by direct SQL from the same data the services wrote. What the sketch leaves as todo!() is filled in with
 * the most natural SQL; each such place is marked FILLED IN below and listed in docs/performance.md.
 */
import type pg from "pg";

/**
 * Schema DDL. Task 1.1's table and its five indexes verbatim (schema-qualified); Task 1.2's version columns and
 * indexes on assets, source_images and derived_images verbatim. The PRD-001/PRD-017 tables it references are
 * reduced to the columns its queries use, with an index per foreign key (PRD-000's convention). FILLED IN:
 * `external_id` columns (with unique indexes) only map our string ids to the reference's BIGINT ids when loading.
 */
export const REFERENCE_DDL = `
  DROP SCHEMA IF EXISTS reference CASCADE;
  CREATE SCHEMA reference;
  CREATE TABLE reference.projects (id BIGSERIAL PRIMARY KEY, external_id TEXT NOT NULL UNIQUE);
  CREATE TABLE reference.characters (
    id BIGSERIAL PRIMARY KEY, project_id BIGINT NOT NULL REFERENCES reference.projects(id), name TEXT NOT NULL,
    UNIQUE (project_id, name));
  CREATE INDEX idx_characters_project_id ON reference.characters(project_id);
  CREATE TABLE reference.scenes (
    id BIGSERIAL PRIMARY KEY, character_id BIGINT NOT NULL REFERENCES reference.characters(id), external_id TEXT NOT NULL,
    UNIQUE (character_id, external_id));
  CREATE INDEX idx_scenes_character_id ON reference.scenes(character_id);
  CREATE TABLE reference.segments (
    id BIGSERIAL PRIMARY KEY, scene_id BIGINT NOT NULL REFERENCES reference.scenes(id), sequence_index INTEGER NOT NULL,
    external_id TEXT NOT NULL UNIQUE);
  CREATE INDEX idx_segments_scene_id ON reference.segments(scene_id);

  -- PRD-017 assets: one row per version (Task 1.2: is_current_version, previous_version_id, version_number).
  CREATE TABLE reference.assets (
    id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, asset_type TEXT NOT NULL, version TEXT NOT NULL,
    checksum_sha256 TEXT NOT NULL);
  ALTER TABLE reference.assets ADD COLUMN IF NOT EXISTS is_current_version BOOLEAN NOT NULL DEFAULT true;
  ALTER TABLE reference.assets ADD COLUMN IF NOT EXISTS previous_version_id BIGINT REFERENCES reference.assets(id) ON DELETE SET NULL ON UPDATE CASCADE;
  ALTER TABLE reference.assets ADD COLUMN IF NOT EXISTS version_number INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX idx_assets_previous_version_id ON reference.assets(previous_version_id);
  CREATE INDEX idx_assets_current_version ON reference.assets(name, is_current_version) WHERE is_current_version = true;

  CREATE TABLE reference.source_images (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL);
  ALTER TABLE reference.source_images ADD COLUMN IF NOT EXISTS version_number INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE reference.source_images ADD COLUMN IF NOT EXISTS content_hash TEXT;
  ALTER TABLE reference.source_images ADD COLUMN IF NOT EXISTS previous_version_id BIGINT REFERENCES reference.source_images(id) ON DELETE SET NULL ON UPDATE CASCADE;
  CREATE INDEX idx_source_images_previous_version ON reference.source_images(previous_version_id);

  CREATE TABLE reference.derived_images (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL);
  ALTER TABLE reference.derived_images ADD COLUMN IF NOT EXISTS version_number INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE reference.derived_images ADD COLUMN IF NOT EXISTS content_hash TEXT;
  ALTER TABLE reference.derived_images ADD COLUMN IF NOT EXISTS previous_version_id BIGINT REFERENCES reference.derived_images(id) ON DELETE SET NULL ON UPDATE CASCADE;
  CREATE INDEX idx_derived_images_previous_version ON reference.derived_images(previous_version_id);

  CREATE TABLE reference.generation_receipts (
    id BIGSERIAL PRIMARY KEY,
    segment_id BIGINT NOT NULL REFERENCES reference.segments(id) ON DELETE CASCADE ON UPDATE CASCADE,
    source_image_hash TEXT NOT NULL,
    variant_image_hash TEXT NOT NULL,
    workflow_version TEXT NOT NULL,
    workflow_hash TEXT NOT NULL,
    model_asset_id BIGINT REFERENCES reference.assets(id) ON DELETE SET NULL ON UPDATE CASCADE,
    model_version TEXT NOT NULL,
    model_hash TEXT NOT NULL,
    lora_configs JSONB NOT NULL DEFAULT '[]',
    prompt_text TEXT NOT NULL,
    negative_prompt TEXT,
    cfg_scale FLOAT NOT NULL,
    seed BIGINT NOT NULL,
    resolution_width INTEGER NOT NULL,
    resolution_height INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    sampler TEXT NOT NULL,
    additional_params JSONB NOT NULL DEFAULT '{}',
    inputs_hash TEXT NOT NULL,
    generation_started_at TIMESTAMPTZ NOT NULL,
    generation_completed_at TIMESTAMPTZ,
    generation_duration_ms INTEGER,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
  );
  CREATE INDEX idx_generation_receipts_segment_id ON reference.generation_receipts(segment_id);
  CREATE INDEX idx_generation_receipts_model_asset_id ON reference.generation_receipts(model_asset_id);
  CREATE INDEX idx_generation_receipts_inputs_hash ON reference.generation_receipts(inputs_hash);
  CREATE INDEX idx_generation_receipts_source_image_hash ON reference.generation_receipts(source_image_hash);
  CREATE INDEX idx_generation_receipts_model_hash ON reference.generation_receipts(model_hash);
`;

/** Copies the services' data (receipts and staleness schemas) into the reference tables, in set-based statements. */
const REFERENCE_LOAD = [
  `INSERT INTO reference.projects (external_id) SELECT DISTINCT project_id FROM receipts.segments ORDER BY 1`,
  `INSERT INTO reference.characters (project_id, name)
     SELECT DISTINCT p.id, s.character_name FROM receipts.segments s JOIN reference.projects p ON p.external_id = s.project_id`,
  `INSERT INTO reference.scenes (character_id, external_id)
     SELECT DISTINCT c.id, s.scene_id FROM receipts.segments s
       JOIN reference.projects p ON p.external_id = s.project_id
       JOIN reference.characters c ON c.project_id = p.id AND c.name = s.character_name`,
  `INSERT INTO reference.segments (scene_id, sequence_index, external_id)
     SELECT sc.id, s.sequence_index, s.segment_id FROM receipts.segments s
       JOIN reference.projects p ON p.external_id = s.project_id
       JOIN reference.characters c ON c.project_id = p.id AND c.name = s.character_name
       JOIN reference.scenes sc ON sc.character_id = c.id AND sc.external_id = s.scene_id
      ORDER BY s.created_at`,
  `INSERT INTO reference.assets (name, asset_type, version, checksum_sha256, is_current_version, version_number)
     SELECT a.asset_id, lower(a.kind), 'v' || v.version, v.content_hash, v.is_current, v.version
       FROM staleness.assets a JOIN staleness.asset_versions v ON v.asset_id = a.asset_id
      WHERE a.kind IN ('MODEL', 'LORA', 'WORKFLOW') ORDER BY a.asset_id, v.version`,
  `UPDATE reference.assets n SET previous_version_id = p.id FROM reference.assets p
    WHERE p.name = n.name AND p.version_number = n.version_number - 1`,
  `INSERT INTO reference.source_images (name, version_number, content_hash)
     SELECT a.asset_id, v.version, v.content_hash FROM staleness.assets a JOIN staleness.asset_versions v ON v.asset_id = a.asset_id
      WHERE a.kind = 'SOURCE_IMAGE' ORDER BY a.asset_id, v.version`,
  `UPDATE reference.source_images n SET previous_version_id = p.id FROM reference.source_images p
    WHERE p.name = n.name AND p.version_number = n.version_number - 1`,
  `INSERT INTO reference.derived_images (name, version_number, content_hash)
     SELECT a.asset_id, v.version, v.content_hash FROM staleness.assets a JOIN staleness.asset_versions v ON v.asset_id = a.asset_id
      WHERE a.kind = 'VARIANT_IMAGE' ORDER BY a.asset_id, v.version`,
  `UPDATE reference.derived_images n SET previous_version_id = p.id FROM reference.derived_images p
    WHERE p.name = n.name AND p.version_number = n.version_number - 1`,
  // A loading aid only (dropped below): the asset version row of an (asset, hash) pair.
  `CREATE INDEX reference_load_assets_idx ON reference.assets (name, checksum_sha256)`,
  `INSERT INTO reference.generation_receipts (
     segment_id, source_image_hash, variant_image_hash, workflow_version, workflow_hash, model_asset_id, model_version,
     model_hash, lora_configs, prompt_text, negative_prompt, cfg_scale, seed, resolution_width, resolution_height, steps,
     sampler, additional_params, inputs_hash, generation_started_at, generation_completed_at, generation_duration_ms, created_at)
   SELECT seg.id, i.source_hash, COALESCE(i.variant_hash, ''), r.workflow_version, i.workflow_hash, ma.id,
          'v' || i.model_version, i.model_hash, i.loras, r.prompt_text, r.negative_prompt, r.cfg_scale, r.seed::bigint,
          r.resolution_width, r.resolution_height, r.steps, r.sampler, r.additional_params, r.inputs_hash,
          r.generation_started_at, r.generation_completed_at, r.generation_duration_ms, r.created_at
     FROM receipts.generation_receipts r
     JOIN reference.segments seg ON seg.external_id = r.segment_id
     CROSS JOIN LATERAL (
       SELECT max(ri.content_hash) FILTER (WHERE ri.role = 'source_image') AS source_hash,
              max(ri.content_hash) FILTER (WHERE ri.role = 'variant_image') AS variant_hash,
              max(ri.content_hash) FILTER (WHERE ri.role = 'workflow') AS workflow_hash,
              max(ri.content_hash) FILTER (WHERE ri.role = 'model') AS model_hash,
              max(ri.asset_id) FILTER (WHERE ri.role = 'model') AS model_id,
              max(ri.version) FILTER (WHERE ri.role = 'model') AS model_version,
              COALESCE(jsonb_agg(jsonb_build_object('asset_id', la.id, 'version', 'v' || ri.version,
                                                    'hash', ri.content_hash, 'weight', ri.weight) ORDER BY ri.position)
                       FILTER (WHERE ri.role = 'lora'), '[]'::jsonb) AS loras
         FROM receipts.receipt_inputs ri
         LEFT JOIN reference.assets la ON ri.role = 'lora' AND la.name = ri.asset_id AND la.checksum_sha256 = ri.content_hash
        WHERE ri.receipt_id = r.receipt_id) i
     LEFT JOIN reference.assets ma ON ma.name = i.model_id AND ma.checksum_sha256 = i.model_hash
    ORDER BY r.seq`,
  `DROP INDEX reference.reference_load_assets_idx`,
  `ANALYZE reference.projects, reference.characters, reference.scenes, reference.segments, reference.assets,
           reference.source_images, reference.derived_images, reference.generation_receipts`,
];

/** Creates the reference schema and loads it from the services' data; returns the seconds it took. */
export async function loadReference(db: pg.Pool): Promise<number> {
  const t0 = Date.now();
  await db.query(REFERENCE_DDL);
  for (const sql of REFERENCE_LOAD) await db.query(sql);
  return Math.round((Date.now() - t0) / 100) / 10;
}

/** Task 5.1's forward query, verbatim. $1: the segment's BIGINT id. */
export const REFERENCE_FORWARD_SQL = `
  SELECT * FROM reference.generation_receipts WHERE segment_id = $1 ORDER BY created_at DESC LIMIT 1`;

const REVERSE_SELECT = `
  SELECT gr.segment_id, gr.model_version, gr.created_at, seg.sequence_index, s.id as scene_id
    FROM reference.generation_receipts gr
    JOIN reference.segments seg ON seg.id = gr.segment_id
    JOIN reference.scenes s ON s.id = seg.scene_id`;

/**
 * Task 5.2's reverse query for a model. FILLED IN: model_asset_id names one version row, so "every version of the
 * asset" is `= ANY(its version rows)` ($1); `LIMIT $3` makes it a first page like ours (the sketch returns all rows).
 */
export const REFERENCE_REVERSE_MODEL_SQL = `${REVERSE_SELECT}
   WHERE gr.model_asset_id = ANY($1::bigint[])
     AND ($2::TEXT IS NULL OR gr.model_version = $2)
   ORDER BY gr.created_at DESC
   LIMIT $3`;

/**
 * FILLED IN: the sketch has no LoRA reverse query; the natural one over its JSONB array, any version ($1: the
 * asset's version row ids), by jsonb_array_elements. The reference has no GIN index on lora_configs.
 */
export const REFERENCE_REVERSE_LORA_SQL = `${REVERSE_SELECT}
   WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(gr.lora_configs) l WHERE (l->>'asset_id')::bigint = ANY($1::bigint[]))
   ORDER BY gr.created_at DESC
   LIMIT $2`;

/** FILLED IN: LoRA usage of one version ($1: that version's row id) by JSONB containment. */
export const REFERENCE_REVERSE_LORA_VERSION_SQL = `${REVERSE_SELECT}
   WHERE gr.lora_configs @> jsonb_build_array(jsonb_build_object('asset_id', $1::bigint))
   ORDER BY gr.created_at DESC
   LIMIT $2`;

/**
 * Task 3.1's detect_stale_segments for a project ($1: BIGINT project id or NULL), with its todo!() ("build stale
 * segment list with reasons") and Task 3.2's report filled in. The model part is the sketch's own join and condition;
 * FILLED IN: the same comparison for each LoRA in lora_configs, the source image (source_images) and the variant
 * image (derived_images), the current image version being the one no later version points back to; and the
 * grouping by asset and versions that Task 3.2's report describes. Workflows have no asset row in the reference and
 * are not compared.
 */
export const REFERENCE_REPORT_SQL = `
  WITH stale_models AS (
    SELECT gr.id as receipt_id, gr.segment_id, gr.model_hash, gr.model_version,
           gr.source_image_hash, gr.lora_configs,
           a.checksum_sha256 as current_model_hash, a.version as current_model_version,
           s.id as scene_id
    FROM reference.generation_receipts gr
    JOIN reference.segments seg ON seg.id = gr.segment_id
    JOIN reference.scenes s ON s.id = seg.scene_id
    LEFT JOIN reference.assets a ON a.id = gr.model_asset_id AND a.is_current_version = true
    WHERE ($1::BIGINT IS NULL OR s.character_id IN (SELECT id FROM reference.characters WHERE project_id = $1))
      AND (a.checksum_sha256 IS NULL OR gr.model_hash != a.checksum_sha256)
  ), scoped AS (
    SELECT gr.id AS receipt_id, gr.segment_id, s.id AS scene_id, gr.source_image_hash, gr.variant_image_hash, gr.lora_configs
    FROM reference.generation_receipts gr
    JOIN reference.segments seg ON seg.id = gr.segment_id
    JOIN reference.scenes s ON s.id = seg.scene_id
    WHERE ($1::BIGINT IS NULL OR s.character_id IN (SELECT id FROM reference.characters WHERE project_id = $1))
  ), reasons AS (
    SELECT m.segment_id, m.scene_id, 'model' AS asset_type, used.name AS asset_name,
           m.model_version AS receipt_version, cur.version AS current_version
      FROM stale_models m
      JOIN reference.generation_receipts gr ON gr.id = m.receipt_id
      JOIN reference.assets used ON used.id = gr.model_asset_id
      JOIN reference.assets cur ON cur.name = used.name AND cur.is_current_version = true
    UNION ALL
    SELECT sc.segment_id, sc.scene_id, 'lora', used.name, l->>'version', cur.version
      FROM scoped sc
      CROSS JOIN LATERAL jsonb_array_elements(sc.lora_configs) l
      JOIN reference.assets used ON used.id = (l->>'asset_id')::bigint
      JOIN reference.assets cur ON cur.name = used.name AND cur.is_current_version = true
     WHERE cur.checksum_sha256 <> l->>'hash'
    UNION ALL
    SELECT sc.segment_id, sc.scene_id, 'source_image', used.name, 'v' || used.version_number, 'v' || cur.version_number
      FROM scoped sc
      JOIN reference.source_images used ON used.content_hash = sc.source_image_hash
      JOIN reference.source_images cur ON cur.name = used.name
           AND NOT EXISTS (SELECT 1 FROM reference.source_images nx WHERE nx.previous_version_id = cur.id)
     WHERE cur.content_hash <> sc.source_image_hash
    UNION ALL
    SELECT sc.segment_id, sc.scene_id, 'variant_image', used.name, 'v' || used.version_number, 'v' || cur.version_number
      FROM scoped sc
      JOIN reference.derived_images used ON used.content_hash = sc.variant_image_hash
      JOIN reference.derived_images cur ON cur.name = used.name
           AND NOT EXISTS (SELECT 1 FROM reference.derived_images nx WHERE nx.previous_version_id = cur.id)
     WHERE cur.content_hash <> sc.variant_image_hash
  ), grouped AS (
    SELECT asset_type, asset_name, receipt_version, current_version,
           count(DISTINCT segment_id)::int AS affected_segments, count(DISTINCT scene_id)::int AS affected_scenes,
           array_agg(DISTINCT segment_id) AS segment_ids
      FROM reasons GROUP BY asset_type, asset_name, receipt_version, current_version
  )
  SELECT (SELECT count(DISTINCT segment_id) FROM reasons)::int AS total_stale_segments,
         (SELECT count(DISTINCT scene_id) FROM reasons)::int AS total_stale_scenes,
         COALESCE((SELECT json_agg(g ORDER BY g.affected_segments DESC) FROM grouped g), '[]'::json) AS by_asset`;

/** Maps used to call the reference with its BIGINT ids. */
export interface ReferenceIds {
  segmentIdOf(externalId: string): number;
  projectIdOf(externalId: string): number;
  /** Every version row id of an asset. */
  versionRowsOf(assetId: string): number[];
  /** The row id of one version of an asset. */
  versionRowOf(assetId: string, version: number): number;
}

/** Reads the id maps for the given segments (and all projects and assets). */
export async function referenceIds(db: pg.Pool, segmentIds: string[]): Promise<ReferenceIds> {
  const seg = new Map<string, number>();
  const { rows: segRows } = await db.query(`SELECT external_id, id FROM reference.segments WHERE external_id = ANY($1)`, [segmentIds]);
  for (const r of segRows) seg.set(r.external_id, Number(r.id));
  const proj = new Map<string, number>();
  for (const r of (await db.query(`SELECT external_id, id FROM reference.projects`)).rows) proj.set(r.external_id, Number(r.id));
  const assets = new Map<string, Map<number, number>>();
  for (const r of (await db.query(`SELECT name, version_number, id FROM reference.assets`)).rows) {
    const m = assets.get(r.name) ?? new Map<number, number>();
    m.set(r.version_number, Number(r.id));
    assets.set(r.name, m);
  }
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`reference has no ${what}`);
    return v;
  };
  return {
    segmentIdOf: (id) => need(seg.get(id), `segment ${id}`),
    projectIdOf: (id) => need(proj.get(id), `project ${id}`),
    versionRowsOf: (id) => [...need(assets.get(id), `asset ${id}`).values()],
    versionRowOf: (id, v) => need(assets.get(id)?.get(v), `asset ${id} v${v}`),
  };
}
