import type { MigrationInterface, QueryRunner } from "typeorm";
import { STALENESS_APP_ROLE } from "./1732300000000-staleness-schema.js";

/** Lets the service role append to the outbox, mark rows relayed, and record processed events. */
export class StalenessOutboxGrants1732300000001 implements MigrationInterface {
  name = "StalenessOutboxGrants1732300000001";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      GRANT SELECT, INSERT ON staleness.outbox, staleness.inbox TO ${STALENESS_APP_ROLE};
      GRANT UPDATE (published_at) ON staleness.outbox TO ${STALENESS_APP_ROLE};
      GRANT USAGE ON ALL SEQUENCES IN SCHEMA staleness TO ${STALENESS_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON staleness.outbox, staleness.inbox FROM ${STALENESS_APP_ROLE}`);
  }
}
