import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * ListSegments pages a project's segments in (scene id, sequence index, segment id) order and ListProjects walks
 * projects in id order: one index in exactly that order lets both read a page as one ordered range scan that stops
 * at the page's end (segment_id breaks ties of sequence_index, so no sort is needed). It replaces
 * segments_project_scene_idx, a prefix of it, so segment inserts still maintain one secondary index.
 */
export class SegmentsListingIndex1732200000300 implements MigrationInterface {
  name = "SegmentsListingIndex1732200000300";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX segments_listing_idx ON receipts.segments (project_id, scene_id, sequence_index, segment_id);
      DROP INDEX receipts.segments_project_scene_idx;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX segments_project_scene_idx ON receipts.segments (project_id, scene_id, sequence_index);
      DROP INDEX receipts.segments_listing_idx;
    `);
  }
}
