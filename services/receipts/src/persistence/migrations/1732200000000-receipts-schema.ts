import type { MigrationInterface, QueryRunner } from "typeorm";
import { SERVICE_DATABASE_ROLES } from "@provenance/shared";

/** The login role the receipts service runs as (SERVICE_DATABASE_ROLES): read and append, complete once, never rewrite. */
export const RECEIPTS_APP_ROLE = SERVICE_DATABASE_ROLES.receipts;

/**
 * Segments, immutable generation receipts, and one normalised row per receipt input, with the
 * triggers and grants that make receipts immutable in the database itself.
 */
export class ReceiptsSchema1732200000000 implements MigrationInterface {
  name = "ReceiptsSchema1732200000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE receipts.segments (
        segment_id               text PRIMARY KEY,
        scene_id                 text NOT NULL,
        project_id               text NOT NULL,
        character_name           text NOT NULL,
        sequence_index           integer NOT NULL CHECK (sequence_index >= 0),
        supersedes_segment_id    text REFERENCES receipts.segments (segment_id),
        superseded_by_segment_id text REFERENCES receipts.segments (segment_id),
        superseded_at            timestamptz,
        created_at               timestamptz NOT NULL DEFAULT now()
      );
      -- Project and scene listings (GetStalenessReport joins, console project view).
      CREATE INDEX segments_project_scene_idx ON receipts.segments (project_id, scene_id, sequence_index);

      CREATE TABLE receipts.generation_receipts (
        receipt_id              uuid PRIMARY KEY,
        -- Monotonic order of receipts: "latest" and keyset paging.
        seq                     bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        segment_id              text NOT NULL REFERENCES receipts.segments (segment_id) ON DELETE CASCADE,
        workflow_version        text NOT NULL,
        prompt_text             text NOT NULL,
        negative_prompt         text NOT NULL,
        cfg_scale               double precision NOT NULL,
        -- Unsigned 64-bit: bigint would overflow above 2^63 - 1.
        seed                    numeric(20, 0) NOT NULL CHECK (seed >= 0 AND seed <= 18446744073709551615),
        steps                   integer NOT NULL CHECK (steps >= 1),
        sampler                 text NOT NULL,
        resolution_width        integer NOT NULL CHECK (resolution_width >= 1),
        resolution_height       integer NOT NULL CHECK (resolution_height >= 1),
        additional_params       jsonb NOT NULL DEFAULT '{}'::jsonb,
        inputs_hash             char(64) NOT NULL,
        status                  text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED')),
        generation_started_at   timestamptz NOT NULL,
        generation_completed_at timestamptz,
        generation_duration_ms  bigint,
        output_hash             text,
        regeneration_job_id     text,
        supersedes_segment_id   text,
        idempotency_key         text NOT NULL,
        -- SHA-256 of the canonical request, to tell a retry from a conflicting reuse of the key.
        request_fingerprint     char(64) NOT NULL,
        created_at              timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT completion_consistent CHECK (
          (status = 'RUNNING') = (generation_completed_at IS NULL)
        )
      );
      -- Idempotent CreateReceipt.
      CREATE UNIQUE INDEX generation_receipts_idempotency_key_idx ON receipts.generation_receipts (idempotency_key);
      -- Forward: GetSegmentProvenance history, newest first, one range scan per segment.
      CREATE INDEX generation_receipts_segment_idx ON receipts.generation_receipts (segment_id, seq DESC);
      -- FindReceiptsByInputsHash, paged by seq.
      CREATE INDEX generation_receipts_inputs_hash_idx ON receipts.generation_receipts (inputs_hash, seq DESC);
      -- Regeneration job lookups.
      CREATE INDEX generation_receipts_job_idx ON receipts.generation_receipts (regeneration_job_id)
        WHERE regeneration_job_id IS NOT NULL;

      CREATE TABLE receipts.receipt_inputs (
        receipt_id   uuid NOT NULL REFERENCES receipts.generation_receipts (receipt_id) ON DELETE CASCADE,
        -- Copied from the receipt (immutable) so reverse queries page on this table's index alone.
        receipt_seq  bigint NOT NULL,
        role         text NOT NULL CHECK (role IN ('source_image', 'variant_image', 'workflow', 'model', 'lora')),
        -- 0 for single inputs; the LoRA's place in the stack, in the order applied.
        position     smallint NOT NULL CHECK (position >= 0),
        asset_id     text NOT NULL,
        content_hash char(64) NOT NULL,
        -- The version label the pipeline sent; NULL when it sent none.
        version      integer CHECK (version >= 1),
        weight       double precision,
        PRIMARY KEY (receipt_id, role, position)
      );
      -- Reverse: GetAssetUsage by asset, newest first, keyset-paged.
      CREATE INDEX receipt_inputs_asset_idx ON receipts.receipt_inputs (asset_id, receipt_seq DESC);
      -- Reverse with a version filter, resolved to its content hash.
      CREATE INDEX receipt_inputs_asset_hash_idx ON receipts.receipt_inputs (asset_id, content_hash, receipt_seq DESC);

      -- Immutability: only the completion fields may be set, once, while unset.
      CREATE FUNCTION receipts.guard_receipt_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (NEW.receipt_id, NEW.seq, NEW.segment_id, NEW.workflow_version, NEW.prompt_text, NEW.negative_prompt,
            NEW.cfg_scale, NEW.seed, NEW.steps, NEW.sampler, NEW.resolution_width, NEW.resolution_height,
            NEW.additional_params, NEW.inputs_hash, NEW.generation_started_at, NEW.regeneration_job_id,
            NEW.supersedes_segment_id, NEW.idempotency_key, NEW.request_fingerprint, NEW.created_at)
           IS DISTINCT FROM
           (OLD.receipt_id, OLD.seq, OLD.segment_id, OLD.workflow_version, OLD.prompt_text, OLD.negative_prompt,
            OLD.cfg_scale, OLD.seed, OLD.steps, OLD.sampler, OLD.resolution_width, OLD.resolution_height,
            OLD.additional_params, OLD.inputs_hash, OLD.generation_started_at, OLD.regeneration_job_id,
            OLD.supersedes_segment_id, OLD.idempotency_key, OLD.request_fingerprint, OLD.created_at) THEN
          RAISE EXCEPTION 'generation receipt % is immutable: only completion fields may be set', OLD.receipt_id
            USING ERRCODE = 'P0001', HINT = 'receipt_immutable';
        END IF;
        IF OLD.status <> 'RUNNING' OR OLD.generation_completed_at IS NOT NULL THEN
          RAISE EXCEPTION 'generation receipt % is already completed', OLD.receipt_id
            USING ERRCODE = 'P0001', HINT = 'receipt_already_completed';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER generation_receipts_immutable BEFORE UPDATE ON receipts.generation_receipts
        FOR EACH ROW EXECUTE FUNCTION receipts.guard_receipt_update();

      -- Receipts and their inputs disappear only with their segment (the cascade runs at trigger depth > 1).
      CREATE FUNCTION receipts.guard_receipt_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF pg_trigger_depth() < 2 THEN
          RAISE EXCEPTION '% rows are immutable and cannot be deleted', TG_TABLE_NAME
            USING ERRCODE = 'P0001', HINT = 'receipt_immutable';
        END IF;
        RETURN OLD;
      END $$;
      CREATE TRIGGER generation_receipts_no_delete BEFORE DELETE ON receipts.generation_receipts
        FOR EACH ROW EXECUTE FUNCTION receipts.guard_receipt_delete();
      CREATE TRIGGER receipt_inputs_no_delete BEFORE DELETE ON receipts.receipt_inputs
        FOR EACH ROW EXECUTE FUNCTION receipts.guard_receipt_delete();

      CREATE FUNCTION receipts.reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'P0001', HINT = 'receipt_immutable';
      END $$;
      CREATE TRIGGER receipt_inputs_no_update BEFORE UPDATE ON receipts.receipt_inputs
        FOR EACH ROW EXECUTE FUNCTION receipts.reject_change();
      CREATE TRIGGER generation_receipts_no_truncate BEFORE TRUNCATE ON receipts.generation_receipts
        FOR EACH STATEMENT EXECUTE FUNCTION receipts.reject_change();
      CREATE TRIGGER receipt_inputs_no_truncate BEFORE TRUNCATE ON receipts.receipt_inputs
        FOR EACH STATEMENT EXECUTE FUNCTION receipts.reject_change();

      -- A segment keeps its place; it can only be marked superseded, once.
      CREATE FUNCTION receipts.guard_segment_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (NEW.segment_id, NEW.scene_id, NEW.project_id, NEW.character_name, NEW.sequence_index,
            NEW.supersedes_segment_id, NEW.created_at)
           IS DISTINCT FROM
           (OLD.segment_id, OLD.scene_id, OLD.project_id, OLD.character_name, OLD.sequence_index,
            OLD.supersedes_segment_id, OLD.created_at)
           OR OLD.superseded_by_segment_id IS NOT NULL THEN
          RAISE EXCEPTION 'segment % can only be marked superseded, once', OLD.segment_id
            USING ERRCODE = 'P0001', HINT = 'segment_immutable';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER segments_guard BEFORE UPDATE ON receipts.segments
        FOR EACH ROW EXECUTE FUNCTION receipts.guard_segment_update();
    `);

    // The service's role: no DELETE, no TRUNCATE, UPDATE only of the columns the rules allow.
    await q.query(`
      DO $$ BEGIN
        CREATE ROLE ${RECEIPTS_APP_ROLE} NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$;
      GRANT USAGE ON SCHEMA receipts TO ${RECEIPTS_APP_ROLE};
      GRANT SELECT, INSERT ON receipts.segments, receipts.generation_receipts, receipts.receipt_inputs
        TO ${RECEIPTS_APP_ROLE};
      GRANT UPDATE (superseded_by_segment_id, superseded_at) ON receipts.segments TO ${RECEIPTS_APP_ROLE};
      GRANT UPDATE (status, generation_completed_at, generation_duration_ms, output_hash)
        ON receipts.generation_receipts TO ${RECEIPTS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE receipts.receipt_inputs;
      DROP TABLE receipts.generation_receipts;
      DROP TABLE receipts.segments;
      DROP FUNCTION receipts.guard_receipt_update();
      DROP FUNCTION receipts.guard_receipt_delete();
      DROP FUNCTION receipts.reject_change();
      DROP FUNCTION receipts.guard_segment_update();
    `);
  }
}
