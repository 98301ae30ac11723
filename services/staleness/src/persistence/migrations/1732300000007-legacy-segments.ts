import type { MigrationInterface, QueryRunner } from "typeorm";
import { STALENESS_APP_ROLE } from "./1732300000000-staleness-schema.js";

/**
 * Which projected segments have a LEGACY receipt (ReceiptService.ImportLegacySegments: made before receipts were
 * recorded): set by the projection when such a receipt arrives, never cleared. A LEGACY receipt never becomes current,
 * so such a segment has no inputs here and is never stale nor fresh; the report counts those with no current receipt
 * as its legacy_segments.
 */
export class LegacySegments1732300000007 implements MigrationInterface {
  name = "LegacySegments1732300000007";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE staleness.segments ADD COLUMN legacy boolean NOT NULL DEFAULT false;
      -- The report's count of active legacy-only segments in a project.
      CREATE INDEX segments_legacy_project_idx ON staleness.segments (project_id)
        WHERE legacy AND superseded_by_segment_id IS NULL AND current_receipt_id IS NULL;
      GRANT UPDATE (legacy) ON staleness.segments TO ${STALENESS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      REVOKE UPDATE (legacy) ON staleness.segments FROM ${STALENESS_APP_ROLE};
      DROP INDEX staleness.segments_legacy_project_idx;
      ALTER TABLE staleness.segments DROP COLUMN legacy;
    `);
  }
}
