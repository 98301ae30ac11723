import type { EntitySchema, MigrationInterface } from "typeorm";
import type { Logger } from "pino";

/** A TypeORM migration class. */
export type MigrationClass = new () => MigrationInterface;

/** A TypeORM entity class. */
export type EntityClass = abstract new (...args: never[]) => object;

/** How a service reaches its PostgreSQL schema: who owns it, who runs as it, and what is in it. */
export interface DatabaseOptions {
  /** Connection URL the service runs with (DATABASE_URL): logs in as {@link appRole}. */
  url: string;
  /** Connection URL of the schema owner, for migrations; defaults to `url`. */
  migrationUrl?: string;
  /** The schema the service owns. */
  schema: string;
  /** TypeORM migration classes (MigrationInterface), in any order; TypeORM sorts them by timestamp. */
  migrations: MigrationClass[];
  /** Entities, when the service uses TypeORM repositories. */
  entities?: (EntityClass | EntitySchema)[];
  /**
   * The service's own login role: `url` must log in as it (no superuser, no owner, no membership `SET ROLE` could
   * use), which {@link openDatabase} checks; {@link migrateDatabase} creates it as a LOGIN role when missing, with the
   * password of `url` when `url` names it with one.
   */
  appRole?: string;
  /** Maximum connections in the pool (default 10). */
  poolSize?: number;
  /** Where database lifecycle lines go. */
  logger?: Logger;
}
