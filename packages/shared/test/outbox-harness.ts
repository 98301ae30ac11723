/** A schema with an outbox, run as a restricted role, and a fresh JetStream namespace, for outbox and consumer tests. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { DataSource, MigrationInterface, QueryRunner } from "typeorm";
import { pino } from "pino";
import { databaseUrlAs, ensureRole, migrateDatabase, openDatabase } from "../src/db/index.js";
import { outboxAttemptsMigration, outboxDeletesRelayedMigration, outboxMigration } from "../src/events/index.js";
import { createTestDatabase, createTestNats, type TestDatabase, type TestNats } from "../src/testing/index.js";

export const SCHEMA = "svc";

/** A restricted role with only what a service needs of its outbox and inbox. */
function grantsMigration(role: string) {
  return class implements MigrationInterface {
    name = "SvcGrants1710000000000";
    async up(q: QueryRunner): Promise<void> {
      await q.query(`CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)`);
      await ensureRole(q, role);
      await q.query(`GRANT SELECT, INSERT ON items, outbox, inbox TO "${role}"`);
      await q.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${SCHEMA} TO "${role}"`);
    }
    async down(): Promise<void> {}
  };
}

export interface OutboxHarness {
  db: TestDatabase;
  nats: TestNats;
  ds: DataSource;
  sql: pg.Client;
  role: string;
  close(): Promise<void>;
}

/** A silent logger unless LOG_LEVEL asks for more. */
export const testLogger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** Creates the database, migrates the outbox schema, opens it as the app role and connects NATS. */
export async function startOutboxHarness(): Promise<OutboxHarness> {
  const db = await createTestDatabase("outbox_test");
  const role = `t_svc_${randomBytes(4).toString("hex")}`;
  const opts = { url: db.url, schema: SCHEMA, migrations: [outboxMigration(SCHEMA), grantsMigration(role), outboxDeletesRelayedMigration(SCHEMA, role, "SvcOutboxDeletesRelayed1710000000001"), outboxAttemptsMigration(SCHEMA, role, "SvcOutboxAttempts1710000000002")], appRole: role };
  await migrateDatabase(opts);
  const ds = await openDatabase({ ...opts, url: databaseUrlAs(db.url, role) });
  const nats = await createTestNats();
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  return {
    db,
    nats,
    ds,
    sql,
    role,
    async close() {
      await sql.end();
      await ds.destroy();
      await nats.cleanup();
      await db.drop();
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/postgres" });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
      await admin.end();
    },
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes (default 15 s: it returns as soon as the check holds). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Outbox rows as stored, to put back later. */
export type OutboxRows = { id: string; seq: string; subject: string; payload: Buffer; headers: unknown }[];

/** Copies the outbox rows with these ids (all when omitted), so a test can put them back after the relay deleted them. */
export async function copyOutboxRows(sql: pg.Client, ids?: string[]): Promise<OutboxRows> {
  const { rows } = await sql.query(
    `SELECT id, seq::text AS seq, subject, payload, headers FROM ${SCHEMA}.outbox WHERE $1::uuid[] IS NULL OR id = ANY($1::uuid[]) ORDER BY seq`,
    [ids ?? null],
  );
  return rows as OutboxRows;
}

/** Puts copied rows back as they were, as a relay that published them but crashed before its delete committed leaves them. */
export async function restoreOutboxRows(sql: pg.Client, rows: OutboxRows): Promise<void> {
  for (const r of rows) {
    await sql.query(`INSERT INTO ${SCHEMA}.outbox (id, seq, subject, payload, headers) VALUES ($1, $2, $3, $4, $5)`, [
      r.id,
      r.seq,
      r.subject,
      r.payload,
      r.headers,
    ]);
  }
}
