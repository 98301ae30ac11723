import type { MigrationInterface, QueryRunner } from "typeorm";
import type { MigrationClass } from "../db/database-options.js";
import { quoteIdentifier } from "../db/sql-identifier.js";

/** The default name (and timestamp) of the outbox migration; early, so it runs before a service's own. */
export const OUTBOX_MIGRATION_NAME = "Outbox1700000000000";

/**
 * A migration class creating `<schema>.outbox` (events awaiting relay to JetStream, in `seq`
 * order) and `<schema>.inbox` (event ids a consumer has processed). `name` must end in a
 * 13-digit timestamp, as TypeORM requires.
 */
export function outboxMigration(schema: string, name: string = OUTBOX_MIGRATION_NAME): MigrationClass {
  if (!/\d{13}$/.test(name)) throw new Error(`outboxMigration: name "${name}" must end in a 13-digit timestamp`);
  const s = quoteIdentifier(schema);
  const migration = class implements MigrationInterface {
    name = name;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        CREATE TABLE ${s}.outbox (
          id           uuid PRIMARY KEY,
          seq          bigserial UNIQUE,
          subject      text NOT NULL,
          payload      bytea NOT NULL,
          headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
          created_at   timestamptz NOT NULL DEFAULT now(),
          published_at timestamptz
        )`);
      // The relay's only scan: what is still unpublished, oldest first.
      await q.query(`CREATE INDEX outbox_unpublished_idx ON ${s}.outbox (seq) WHERE published_at IS NULL`);
      await q.query(`
        CREATE TABLE ${s}.inbox (
          consumer     text NOT NULL,
          event_id     text NOT NULL,
          processed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (consumer, event_id)
        )`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`DROP TABLE ${s}.inbox`);
      await q.query(`DROP TABLE ${s}.outbox`);
    }
  };
  // Readable in stack traces and TypeORM logs.
  Object.defineProperty(migration, "name", { value: name });
  return migration;
}

/**
 * A migration class granting a service's app role what the outbox needs and nothing more: append
 * to the outbox and the inbox, mark outbox rows relayed, use the schema's sequences. It runs after
 * {@link outboxMigration} and after the migration that creates `role`.
 */
export function outboxGrantsMigration(schema: string, role: string, name: string): MigrationClass {
  if (!/\d{13}$/.test(name)) throw new Error(`outboxGrantsMigration: name "${name}" must end in a 13-digit timestamp`);
  const s = quoteIdentifier(schema);
  const r = quoteIdentifier(role);
  const migration = class implements MigrationInterface {
    name = name;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        GRANT SELECT, INSERT ON ${s}.outbox, ${s}.inbox TO ${r};
        GRANT UPDATE (published_at) ON ${s}.outbox TO ${r};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${r};
      `);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`REVOKE ALL ON ${s}.outbox, ${s}.inbox FROM ${r}`);
    }
  };
  Object.defineProperty(migration, "name", { value: name });
  return migration;
}
