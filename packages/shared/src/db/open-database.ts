import type { ClientBase } from "pg";
import { DataSource } from "typeorm";
import type { DatabaseOptions } from "./database-options.js";
import { DatabaseRoleError, LOGIN_ROLE_FACTS_SQL, loginRoleFactsOf, serviceRoleProblem } from "./login-role.js";
import { quoteIdentifier } from "./sql-identifier.js";
import type { Row } from "./sql-rows.js";

/**
 * Opens the service's initialized DataSource on its schema (no synchronize); every pooled connection sets
 * `search_path` to the schema. With `appRole`, the URL must log in as that role and the role must hold no more than
 * its grants — no superuser, no other role, no membership (`SET ROLE` would lift it), no ownership, no right to create
 * — else it throws a {@link DatabaseRoleError} (one line naming DATABASE_URL) and leaves nothing open. There is no
 * `SET ROLE`: `RESET ROLE` must have nothing to go back to.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<DataSource> {
  const log = opts.logger;
  const setup = `SET search_path TO ${quoteIdentifier(opts.schema)}, public`;
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
  if (opts.appRole) {
    let problem: string | undefined;
    try {
      const [row] = (await dataSource.query(LOGIN_ROLE_FACTS_SQL, [opts.schema])) as Row[];
      problem = serviceRoleProblem(loginRoleFactsOf(row!), opts.appRole, opts.schema);
    } catch (err) {
      await dataSource.destroy();
      throw new Error(`cannot open database schema ${opts.schema}: ${(err as Error).message}`, { cause: err });
    }
    if (problem) {
      await dataSource.destroy();
      throw new DatabaseRoleError(problem);
    }
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
