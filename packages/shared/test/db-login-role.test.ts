/** A service logs in as its own login role, made by its migrations, and refuses a connection with more rights than that. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { MigrationInterface, QueryRunner } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseRoleError, databaseCredentialsOf, databaseUrlAs, migrateDatabase, openDatabase } from "../src/db/index.js";
import { createTestDatabase, testDatabaseServerUrl, type TestDatabase } from "../src/testing/index.js";

const suffix = randomBytes(4).toString("hex");
const role = `t_login_${suffix}`;
const others = [`t_other_${suffix}`, `t_group_${suffix}`];

/** A table the role may read and append to, and nothing more. */
function itemsMigration(grantee: string) {
  return class implements MigrationInterface {
    name = "Items1710000000000";
    async up(q: QueryRunner): Promise<void> {
      await q.query(`CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)`);
      await q.query(`INSERT INTO items VALUES (1, 'seeded')`);
      await q.query(`GRANT USAGE ON SCHEMA svc TO "${grantee}"`);
      await q.query(`GRANT SELECT, INSERT ON items TO "${grantee}"`);
    }
    async down(): Promise<void> {}
  };
}

let db: TestDatabase;
let sql: pg.Client;
const asRole = () => databaseUrlAs(db.url, role, "pw-1");
const options = (url: string, appRole = role) => ({ url, migrationUrl: db.url, schema: "svc", migrations: [itemsMigration(role)], appRole });

beforeAll(async () => {
  db = await createTestDatabase("login_role_test");
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await migrateDatabase(options(asRole()));
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
  const admin = new pg.Client({ connectionString: testDatabaseServerUrl() });
  await admin.connect();
  for (const r of [role, ...others]) await admin.query(`DROP ROLE IF EXISTS "${r}"`);
  await admin.end();
});

/** The connections `user` has open to the test database, once those being closed are gone (up to 2 s). */
async function connectionsOf(user: string, expected: number): Promise<number> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const { rows } = await sql.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND datname = $2`, [user, db.name]);
    const n = rows[0].n as number;
    if (n === expected || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("migrations make the login role", () => {
  it("create it with LOGIN and nothing else, and the password DATABASE_URL gives it", async () => {
    const { rows } = await sql.query(
      `SELECT rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolpassword IS NOT NULL AS has_password
         FROM pg_authid WHERE rolname = $1`,
      [role],
    );
    expect(rows).toEqual([
      { rolcanlogin: true, rolsuper: false, rolinherit: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false, has_password: true },
    ]);
    expect(databaseCredentialsOf(asRole())).toEqual({ user: role, password: "pw-1" });
  });

  it("give LOGIN to a role an earlier version made NOLOGIN, and set a changed password", async () => {
    await sql.query(`ALTER ROLE "${role}" NOLOGIN PASSWORD NULL`);
    await migrateDatabase(options(databaseUrlAs(db.url, role, "pw-2")));
    const { rows } = await sql.query(`SELECT rolcanlogin, rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname = $1`, [role]);
    expect(rows).toEqual([{ rolcanlogin: true, has_password: true }]);
    const { rows: applied } = await sql.query(`SELECT name FROM svc.migrations`);
    expect(applied.map((r) => r.name)).toEqual(["Items1710000000000"]);
  });
});

describe("the service's connection", () => {
  it("runs as the login role, with only its grants, and RESET ROLE / SET ROLE cannot gain any", async () => {
    const ds = await openDatabase(options(asRole()));
    try {
      const runner = ds.createQueryRunner();
      try {
        expect(await runner.query(`SELECT current_user AS u, session_user AS s`)).toEqual([{ u: role, s: role }]);
        await runner.query(`INSERT INTO items VALUES (2, 'two')`);
        await runner.query(`RESET ROLE`);
        expect(await runner.query(`SELECT current_user AS u`)).toEqual([{ u: role }]);
        await expect(runner.query(`DELETE FROM items`)).rejects.toThrow(/permission denied/);
        await expect(runner.query(`UPDATE items SET label = 'x'`)).rejects.toThrow(/permission denied/);
        await expect(runner.query(`SET ROLE root`)).rejects.toThrow(/permission denied to set role/);
        await expect(runner.query(`SET ROLE postgres`)).rejects.toThrow(/permission denied to set role/);
        await expect(runner.query(`SET SESSION AUTHORIZATION root`)).rejects.toThrow(/permission denied/);
        await expect(runner.query(`SET session_replication_role = replica`)).rejects.toThrow(/permission denied/);
        await expect(runner.query(`CREATE TABLE svc.mine (id int)`)).rejects.toThrow(/permission denied/);
        await expect(runner.query(`CREATE SCHEMA mine`)).rejects.toThrow(/permission denied/);
      } finally {
        await runner.release();
      }
    } finally {
      await ds.destroy();
    }
    expect((await sql.query(`SELECT count(*)::int AS n FROM svc.items`)).rows[0].n).toBe(2);
  });

  it("is refused at start when DATABASE_URL logs in as a superuser, in one line, leaving no connection open", async () => {
    const err = await openDatabase(options(db.url)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(DatabaseRoleError);
    expect((err as Error).message).toBe(
      `DATABASE_URL logs in as "root", a superuser: the svc service must log in as its own role "${role}", which holds only its grants (the schema owner goes in MIGRATION_DATABASE_URL)`,
    );
    expect((err as Error).message).not.toContain("\n");
    expect(await connectionsOf("root", 1)).toBe(1); // this test's own inspection connection only
  });

  it("is refused as another role than the service's", async () => {
    await sql.query(`CREATE ROLE "${others[0]}" LOGIN`);
    await expect(openDatabase(options(databaseUrlAs(db.url, others[0]!)))).rejects.toThrow(
      new RegExp(`^DATABASE_URL logs in as "${others[0]}", not "${role}": `),
    );
    expect(await connectionsOf(others[0]!, 0)).toBe(0);
  });

  it.each([
    ["an attribute beyond LOGIN", `ALTER ROLE "${role}" CREATEDB`, `ALTER ROLE "${role}" NOCREATEDB`, /, which has CREATEDB: /],
    ["a membership SET ROLE could use", `CREATE ROLE "${others[1]}" NOLOGIN; GRANT "${others[1]}" TO "${role}"`, `DROP ROLE "${others[1]}"`, /, a member of "t_group_[0-9a-f]+" \(SET ROLE would lift its rights to theirs\): /],
    ["ownership of its schema", `ALTER SCHEMA svc OWNER TO "${role}"`, `ALTER SCHEMA svc OWNER TO root`, /, which owns schema svc: /],
    ["ownership of a table", `ALTER TABLE svc.items OWNER TO "${role}"`, `ALTER TABLE svc.items OWNER TO root`, /, which owns "items" in schema svc: /],
    ["the right to create in its schema", `GRANT CREATE ON SCHEMA svc TO "${role}"`, `REVOKE CREATE ON SCHEMA svc FROM "${role}"`, /, which may create objects in schema svc: /],
    ["ownership of the database", `ALTER DATABASE "{db}" OWNER TO "${role}"`, `ALTER DATABASE "{db}" OWNER TO root`, /, which owns the database: /],
  ])("is refused when the role has %s", async (_what, grant, revoke, message) => {
    await sql.query(grant.replaceAll("{db}", db.name));
    try {
      await expect(openDatabase(options(asRole()))).rejects.toThrow(message);
      expect(await connectionsOf(role, 0)).toBe(0);
    } finally {
      await sql.query(revoke.replaceAll("{db}", db.name));
    }
    const ds = await openDatabase(options(asRole()));
    await ds.destroy();
  });
});
