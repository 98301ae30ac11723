import type { ClientBase } from "pg";
import { DataSource } from "typeorm";
import type { DatabaseOptions } from "./database-options.js";
import { quoteIdentifier } from "./sql-identifier.js";

/**
 * Opens the service's initialized DataSource on its schema (no synchronize). Every pooled
 * connection first runs `SET ROLE <appRole>` (when given) and sets `search_path` to the schema,
 * so the service runs with the restricted role's rights even when its URL names the owner.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<DataSource> {
  const log = opts.logger;
  const setup = [
    opts.appRole ? `SET ROLE ${quoteIdentifier(opts.appRole)}` : undefined,
    `SET search_path TO ${quoteIdentifier(opts.schema)}, public`,
  ].filter((s) => s !== undefined).join("; ");
  const dataSource = new DataSource({
    type: "postgres",
    url: opts.url,
    schema: opts.schema,
    entities: opts.entities ?? [],
    migrations: [],
    synchronize: false,
    migrationsRun: false,
    // Extensions belong in migrations, run by the owner; the app role could not create them.
    installExtensions: false,
    poolSize: opts.poolSize ?? 10,
    connectTimeoutMS: 10_000,
    logging: false,
    // pg-pool awaits `onConnect` before handing a new connection to anyone.
    extra: {
      onConnect: async (client: ClientBase) => {
        await client.query(setup);
      },
    },
    poolErrorHandler: (err: unknown) => log?.warn({ err, schema: opts.schema }, "idle database connection failed"),
  });
  try {
    await dataSource.initialize();
  } catch (err) {
    throw new Error(`cannot open database schema ${opts.schema}: ${(err as Error).message}`, { cause: err });
  }
  log?.info({ schema: opts.schema, role: opts.appRole }, `database schema ${opts.schema} open`);
  return dataSource;
}

/** Readiness: true when the database answers `SELECT 1` within `timeoutMs` (default 2 s). */
export async function checkDatabase(ds: DataSource, timeoutMs = 2_000): Promise<boolean> {
  if (!ds.isInitialized) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const probe = ds.query("SELECT 1").then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
