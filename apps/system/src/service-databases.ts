/**
 * The database connections of each service under `npm start`: migrations as the owner of the system's database, the
 * service itself as its own login role (`receipts_app`, …), which its migrations create and which is all it runs as.
 */
import { randomBytes } from "node:crypto";
import { SERVICE_DATABASE_ROLES, databaseCredentialsOf, databaseUrlAs, type ServiceName } from "@provenance/shared";

/** DATABASE_URL and MIGRATION_DATABASE_URL of one service. */
export interface ServiceDatabaseEnv {
  DATABASE_URL: string;
  MIGRATION_DATABASE_URL: string;
}

/**
 * The connections of each service on the database `ownerUrl` logs in to (the embedded PostgreSQL's superuser, or the
 * operator's DATABASE_URL). Where the owner logs in with a password, each login role gets a fresh random one: the
 * service's migrations set it before the service connects, at every start, so none is stored anywhere. Where the
 * owner has none (trust or peer authentication), neither do the roles.
 */
export function serviceDatabases(ownerUrl: string): (service: ServiceName) => ServiceDatabaseEnv {
  const withPassword = databaseCredentialsOf(ownerUrl).password !== "";
  const urls = new Map<ServiceName, string>();
  return (service) => {
    let url = urls.get(service);
    if (url === undefined) {
      url = databaseUrlAs(ownerUrl, SERVICE_DATABASE_ROLES[service], withPassword ? randomBytes(18).toString("base64url") : undefined);
      urls.set(service, url);
    }
    return { DATABASE_URL: url, MIGRATION_DATABASE_URL: ownerUrl };
  };
}
