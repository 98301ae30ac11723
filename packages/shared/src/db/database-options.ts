import type { EntitySchema, MigrationInterface } from "typeorm";
import type { Logger } from "pino";

/** A TypeORM migration class. */
export type MigrationClass = new () => MigrationInterface;

/** A TypeORM entity class. */
export type EntityClass = abstract new (...args: never[]) => object;

/** How a service reaches its PostgreSQL schema: who owns it, who runs as it, and what is in it. */
export interface DatabaseOptions {
  /** Connection URL the service runs with. */
  url: string;
  /** Connection URL of the schema owner, for migrations; defaults to `url`. */
  migrationUrl?: string;
  /** The schema the service owns. */
  schema: string;
  /** TypeORM migration classes (MigrationInterface), in any order; TypeORM sorts them by timestamp. */
  migrations: MigrationClass[];
  /** Entities, when the service uses TypeORM repositories. */
  entities?: (EntityClass | EntitySchema)[];
  /** Role every pooled connection switches to (`SET ROLE`), so the service runs restricted. */
  appRole?: string;
  /** Maximum connections in the pool (default 10). */
  poolSize?: number;
  /** Where database lifecycle lines go. */
  logger?: Logger;
}
