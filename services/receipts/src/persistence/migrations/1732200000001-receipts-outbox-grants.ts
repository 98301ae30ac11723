import type { MigrationInterface, QueryRunner } from "typeorm";
import { RECEIPTS_APP_ROLE } from "./1732200000000-receipts-schema.js";

/** Lets the service role append to the outbox and mark rows relayed, and nothing more. */
export class ReceiptsOutboxGrants1732200000001 implements MigrationInterface {
  name = "ReceiptsOutboxGrants1732200000001";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      GRANT SELECT, INSERT ON receipts.outbox, receipts.inbox TO ${RECEIPTS_APP_ROLE};
      GRANT UPDATE (published_at) ON receipts.outbox TO ${RECEIPTS_APP_ROLE};
      GRANT USAGE ON ALL SEQUENCES IN SCHEMA receipts TO ${RECEIPTS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON receipts.outbox, receipts.inbox FROM ${RECEIPTS_APP_ROLE}`);
  }
}
