import type { MigrationInterface, QueryRunner } from "typeorm";
import { RECEIPTS_APP_ROLE } from "./1732200000000-receipts-schema.js";

/**
 * LEGACY receipts (ImportLegacySegments): segments made before receipts were recorded, with whatever is known of
 * them. Status `LEGACY`, born complete (its completion fields set at insert, never updated: the immutability trigger
 * refuses any update of a receipt that is not RUNNING); `missing_fields` lists what is not known, whose values are
 * stored as zero values: steps and resolution may be 0, the inputs hash NULL, an input's content hash NULL — only for
 * a LEGACY receipt (an input's hash is checked by the service, which has the receipt at hand; the table of inputs has
 * no status).
 *
 * The service role may now insert `status`, `generation_completed_at`, `output_hash` and `missing_fields`; a trigger
 * keeps every receipt it inserts either RUNNING with no completion, or LEGACY, so no receipt is born SUCCEEDED or
 * FAILED. `missing_fields` never changes, and no receipt becomes or stops being LEGACY (its own trigger, so this
 * migration does not restate the column list of `guard_receipt_update`).
 */
export class LegacyReceipts1732200000600 implements MigrationInterface {
  name = "LegacyReceipts1732200000600";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE receipts.generation_receipts
        ADD COLUMN missing_fields text[] NOT NULL DEFAULT '{}',
        DROP CONSTRAINT generation_receipts_status_check,
        DROP CONSTRAINT generation_receipts_steps_check,
        DROP CONSTRAINT generation_receipts_resolution_width_check,
        DROP CONSTRAINT generation_receipts_resolution_height_check,
        ALTER COLUMN inputs_hash DROP NOT NULL,
        ADD CONSTRAINT generation_receipts_status_check CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'LEGACY')),
        ADD CONSTRAINT generation_receipts_steps_check CHECK (steps >= 1 OR (status = 'LEGACY' AND steps = 0)),
        ADD CONSTRAINT generation_receipts_resolution_width_check
          CHECK (resolution_width >= 1 OR (status = 'LEGACY' AND resolution_width = 0)),
        ADD CONSTRAINT generation_receipts_resolution_height_check
          CHECK (resolution_height >= 1 OR (status = 'LEGACY' AND resolution_height = 0)),
        ADD CONSTRAINT generation_receipts_inputs_hash_known CHECK (inputs_hash IS NOT NULL OR status = 'LEGACY'),
        ADD CONSTRAINT generation_receipts_missing_only_legacy CHECK (status = 'LEGACY' OR cardinality(missing_fields) = 0);
      ALTER TABLE receipts.receipt_inputs ALTER COLUMN content_hash DROP NOT NULL;

      CREATE FUNCTION receipts.guard_receipt_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT ((NEW.status = 'RUNNING' AND NEW.output_hash IS NULL AND NEW.generation_duration_ms IS NULL)
                OR NEW.status = 'LEGACY') THEN
          RAISE EXCEPTION 'a new generation receipt is RUNNING with no completion, or LEGACY; got %', NEW.status
            USING ERRCODE = 'P0001', HINT = 'receipt_immutable';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER generation_receipts_insert_guard BEFORE INSERT ON receipts.generation_receipts
        FOR EACH ROW EXECUTE FUNCTION receipts.guard_receipt_insert();

      CREATE FUNCTION receipts.guard_legacy_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'generation receipt % is immutable: only completion fields may be set', OLD.receipt_id
          USING ERRCODE = 'P0001', HINT = 'receipt_immutable';
      END $$;
      CREATE TRIGGER generation_receipts_legacy_immutable BEFORE UPDATE ON receipts.generation_receipts
        FOR EACH ROW WHEN (OLD.missing_fields IS DISTINCT FROM NEW.missing_fields
                           OR (OLD.status = 'LEGACY') IS DISTINCT FROM (NEW.status = 'LEGACY'))
        EXECUTE FUNCTION receipts.guard_legacy_update();

      GRANT INSERT (status, generation_completed_at, output_hash, missing_fields)
        ON receipts.generation_receipts TO ${RECEIPTS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      REVOKE INSERT (status, generation_completed_at, output_hash, missing_fields)
        ON receipts.generation_receipts FROM ${RECEIPTS_APP_ROLE};
      DROP TRIGGER generation_receipts_legacy_immutable ON receipts.generation_receipts;
      DROP FUNCTION receipts.guard_legacy_update();
      DROP TRIGGER generation_receipts_insert_guard ON receipts.generation_receipts;
      DROP FUNCTION receipts.guard_receipt_insert();
      ALTER TABLE receipts.receipt_inputs ALTER COLUMN content_hash SET NOT NULL;
      ALTER TABLE receipts.generation_receipts
        DROP CONSTRAINT generation_receipts_missing_only_legacy,
        DROP CONSTRAINT generation_receipts_inputs_hash_known,
        DROP CONSTRAINT generation_receipts_resolution_height_check,
        DROP CONSTRAINT generation_receipts_resolution_width_check,
        DROP CONSTRAINT generation_receipts_steps_check,
        DROP CONSTRAINT generation_receipts_status_check,
        ALTER COLUMN inputs_hash SET NOT NULL,
        ADD CONSTRAINT generation_receipts_status_check CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED')),
        ADD CONSTRAINT generation_receipts_steps_check CHECK (steps >= 1),
        ADD CONSTRAINT generation_receipts_resolution_width_check CHECK (resolution_width >= 1),
        ADD CONSTRAINT generation_receipts_resolution_height_check CHECK (resolution_height >= 1),
        DROP COLUMN missing_fields;
    `);
  }
}
