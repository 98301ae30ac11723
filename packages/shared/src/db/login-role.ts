/**
 * A service's own database login role: created by its migrations (as the schema owner), and checked by the service
 * itself when it connects, so it never runs as a superuser, as the owner, or as a role that `SET ROLE` could lift.
 */
import pg, { type ClientBase } from "pg";
import { quoteIdentifier, quoteLiteral } from "./sql-identifier.js";
import type { Row } from "./sql-rows.js";

/** The user and password a PostgreSQL URL logs in with (percent-decoded; "" when absent or unparsable). */
export function databaseCredentialsOf(url: string): { user: string; password: string } {
  try {
    const u = new URL(url);
    return { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  } catch {
    return { user: "", password: "" };
  }
}

/**
 * `url` logging in as `role` (with `password`, or none) instead of its own user: a service's DATABASE_URL made from
 * the owner's URL of the same database (tests, npm start).
 */
export function databaseUrlAs(url: string, role: string, password?: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(role);
  u.password = password === undefined ? "" : encodeURIComponent(password);
  return u.toString();
}

/** PostgreSQL error codes of a concurrent CREATE/ALTER ROLE (two services or two test files migrating at once). */
const ROLE_RACE_CODES = new Set(["42710", "23505", "XX000"]);

async function retryingRace(work: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt >= 5 || code === undefined || !ROLE_RACE_CODES.has(code)) throw err;
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}

/**
 * For migrations, as the owner (who needs CREATEROLE for a role that is missing): makes `role` a login role with no
 * attribute beyond LOGIN (NOINHERIT, so a membership granted later gives it nothing without `SET ROLE`, which the
 * service refuses at start) unless it exists; an existing NOLOGIN role (made by earlier versions) is given LOGIN and
 * NOINHERIT.
 * `password`, when given, is set every time, so a rotated DATABASE_URL password takes effect with the next migration.
 * Roles are cluster-wide: a concurrent creation by another database's migration is waited out, not an error.
 */
export async function ensureLoginRole(client: Pick<ClientBase, "query">, role: string, password?: string): Promise<void> {
  const r = quoteIdentifier(role);
  await retryingRace(async () => {
    const { rows } = await client.query<{ rolcanlogin: boolean; rolinherit: boolean }>(
      `SELECT rolcanlogin, rolinherit FROM pg_roles WHERE rolname = $1`,
      [role],
    );
    if (rows.length === 0) {
      await client.query(`CREATE ROLE ${r} LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`);
    } else if (!rows[0]!.rolcanlogin || rows[0]!.rolinherit) {
      await client.query(`ALTER ROLE ${r} LOGIN NOINHERIT`);
    }
  });
  if (password !== undefined && password !== "") {
    await retryingRace(async () => {
      await client.query(`ALTER ROLE ${r} PASSWORD ${quoteLiteral(password)}`);
    });
  }
}

/** What the login role of a connection is and may do, as {@link serviceRoleProblem} judges it. */
export interface LoginRoleFacts {
  login: string;
  superuser: boolean;
  /** CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS, as held. */
  attributes: string[];
  /** Roles it is a member of (any of which `SET ROLE` could switch to). */
  memberOf: string[];
  /** It owns (or is a member of the owner of) the schema, the database, or these objects of the schema. */
  ownsSchema: boolean;
  ownsDatabase: boolean;
  ownedObjects: string[];
  /** It may create objects in the schema, or schemas in the database. */
  createsInSchema: boolean;
  createsSchemas: boolean;
}

