import type { MigrationInterface, QueryRunner } from "typeorm";
import { SERVICE_DATABASE_ROLES } from "@provenance/shared";

/** The login role the staleness service runs as (SERVICE_DATABASE_ROLES): versions are appended and flipped current, never deleted. */
export const STALENESS_APP_ROLE = SERVICE_DATABASE_ROLES.staleness;

/**
 * Assets and their versions (exactly one current per asset, enforced by a partial unique index),
 * and the projection of segment inputs built from receipt events.
 */
export class StalenessSchema1732300000000 implements MigrationInterface {
  name = "StalenessSchema1732300000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE staleness.assets (
        asset_id    text PRIMARY KEY,
        kind        text NOT NULL CHECK (kind IN ('MODEL', 'LORA', 'WORKFLOW', 'SOURCE_IMAGE', 'VARIANT_IMAGE')),
        name        text NOT NULL,
        -- NULL: shared by every project.
        project_id  text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        -- Last version appended or made current. Its UPDATE grant is also what SELECT … FOR UPDATE needs.
        versions_changed_at timestamptz
      );
      -- ListAssets filtered by project (and kind), keyset-paged on asset_id.
      CREATE INDEX assets_project_idx ON staleness.assets (project_id, kind, asset_id);

      CREATE TABLE staleness.asset_versions (
        asset_id         text NOT NULL REFERENCES staleness.assets (asset_id),
        version          integer NOT NULL CHECK (version >= 1),
        content_hash     char(64) NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
        uploaded_by      text NOT NULL,
        note             text NOT NULL DEFAULT '',
        created_at       timestamptz NOT NULL DEFAULT now(),
        -- The version this one followed; NULL for the first.
        previous_version integer,
        is_current       boolean NOT NULL DEFAULT false,
        -- ListVersions (newest first) and GetVersion.
        PRIMARY KEY (asset_id, version),
        FOREIGN KEY (asset_id, previous_version) REFERENCES staleness.asset_versions (asset_id, version),
        CONSTRAINT previous_is_earlier CHECK (previous_version < version)
      );
      -- PublishVersion idempotency (same hash → existing version) and receipt_version lookups by hash.
      CREATE UNIQUE INDEX asset_versions_hash_idx ON staleness.asset_versions (asset_id, content_hash) INCLUDE (version);
      -- At most one current version per asset, whatever the code does; also the "current version of asset" lookup
      -- every staleness query joins on.
      CREATE UNIQUE INDEX asset_versions_one_current_idx ON staleness.asset_versions (asset_id)
        INCLUDE (version, content_hash) WHERE is_current;

      -- Old versions stay forever.
      CREATE FUNCTION staleness.reject_version_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'asset versions are never deleted' USING ERRCODE = 'P0001', HINT = 'version_immutable';
      END $$;
      CREATE TRIGGER asset_versions_no_delete BEFORE DELETE ON staleness.asset_versions
        FOR EACH ROW EXECUTE FUNCTION staleness.reject_version_delete();
      CREATE TRIGGER asset_versions_no_truncate BEFORE TRUNCATE ON staleness.asset_versions
        FOR EACH STATEMENT EXECUTE FUNCTION staleness.reject_version_delete();

      -- Projection: one row per segment seen in a receipt event. Placement is NULL only while the segment
      -- is known solely as the target of a supersession that arrived before its own receipts.
      CREATE TABLE staleness.segments (
        segment_id                 text PRIMARY KEY,
        project_id                 text NOT NULL,
        scene_id                   text,
        character_name             text,
        sequence_index             integer,
        superseded_by_segment_id   text,
        -- The current receipt: latest SUCCEEDED by (created_at, receipt_id), the order receipts carry.
        current_receipt_id         text,
        current_receipt_created_at timestamptz,
        updated_at                 timestamptz NOT NULL DEFAULT now()
      );
      -- The report's count of active segments in a project.
      CREATE INDEX segments_active_project_idx ON staleness.segments (project_id, segment_id)
        WHERE superseded_by_segment_id IS NULL AND current_receipt_id IS NOT NULL;

      -- The inputs of each segment's current receipt (replaced when a later receipt succeeds). Placement and the
      -- active flag are copied from the segment (placement never changes; active only turns false, on supersession)
      -- so staleness queries read this table's indexes alone, without a join per segment.
      CREATE TABLE staleness.segment_inputs (
        segment_id   text NOT NULL REFERENCES staleness.segments (segment_id),
        role         text NOT NULL CHECK (role IN ('source_image', 'variant_image', 'workflow', 'model', 'lora')),
        -- 0 for single inputs; the LoRA's place in the stack.
        position     smallint NOT NULL CHECK (position >= 0),
        asset_id     text NOT NULL,
        content_hash char(64) NOT NULL,
        receipt_id   text NOT NULL,
        project_id   text NOT NULL,
        scene_id     text NOT NULL,
        active       boolean NOT NULL DEFAULT true,
        -- Replacing a segment's inputs, marking them inactive, and the reasons of ListStaleSegments.
        PRIMARY KEY (segment_id, role, position)
      );
      -- ListVersions usage counts per (asset, hash), superseded segments included.
      CREATE INDEX segment_inputs_asset_hash_idx ON staleness.segment_inputs (asset_id, content_hash) INCLUDE (segment_id);
      -- Staleness: for each current version, the active inputs of that asset (in one project) with another hash.
      -- Serves GetStalenessReport, ListStaleSegments and detection after a publish (which reads only this asset's range).
      CREATE INDEX segment_inputs_active_asset_idx ON staleness.segment_inputs (asset_id, project_id, content_hash)
        INCLUDE (segment_id, scene_id) WHERE active;
      -- The report's count of untracked inputs in one project.
      CREATE INDEX segment_inputs_active_project_idx ON staleness.segment_inputs (project_id, asset_id) WHERE active;
    `);

    // The service's role: append assets and versions, flip is_current, maintain the projection; no DELETE on versions.
    await q.query(`
      DO $$ BEGIN
        CREATE ROLE ${STALENESS_APP_ROLE} NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$;
      GRANT USAGE ON SCHEMA staleness TO ${STALENESS_APP_ROLE};
      GRANT SELECT, INSERT ON staleness.assets, staleness.asset_versions TO ${STALENESS_APP_ROLE};
      GRANT UPDATE (versions_changed_at) ON staleness.assets TO ${STALENESS_APP_ROLE};
      GRANT UPDATE (is_current) ON staleness.asset_versions TO ${STALENESS_APP_ROLE};
      GRANT SELECT, INSERT ON staleness.segments TO ${STALENESS_APP_ROLE};
      GRANT UPDATE (scene_id, character_name, sequence_index, superseded_by_segment_id, current_receipt_id,
                    current_receipt_created_at, updated_at)
        ON staleness.segments TO ${STALENESS_APP_ROLE};
      GRANT SELECT, INSERT, DELETE ON staleness.segment_inputs TO ${STALENESS_APP_ROLE};
      GRANT UPDATE (active) ON staleness.segment_inputs TO ${STALENESS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE staleness.segment_inputs;
      DROP TABLE staleness.segments;
      DROP TABLE staleness.asset_versions;
      DROP TABLE staleness.assets;
      DROP FUNCTION staleness.reject_version_delete();
    `);
  }
}
