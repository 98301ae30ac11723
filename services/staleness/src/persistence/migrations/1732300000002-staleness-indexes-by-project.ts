import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Re-keys the staleness indexes of `segment_inputs` on the project, so that one project's staleness is read range by
 * range instead of input by input:
 *
 * - `segment_inputs_active_project_asset_idx (project_id, asset_id, content_hash, segment_id) INCLUDE (scene_id)`:
 *   the (asset, hash) pairs a project used come from a loose index scan, and each pair that is not its asset's current
 *   version is one ordered, index-only range of segment ids. Serves GetStalenessReport, ListStaleSegments and the
 *   per-project step of detection. It replaces `segment_inputs_active_project_idx (project_id, asset_id)`, its prefix.
 * - `segment_inputs_active_asset_project_idx (asset_id, project_id)`: the projects an asset is used in (a loose index
 *   scan for detection and for ListStaleSegments by asset) and how many inputs each has. Small: its keys repeat, so
 *   B-tree deduplication stores one key per project. It replaces the wide `segment_inputs_active_asset_idx (asset_id,
 *   project_id, content_hash) INCLUDE (segment_id, scene_id)`, whose work the index above now does.
 *
 * The number of indexes the projection maintains is unchanged. CREATE INDEX blocks the projection's writes while it
 * builds (tens of seconds at millions of inputs); the projection's durable consumer catches up afterwards.
 */
export class StalenessIndexesByProject1732300000002 implements MigrationInterface {
  name = "StalenessIndexesByProject1732300000002";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX segment_inputs_active_project_asset_idx ON staleness.segment_inputs (project_id, asset_id, content_hash, segment_id)
        INCLUDE (scene_id) WHERE active;
      CREATE INDEX segment_inputs_active_asset_project_idx ON staleness.segment_inputs (asset_id, project_id) WHERE active;
      DROP INDEX staleness.segment_inputs_active_asset_idx;
      DROP INDEX staleness.segment_inputs_active_project_idx;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX segment_inputs_active_asset_idx ON staleness.segment_inputs (asset_id, project_id, content_hash)
        INCLUDE (segment_id, scene_id) WHERE active;
      CREATE INDEX segment_inputs_active_project_idx ON staleness.segment_inputs (project_id, asset_id) WHERE active;
      DROP INDEX staleness.segment_inputs_active_asset_project_idx;
      DROP INDEX staleness.segment_inputs_active_project_asset_idx;
    `);
  }
}
