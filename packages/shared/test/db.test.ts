import { randomBytes } from "node:crypto";
import pg from "pg";
import type { MigrationInterface, QueryRunner } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDatabase, databaseUrlAs, ensureRole, migrateDatabase, openDatabase } from "../src/db/index.js";
import { outboxMigration } from "../src/events/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing/index.js";

const role = `t_app_${randomBytes(4).toString("hex")}`;

function widgetsMigration(schema: string) {
  return class implements MigrationInterface {
    name = "Widgets1710000000000";
    async up(q: QueryRunner): Promise<void> {
      // Unqualified on purpose: migrations run with search_path on their schema.
      await q.query(`CREATE TABLE widgets (id int PRIMARY KEY, label text NOT NULL)`);
      // Sleep a little so concurrent runs really overlap.
      await q.query(`SELECT pg_sleep(0.2)`);
      await ensureRole(q, role);
      await q.query(`GRANT SELECT, INSERT ON "${schema}".widgets TO "${role}"`);
    }
    async down(q: QueryRunner): Promise<void> {
      await q.query(`DROP TABLE "${schema}".widgets`);
    }
  };
}

describe("database lifecycle", () => {
  let db: TestDatabase;
  let sql: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase("db_test");
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await db?.drop();
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/postgres" });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    await admin.end();
  });

  it("migrates a schema once, however often and concurrently it is asked", async () => {
    const opts = { url: db.url, schema: "alpha", migrations: [outboxMigration("alpha"), widgetsMigration("alpha")] };
    await Promise.all([migrateDatabase(opts), migrateDatabase(opts), migrateDatabase(opts)]);
    await migrateDatabase(opts);
    const { rows } = await sql.query(`SELECT name FROM alpha.migrations ORDER BY timestamp`);
    expect(rows.map((r) => r.name)).toEqual(["Outbox1700000000000", "Widgets1710000000000"]);
    const tables = await sql.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'alpha' ORDER BY table_name`,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(["inbox", "migrations", "outbox", "widgets"]);
  });

  it("lets two schemas' migrations create the same role at the same time", async () => {
    await Promise.all(
      ["beta", "gamma"].map((schema) => migrateDatabase({ url: db.url, schema, migrations: [widgetsMigration(schema)] })),
    );
    const { rows } = await sql.query(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1`, [role]);
    expect(rows[0].n).toBe(1);
  });

  it("runs an app-role DataSource as that role, on its schema", async () => {
    const opts = { url: databaseUrlAs(db.url, role), schema: "alpha", migrations: [], appRole: role, poolSize: 3 };
    const ds = await openDatabase(opts);
    try {
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map(() => ds.query(`SELECT current_user AS u, current_schema() AS s`)),
      );
      for (const [r] of results) expect(r).toEqual({ u: role, s: "alpha" });
      await ds.query(`INSERT INTO widgets (id, label) VALUES (1, 'one')`);
      await expect(ds.query(`DELETE FROM widgets`)).rejects.toThrow(/permission denied/);
      await expect(ds.query(`DROP TABLE widgets`)).rejects.toThrow(/must be owner/);
      expect(await checkDatabase(ds)).toBe(true);
    } finally {
      await ds.destroy();
    }
    expect(await checkDatabase(ds)).toBe(false);
  });

  it("says clearly when the app role does not exist", async () => {
    await expect(openDatabase({ url: databaseUrlAs(db.url, "no_such_role_x"), schema: "alpha", migrations: [], appRole: "no_such_role_x" })).rejects.toThrow(
      /cannot open database schema alpha.*no_such_role_x/,
    );
  });
});
