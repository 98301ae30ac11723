import pg, { type ClientBase } from "pg";
import { DataSource } from "typeorm";
import type { DatabaseOptions } from "./database-options.js";
import { databaseCredentialsOf, ensureLoginRole } from "./login-role.js";
import { quoteIdentifier } from "./sql-identifier.js";

/**
 * Applies a schema's pending migrations as the schema owner (`migrationUrl`): makes sure the service's login role
 * exists (`appRole`, see {@link ensureLoginRole}; its password is the one `url` gives it, when `url` logs in as it
 * with one), creates the schema, runs the migrations one transaction each, with `search_path` on the schema (history
 * in `<schema>.migrations`), and disconnects. Two processes may run it at once: a PostgreSQL advisory lock keyed by
 * the schema serialises them.
 */
export async function migrateDatabase(opts: DatabaseOptions): Promise<void> {
  const url = opts.migrationUrl ?? opts.url;
  const log = opts.logger;
  const lockClient = new pg.Client({ connectionString: url, application_name: `migrate:${opts.schema}` });
  await lockClient.connect();
  // A dead server connection must not become an unhandled 'error' event.
  lockClient.on("error", (err) => log?.warn({ err, schema: opts.schema }, "migration lock connection failed"));
  try {
    await lockClient.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [`migrate:${opts.schema}`]);
    if (opts.appRole) {
      const login = databaseCredentialsOf(opts.url);
      await ensureLoginRole(lockClient, opts.appRole, login.user === opts.appRole ? login.password : undefined);
    }
    await lockClient.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(opts.schema)}`);
    const dataSource = new DataSource({
      type: "postgres",
      url,
      schema: opts.schema,
      migrations: opts.migrations,
      migrationsTableName: "migrations",
      migrationsTransactionMode: "each",
      synchronize: false,
      installExtensions: false,
      entities: [],
      poolSize: 1,
      logging: false,
      applicationName: `migrate:${opts.schema}`,
      // Unqualified names in a migration mean the schema being migrated.
      extra: {
        onConnect: async (client: ClientBase) => {
          await client.query(`SET search_path TO ${quoteIdentifier(opts.schema)}, public`);
        },
      },
    });
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: "each" });
      log?.info(
        { schema: opts.schema, applied: applied.map((m) => m.name) },
        applied.length > 0 ? `applied ${applied.length} migration(s) to schema ${opts.schema}` : `schema ${opts.schema} is up to date`,
      );
    } finally {
      await dataSource.destroy();
    }
  } finally {
    // Closing the session releases the advisory lock even if the unlock below is never reached.
    await lockClient.query("SELECT pg_advisory_unlock_all()").catch(() => undefined);
    await lockClient.end().catch(() => undefined);
  }
}