/** Reads {@link LoginRoleFacts} of the connection's own role for `schema`; $1 = the schema. */
export const LOGIN_ROLE_FACTS_SQL = `
  SELECT current_user AS login, r.rolsuper AS superuser,
         array_remove(ARRAY[CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
                            CASE WHEN r.rolreplication THEN 'REPLICATION' END, CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END], NULL) AS attributes,
         ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of,
         COALESCE((SELECT pg_has_role(current_user, n.nspowner, 'MEMBER') FROM pg_namespace n WHERE n.nspname = $1), false) AS owns_schema,
         (SELECT pg_has_role(current_user, d.datdba, 'MEMBER') FROM pg_database d WHERE d.datname = current_database()) AS owns_database,
         ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                  AND pg_has_role(current_user, c.relowner, 'MEMBER') ORDER BY 1 LIMIT 5) AS owned_objects,
         COALESCE((SELECT has_schema_privilege(current_user, n.oid, 'CREATE') FROM pg_namespace n WHERE n.nspname = $1), false) AS creates_in_schema,
         has_database_privilege(current_database(), 'CREATE') AS creates_schemas
    FROM pg_roles r WHERE r.rolname = current_user`;

/** The facts of a {@link LOGIN_ROLE_FACTS_SQL} row. */
export function loginRoleFactsOf(row: Row): LoginRoleFacts {
  return {
    login: row.login as string,
    superuser: row.superuser as boolean,
    attributes: row.attributes as string[],
    memberOf: row.member_of as string[],
    ownsSchema: row.owns_schema as boolean,
    ownsDatabase: row.owns_database as boolean,
    ownedObjects: row.owned_objects as string[],
    createsInSchema: row.creates_in_schema as boolean,
    createsSchemas: row.creates_schemas as boolean,
  };
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(", ");

/**
 * Why a service whose login role should be `role` must not run with a connection whose role has `facts` — a
 * superuser, another role, extra attributes, a membership `SET ROLE` could use, ownership of its schema, its objects
 * or the database, the right to create objects — as one line naming DATABASE_URL; undefined when nothing is wrong.
 */
export function serviceRoleProblem(facts: LoginRoleFacts, role: string, schema: string): string | undefined {
  const as = `DATABASE_URL logs in as "${facts.login}"`;
  const fix = `the ${schema} service must log in as its own role "${role}", which holds only its grants (the schema owner goes in MIGRATION_DATABASE_URL)`;
  if (facts.superuser) return `${as}, a superuser: ${fix}`;
  if (facts.login !== role) return `${as}, not "${role}": ${fix}`;
  if (facts.attributes.length > 0) return `${as}, which has ${facts.attributes.join(", ")}: ${fix}`;
  if (facts.memberOf.length > 0) return `${as}, a member of ${quoted(facts.memberOf)} (SET ROLE would lift its rights to theirs): ${fix}`;
  if (facts.ownsSchema) return `${as}, which owns schema ${schema}: ${fix}`;
  if (facts.ownedObjects.length > 0) return `${as}, which owns ${quoted(facts.ownedObjects)} in schema ${schema}: ${fix}`;
  if (facts.ownsDatabase) return `${as}, which owns the database: ${fix}`;
  if (facts.createsInSchema) return `${as}, which may create objects in schema ${schema}: ${fix}`;
  if (facts.createsSchemas) return `${as}, which may create schemas in the database: ${fix}`;
  return undefined;
}

/** A service's database connection logs in as a role it must not run as; the message is one line naming DATABASE_URL. */
export class DatabaseRoleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseRoleError";
  }
}

/**
 * Before anything is migrated: when `url` does not even name `role` as its user, connects once to say why it must not
 * be used (a superuser, another role) and throws that {@link DatabaseRoleError}; a URL naming the role passes (its
 * rights are checked when the service opens its pool, once migrations have made the role).
 */
export async function refuseForeignLogin(url: string, role: string, schema: string): Promise<void> {
  if (databaseCredentialsOf(url).user === role) return;
  const client = new pg.Client({ connectionString: url, application_name: `check-login:${schema}` });
  client.on("error", () => undefined);
  let problem: string | undefined;
  try {
    await client.connect();
    const { rows } = await client.query(LOGIN_ROLE_FACTS_SQL, [schema]);
    problem = serviceRoleProblem(loginRoleFactsOf(rows[0] as Row), role, schema);
  } catch (err) {
    throw new Error(`cannot open database schema ${schema}: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
  if (problem) throw new DatabaseRoleError(problem);
}
