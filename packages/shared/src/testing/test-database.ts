import { randomBytes } from "node:crypto";
import pg from "pg";

/** The server tests create their databases on: env TEST_DATABASE_URL, else the local superuser. */
export function testDatabaseServerUrl(): string {
  return process.env.TEST_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/postgres";
}

/** A fresh, uniquely named database for one test file, and how to drop it. */
export interface TestDatabase {
  /** Connection URL of the new database (same server and user as TEST_DATABASE_URL). */
  url: string;
  /** The database name. */
  name: string;
  /** Terminates its connections and drops it. */
  drop(): Promise<void>;
}

async function withAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database named `<prefix>_<random>` on the test server and returns its URL. */
export async function createTestDatabase(prefix = "prov_test"): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`createTestDatabase: bad prefix "${prefix}"`);
  const serverUrl = testDatabaseServerUrl();
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await withAdmin(serverUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      await withAdmin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
