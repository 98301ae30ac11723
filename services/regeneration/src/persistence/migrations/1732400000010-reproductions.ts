import type { MigrationInterface, QueryRunner } from "typeorm";
import { REGENERATION_APP_ROLE } from "./1732400000000-regeneration-schema.js";

/**
 * Reproductions (RegenerationService.ReproduceSegment): one job per idempotency key re-running one receipt with
 * exactly its inputs, advanced by the receipt events of its new receipt like a regeneration job, with the output hash
 * the verdict is taken from. A table of its own: a reproduction has no batch and replaces no segment, so it holds no
 * segment against regeneration (jobs_one_open_job_per_segment_idx does not apply to it).
 */
export class Reproductions1732400000010 implements MigrationInterface {
  name = "Reproductions1732400000010";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE regeneration.reproductions (
        -- Also the regeneration_job_id the pipeline records on the new receipt.
        job_id                 text PRIMARY KEY,
        -- Insertion order: newest first, keyset paging.
        seq                    bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        idempotency_key        text NOT NULL,
        -- What the request named (one of the two is ''), to tell a retry from a conflicting reuse of the key.
        requested_receipt_id   text NOT NULL,
        requested_segment_id   text NOT NULL,
        project_id             text NOT NULL,
        scene_id               text NOT NULL,
        -- The reproduced receipt and its segment (kept as they are).
        segment_id             text NOT NULL,
        receipt_id             text NOT NULL,
        new_segment_id         text NOT NULL UNIQUE,
        character_name         text NOT NULL,
        sequence_index         integer NOT NULL,
        -- The receipt's inputs as GenerationInputs proto JSON.
        inputs                 jsonb NOT NULL,
        expected_inputs_hash   char(64) NOT NULL,
        expected_output_hash   text NOT NULL,
        requested_by           text NOT NULL,
        -- The GpuTimeEstimate as proto JSON; NULL when none was made.
        gpu_estimate           jsonb,
        status                 text NOT NULL DEFAULT 'submitted'
                               CHECK (status IN ('submitted', 'running', 'succeeded', 'failed', 'inputs_mismatch')),
        new_receipt_id         text,
        new_receipt_created_at timestamptz,
        actual_inputs_hash     char(64),
        actual_output_hash     text,
        receipt_status         text CHECK (receipt_status IN ('RUNNING', 'SUCCEEDED', 'FAILED')),
        completed_at           timestamptz,
        created_at             timestamptz NOT NULL DEFAULT now(),
        updated_at             timestamptz NOT NULL DEFAULT now()
      );
      -- ReproduceSegment is idempotent per key.
      CREATE UNIQUE INDEX reproductions_idempotency_key_idx ON regeneration.reproductions (idempotency_key);
      -- ListReproductions of a project (of one receipt, of one segment), newest first.
      CREATE INDEX reproductions_project_idx ON regeneration.reproductions (project_id, seq DESC);
      CREATE INDEX reproductions_receipt_idx ON regeneration.reproductions (receipt_id, seq DESC);
      CREATE INDEX reproductions_segment_idx ON regeneration.reproductions (segment_id, seq DESC);

      GRANT SELECT, INSERT ON regeneration.reproductions TO ${REGENERATION_APP_ROLE};
      GRANT UPDATE (status, new_receipt_id, new_receipt_created_at, actual_inputs_hash, actual_output_hash, receipt_status,
                    completed_at, updated_at)
        ON regeneration.reproductions TO ${REGENERATION_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE regeneration.reproductions;`);
  }
}
