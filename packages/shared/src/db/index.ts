/** Database lifecycle of a service schema: migrations as the owner, a DataSource as the app role, readiness. */
export type { DatabaseOptions, EntityClass, MigrationClass } from "./database-options.js";
export { migrateDatabase } from "./migrate-database.js";
export { openDatabase, checkDatabase } from "./open-database.js";
export { ensureRole } from "./ensure-role.js";
export {
  DatabaseRoleError,
  LOGIN_ROLE_FACTS_SQL,
  databaseCredentialsOf,
  databaseUrlAs,
  ensureLoginRole,
  loginRoleFactsOf,
  refuseForeignLogin,
  serviceRoleProblem,
} from "./login-role.js";
export type { LoginRoleFacts } from "./login-role.js";
export { quoteIdentifier, quoteLiteral } from "./sql-identifier.js";
export { rowsOf } from "./sql-rows.js";
export { useKeyedPlans } from "./keyed-plans.js";
export { projectFilter } from "./project-filter.js";
export type { Row } from "./sql-rows.js";
