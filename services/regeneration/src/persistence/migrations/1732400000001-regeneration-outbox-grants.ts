import type { MigrationInterface, QueryRunner } from "typeorm";
import { REGENERATION_APP_ROLE } from "./1732400000000-regeneration-schema.js";

/** Lets the service role append to the outbox and inbox and mark outbox rows relayed, and nothing more. */
export class RegenerationOutboxGrants1732400000001 implements MigrationInterface {
  name = "RegenerationOutboxGrants1732400000001";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      GRANT SELECT, INSERT ON regeneration.outbox, regeneration.inbox TO ${REGENERATION_APP_ROLE};
      GRANT UPDATE (published_at) ON regeneration.outbox TO ${REGENERATION_APP_ROLE};
      GRANT USAGE ON ALL SEQUENCES IN SCHEMA regeneration TO ${REGENERATION_APP_ROLE};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON regeneration.outbox, regeneration.inbox FROM ${REGENERATION_APP_ROLE}`);
  }
}
