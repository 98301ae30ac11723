import type { MigrationInterface, QueryRunner } from "typeorm";
import { RECEIPTS_APP_ROLE } from "./1732200000000-receipts-schema.js";

/**
 * GetGenerationDurations reads the latest matching SUCCEEDED receipts of a model (with a workflow, resolution and
 * steps). Walked through receipt_inputs, each candidate costs a lookup of its receipt and the scan runs through every
 * receipt of the model until 1,000 match: measured 0.7-5 s for one key at 50,000 receipts per model. This narrow table
 * holds one row per SUCCEEDED receipt with exactly what a key filters on, in indexes whose order is the answer's
 * (newest first), so each key is one range scan of at most 1,000 index entries. It is derived data, kept by the
 * database: a trigger adds the row when a receipt completes SUCCEEDED (the only way a receipt gets a duration), the
 * receipt's deletion (its segment's cascade) removes it; existing receipts are backfilled here.
 */
export class GenerationDurations1732200000800 implements MigrationInterface {
  name = "GenerationDurations1732200000800";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE receipts.generation_durations (
        receipt_seq        bigint PRIMARY KEY REFERENCES receipts.generation_receipts (seq) ON DELETE CASCADE,
        project_id         text NOT NULL,
        -- The asset ids of the receipt's model and workflow inputs ('' when it has none).
        model_asset_id     text NOT NULL,
        workflow_asset_id  text NOT NULL,
        resolution_width   integer NOT NULL,
        resolution_height  integer NOT NULL,
        steps              integer NOT NULL,
        duration_ms        bigint NOT NULL
      );
      -- A key with every setting: one range scan, newest first.
      CREATE INDEX generation_durations_settings_idx ON receipts.generation_durations
        (model_asset_id, workflow_asset_id, resolution_width, resolution_height, steps, receipt_seq DESC) INCLUDE (duration_ms, project_id);
      -- A key with only the model.
      CREATE INDEX generation_durations_model_idx ON receipts.generation_durations
        (model_asset_id, receipt_seq DESC) INCLUDE (duration_ms, project_id);

      CREATE FUNCTION receipts.record_generation_duration() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO receipts.generation_durations
          (receipt_seq, project_id, model_asset_id, workflow_asset_id, resolution_width, resolution_height, steps, duration_ms)
        SELECT NEW.seq, s.project_id, COALESCE(m.asset_id, ''), COALESCE(w.asset_id, ''), NEW.resolution_width,
               NEW.resolution_height, NEW.steps, NEW.generation_duration_ms
          FROM receipts.segments s
          LEFT JOIN receipts.receipt_inputs m ON m.receipt_id = NEW.receipt_id AND m.role = 'model' AND m.position = 0
          LEFT JOIN receipts.receipt_inputs w ON w.receipt_id = NEW.receipt_id AND w.role = 'workflow' AND w.position = 0
         WHERE s.segment_id = NEW.segment_id
        ON CONFLICT (receipt_seq) DO NOTHING;
        RETURN NULL;
      END $$;
      CREATE TRIGGER generation_receipts_record_duration AFTER UPDATE OF status ON receipts.generation_receipts
        FOR EACH ROW WHEN (NEW.status = 'SUCCEEDED' AND OLD.status IS DISTINCT FROM 'SUCCEEDED' AND NEW.generation_duration_ms IS NOT NULL)
        EXECUTE FUNCTION receipts.record_generation_duration();

      INSERT INTO receipts.generation_durations
        (receipt_seq, project_id, model_asset_id, workflow_asset_id, resolution_width, resolution_height, steps, duration_ms)
      SELECT r.seq, s.project_id, COALESCE(m.asset_id, ''), COALESCE(w.asset_id, ''), r.resolution_width, r.resolution_height,
             r.steps, r.generation_duration_ms
        FROM receipts.generation_receipts r
        JOIN receipts.segments s ON s.segment_id = r.segment_id
        LEFT JOIN receipts.receipt_inputs m ON m.receipt_id = r.receipt_id AND m.role = 'model' AND m.position = 0
        LEFT JOIN receipts.receipt_inputs w ON w.receipt_id = r.receipt_id AND w.role = 'workflow' AND w.position = 0
       WHERE r.status = 'SUCCEEDED' AND r.generation_duration_ms IS NOT NULL;

      -- The trigger runs as the service's role, which completes receipts.
      GRANT SELECT, INSERT ON receipts.generation_durations TO ${RECEIPTS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER generation_receipts_record_duration ON receipts.generation_receipts;
      DROP FUNCTION receipts.record_generation_duration();
      DROP TABLE receipts.generation_durations;
    `);
  }
}
