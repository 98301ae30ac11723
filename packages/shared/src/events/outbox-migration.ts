import type { MigrationInterface, QueryRunner } from "typeorm";
import type { MigrationClass } from "../db/database-options.js";
import { quoteIdentifier } from "../db/sql-identifier.js";

/**
 * A migration class named `name` (which must end in a 13-digit timestamp, as TypeORM requires; `maker` names the
 * function that was given a bad one) running `up` and `down`.
 */
function sqlMigration(
  maker: string,
  name: string,
  up: (q: QueryRunner) => Promise<void>,
  down: (q: QueryRunner) => Promise<void>,
): MigrationClass {
  if (!/\d{13}$/.test(name)) throw new Error(`${maker}: name "${name}" must end in a 13-digit timestamp`);
  const migration = class implements MigrationInterface {
    name = name;
    up = up;
    down = down;
  };
  // Readable in stack traces and TypeORM logs.
  Object.defineProperty(migration, "name", { value: name });
  return migration;
}

/** The default name (and timestamp) of the outbox migration; early, so it runs before a service's own. */
export const OUTBOX_MIGRATION_NAME = "Outbox1700000000000";

/**
 * A migration class creating `<schema>.outbox` (events awaiting relay to JetStream, in `seq`
 * order) and `<schema>.inbox` (event ids a consumer has processed). `name` must end in a
 * 13-digit timestamp, as TypeORM requires.
 */
export function outboxMigration(schema: string, name: string = OUTBOX_MIGRATION_NAME): MigrationClass {
  const s = quoteIdentifier(schema);
  return sqlMigration(
    "outboxMigration",
    name,
    async (q) => {
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
    },
    async (q) => {
      await q.query(`DROP TABLE ${s}.inbox`);
      await q.query(`DROP TABLE ${s}.outbox`);
    },
  );
}

/**
 * A migration class granting a service's app role what the outbox needs and nothing more: append
 * to the outbox and the inbox, mark outbox rows relayed, use the schema's sequences. It runs after
 * {@link outboxMigration} and after the migration that creates `role`.
 */
export function outboxGrantsMigration(schema: string, role: string, name: string): MigrationClass {
  const s = quoteIdentifier(schema);
  const r = quoteIdentifier(role);
  return sqlMigration(
    "outboxGrantsMigration",
    name,
    async (q) => {
      await q.query(`
        GRANT SELECT, INSERT ON ${s}.outbox, ${s}.inbox TO ${r};
        GRANT UPDATE (published_at) ON ${s}.outbox TO ${r};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${r};
      `);
    },
    async (q) => {
      await q.query(`REVOKE ALL ON ${s}.outbox, ${s}.inbox FROM ${r}`);
    },
  );
}

/**
 * A migration class making the relay delete what it has relayed instead of marking it: JetStream holds a relayed event
 * (the stream is the log; a receipt's state is in its own tables), so keeping the row only doubled every event's bytes
 * and, through the non-HOT `published_at` update, wrote each payload a second time with new index entries. Rows already
 * relayed are removed, `published_at` and its partial index go, and `role` may delete. Every row left is waiting;
 * `seq`'s unique index keeps the relay's order. The relay still claims rows with FOR UPDATE SKIP LOCKED, which
 * PostgreSQL allows only with UPDATE privilege on some column, so `role` keeps UPDATE on `id` and a trigger rejects
 * every update: an outbox row is written once and deleted once. Runs after {@link outboxGrantsMigration}.
 */
export function outboxDeletesRelayedMigration(schema: string, role: string, name: string): MigrationClass {
  const s = quoteIdentifier(schema);
  const r = quoteIdentifier(role);
  return sqlMigration(
    "outboxDeletesRelayedMigration",
    name,
    async (q) => {
      await q.query(`
        DELETE FROM ${s}.outbox WHERE published_at IS NOT NULL;
        DROP INDEX ${s}.outbox_unpublished_idx;
        ALTER TABLE ${s}.outbox DROP COLUMN published_at;
        GRANT DELETE, UPDATE (id) ON ${s}.outbox TO ${r};
        CREATE FUNCTION ${s}.outbox_reject_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'outbox rows are never updated: the relay deletes what JetStream acknowledged'
            USING ERRCODE = 'P0001', HINT = 'outbox_immutable';
        END $$;
        CREATE TRIGGER outbox_no_update BEFORE UPDATE ON ${s}.outbox
          FOR EACH ROW EXECUTE FUNCTION ${s}.outbox_reject_update();
      `);
    },
    async (q) => {
      await q.query(`
        DROP TRIGGER outbox_no_update ON ${s}.outbox;
        DROP FUNCTION ${s}.outbox_reject_update();
        REVOKE DELETE, UPDATE (id) ON ${s}.outbox FROM ${r};
        ALTER TABLE ${s}.outbox ADD COLUMN published_at timestamptz;
        CREATE INDEX outbox_unpublished_idx ON ${s}.outbox (seq) WHERE published_at IS NULL;
        GRANT UPDATE (published_at) ON ${s}.outbox TO ${r};
      `);
    },
  );
}

/**
 * A migration class adding `<schema>.outbox_attempts`: one row per batch the relay is about to publish (the seq range it
 * claimed and when), committed before the publish. A relay that dies after publishing and before its delete commits
 * leaves the rows and this record; when the rows are picked up again later than JetStream's duplicate window, the
 * record tells the relay they may already be on the stream, so it looks there before publishing them again (see
 * OutboxRelay) — exactly once for any length of outage. `role` may insert, read and delete these records. Runs after
 * {@link outboxDeletesRelayedMigration}.
 */
export function outboxAttemptsMigration(schema: string, role: string, name: string): MigrationClass {
  const s = quoteIdentifier(schema);
  const r = quoteIdentifier(role);
  return sqlMigration(
    "outboxAttemptsMigration",
    name,
    async (q) => {
      await q.query(`
        CREATE TABLE ${s}.outbox_attempts (
          first_seq    bigint NOT NULL,
          last_seq     bigint NOT NULL,
          attempted_at timestamptz NOT NULL DEFAULT now(),
          CHECK (first_seq <= last_seq)
        );
        CREATE INDEX outbox_attempts_range_idx ON ${s}.outbox_attempts (first_seq, last_seq);
        GRANT SELECT, INSERT, DELETE ON ${s}.outbox_attempts TO ${r};
      `);
    },
    async (q) => {
      await q.query(`DROP TABLE ${s}.outbox_attempts`);
    },
  );
}
