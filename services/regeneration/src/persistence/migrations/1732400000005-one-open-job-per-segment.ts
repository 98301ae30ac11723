import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * At most one open job (`submitted` or `running`) per old segment, enforced by the database: two SubmitRegeneration
 * calls with different keys that race past each other's in-flight check cannot both commit a job for one segment —
 * the second insert waits for the first transaction and fails on this index when it commits. Also indexes every job
 * by its old segment, for the in-flight check (which reads a segment's jobs of any status).
 */
export class OneOpenJobPerSegment1732400000005 implements MigrationInterface {
  name = "OneOpenJobPerSegment1732400000005";

  async up(q: QueryRunner): Promise<void> {
    // A database that already holds the race's result cannot take the index; say which segments, change nothing.
    await q.query(`
      DO $$
      DECLARE
        doubled text;
      BEGIN
        SELECT string_agg(format('%s (%s open jobs)', old_segment_id, n), ', ') INTO doubled
          FROM (SELECT old_segment_id, count(*) AS n FROM regeneration.jobs
                 WHERE status IN ('submitted', 'running')
                 GROUP BY old_segment_id HAVING count(*) > 1
                 ORDER BY old_segment_id LIMIT 20) d;
        IF doubled IS NOT NULL THEN
          RAISE EXCEPTION 'regeneration.jobs has segments with more than one open job: %', doubled
            USING HINT = 'Decide which job of each segment stands (e.g. wait for the pipeline to complete one), then migrate again.';
        END IF;
      END $$;
    `);
    await q.query(`
      -- The rule of domain/open-jobs.ts OPEN_JOB_STATUSES: one open job per old segment.
      CREATE UNIQUE INDEX jobs_one_open_job_per_segment_idx ON regeneration.jobs (old_segment_id)
        WHERE status IN ('submitted', 'running');
      -- Superseded by the unique index above (same key, same predicate).
      DROP INDEX regeneration.jobs_open_old_segment_idx;
      -- The in-flight check: every job of the planned segments, whatever its status.
      CREATE INDEX jobs_old_segment_idx ON regeneration.jobs (old_segment_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX regeneration.jobs_old_segment_idx;
      CREATE INDEX jobs_open_old_segment_idx ON regeneration.jobs (old_segment_id)
        WHERE status IN ('submitted', 'running');
      DROP INDEX regeneration.jobs_one_open_job_per_segment_idx;
    `);
  }
}
