import type { MigrationInterface, QueryRunner } from "typeorm";
import { SERVICE_DATABASE_ROLES } from "@provenance/shared";

/** The login role the regeneration service runs as (SERVICE_DATABASE_ROLES): create batches and jobs, advance job progress, nothing else. */
export const REGENERATION_APP_ROLE = SERVICE_DATABASE_ROLES.regeneration;

/** Regeneration batches (one per idempotency key) and their jobs (one per stale segment to replace). */
export class RegenerationSchema1732400000000 implements MigrationInterface {
  name = "RegenerationSchema1732400000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE regeneration.batches (
        batch_id        text PRIMARY KEY,
        project_id      text NOT NULL,
        -- SubmitRegeneration is idempotent per key: the unique index is what makes a concurrent retry safe.
        idempotency_key text NOT NULL,
        requested_by    text NOT NULL,
        -- The normalised selection (project_id, segment_ids, scene_ids, asset_id), to tell a retry from a conflicting reuse.
        selection       jsonb NOT NULL,
        job_count       integer NOT NULL CHECK (job_count >= 0),
        created_at      timestamptz NOT NULL DEFAULT now()
      );
      -- SubmitRegeneration: find the batch of an idempotency key.
      CREATE UNIQUE INDEX batches_idempotency_key_idx ON regeneration.batches (idempotency_key);
      -- A project's batches, newest first (console history).
      CREATE INDEX batches_project_idx ON regeneration.batches (project_id, created_at DESC);

      CREATE TABLE regeneration.jobs (
        -- Also the regeneration_job_id the pipeline records on the new receipt: the lifecycle consumer's lookup.
        job_id                 text PRIMARY KEY,
        -- Insertion order, for stable keyset paging.
        seq                    bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        batch_id               text NOT NULL REFERENCES regeneration.batches (batch_id),
        project_id             text NOT NULL,
        scene_id               text NOT NULL,
        old_segment_id         text NOT NULL,
        old_receipt_id         text NOT NULL,
        -- Assigned here; the pipeline records the new receipt under it.
        new_segment_id         text NOT NULL UNIQUE,
        -- The PlannedJob as proto JSON: inputs with stale assets swapped, and the swapped reasons.
        plan                   jsonb NOT NULL,
        expected_inputs_hash   char(64) NOT NULL,
        status                 text NOT NULL DEFAULT 'submitted'
                               CHECK (status IN ('submitted', 'running', 'succeeded', 'failed', 'inputs_mismatch')),
        new_receipt_id         text,
        new_receipt_created_at timestamptz,
        actual_inputs_hash     char(64),
        receipt_status         text CHECK (receipt_status IN ('RUNNING', 'SUCCEEDED', 'FAILED')),
        error                  text NOT NULL DEFAULT '',
        completed_at           timestamptz,
        created_at             timestamptz NOT NULL DEFAULT now(),
        updated_at             timestamptz NOT NULL DEFAULT now()
      );
      -- GetRegenerationBatch (jobs and counts of one batch) and ListRegenerationJobs by batch, paged by seq.
      CREATE INDEX jobs_batch_idx ON regeneration.jobs (batch_id, seq);
      -- ListRegenerationJobs by project, paged by seq.
      CREATE INDEX jobs_project_idx ON regeneration.jobs (project_id, seq);
      -- ListRegenerationJobs by project and status, paged by seq.
      CREATE INDEX jobs_project_status_idx ON regeneration.jobs (project_id, status, seq);
      -- PlanRegeneration: which selected segments already have a job in flight (skipped, not submitted twice).
      CREATE INDEX jobs_open_old_segment_idx ON regeneration.jobs (old_segment_id)
        WHERE status IN ('submitted', 'running');
    `);

    await q.query(`
      DO $$ BEGIN
        CREATE ROLE ${REGENERATION_APP_ROLE} NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$;
      GRANT USAGE ON SCHEMA regeneration TO ${REGENERATION_APP_ROLE};
      GRANT SELECT, INSERT ON regeneration.batches, regeneration.jobs TO ${REGENERATION_APP_ROLE};
      GRANT UPDATE (status, new_receipt_id, new_receipt_created_at, actual_inputs_hash, receipt_status, error,
                    completed_at, updated_at)
        ON regeneration.jobs TO ${REGENERATION_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE regeneration.jobs;
      DROP TABLE regeneration.batches;
    `);
  }
}
