import type { MigrationInterface, QueryRunner } from "typeorm";
import { STALENESS_APP_ROLE } from "./1732300000000-staleness-schema.js";

/**
 * The detection queue. A change of an asset's current version inserts a task in its own transaction; after commit the
 * detector works through it project by project, recording each project it has enqueued an event for, so a task
 * interrupted anywhere resumes without repeating or skipping a project.
 */
export class DetectionTasks1732300000003 implements MigrationInterface {
  name = "DetectionTasks1732300000003";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE staleness.detection_tasks (
        -- Taken while the change holds its asset's row lock, so one asset's tasks are numbered in commit order.
        task_id               bigserial PRIMARY KEY,
        asset_id              text NOT NULL REFERENCES staleness.assets (asset_id),
        -- 0 and '' when the asset had no current version before.
        previous_version      integer NOT NULL CHECK (previous_version >= 0),
        previous_content_hash text NOT NULL,
        current_version       integer NOT NULL CHECK (current_version >= 1),
        current_content_hash  text NOT NULL,
        -- The request that made the change; stamped on the events the task produces.
        request_id            text NOT NULL DEFAULT '',
        -- Written by the change's last statement, just before its commit: detection latency is measured from here.
        created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
        finished_at           timestamptz
      );
      -- The detector's queue: unfinished tasks, per asset in commit order.
      CREATE INDEX detection_tasks_unfinished_idx ON staleness.detection_tasks (asset_id, task_id) WHERE finished_at IS NULL;

      -- One row per project a task has dealt with, inserted by the transaction that enqueued that project's event
      -- (the primary key is the backstop against enqueueing it twice).
      CREATE TABLE staleness.detection_task_projects (
        task_id              bigint NOT NULL REFERENCES staleness.detection_tasks (task_id),
        project_id           text NOT NULL,
        -- NULL when nothing of the project was affected any more by the time it was reached.
        event_id             uuid,
        detection_latency_ms integer,
        done_at              timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (task_id, project_id)
      );

      GRANT SELECT, INSERT ON staleness.detection_tasks, staleness.detection_task_projects TO ${STALENESS_APP_ROLE};
      GRANT UPDATE (finished_at) ON staleness.detection_tasks TO ${STALENESS_APP_ROLE};
      GRANT USAGE ON SEQUENCE staleness.detection_tasks_task_id_seq TO ${STALENESS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE staleness.detection_task_projects;
      DROP TABLE staleness.detection_tasks;
    `);
  }
}
