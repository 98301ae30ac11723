import type { QueryRunner } from "typeorm";
import { quoteIdentifier, quoteLiteral } from "./sql-identifier.js";

/**
 * For migrations: creates `role` unless it exists — a LOGIN role with no other attribute, the kind a service
 * connects as (see ensureLoginRole) — and grants it USAGE on `schema` (default: the migration DataSource's schema).
 * Roles are cluster-wide, so two schemas' migrations may race to create it, and the loser carries on.
 */
export async function ensureRole(queryRunner: QueryRunner, role: string, schema?: string): Promise<void> {
  const target = schema ?? (queryRunner.dataSource.options as { schema?: string }).schema;
  if (!target) throw new Error(`ensureRole(${role}): no schema given and the DataSource has none`);
  await queryRunner.query(`
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN
        CREATE ROLE ${quoteIdentifier(role)} LOGIN NOINHERIT;
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END $$`);
  await queryRunner.query(`GRANT USAGE ON SCHEMA ${quoteIdentifier(target)} TO ${quoteIdentifier(role)}`);
}
