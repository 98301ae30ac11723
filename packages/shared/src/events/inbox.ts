import type { EntityManager } from "typeorm";
import { quoteIdentifier } from "../db/sql-identifier.js";
import { rowsOf } from "../db/sql-rows.js";

/**
 * Records that `consumer` processed `eventId` (in the caller's transaction, with the effect);
 * false when it already had, so the caller skips the effect.
 */
export async function markProcessed(manager: EntityManager, schema: string, consumer: string, eventId: string): Promise<boolean> {
  return (await markProcessedMany(manager, schema, consumer, [eventId])).has(eventId);
}

/**
 * Records that `consumer` processed each of `eventIds` with one multi-row insert (in the caller's transaction, with
 * the effects) and returns those it had not processed before, so the caller applies only them. An id repeated in
 * `eventIds` is recorded (and returned) once. Rows are inserted in event-id order, so two transactions marking
 * overlapping sets wait for each other instead of deadlocking.
 */
export async function markProcessedMany(manager: EntityManager, schema: string, consumer: string, eventIds: readonly string[]): Promise<Set<string>> {
  const ids = [...new Set(eventIds)];
  if (ids.length === 0) return new Set();
  const rows = rowsOf(
    await manager.query(
      `INSERT INTO ${quoteIdentifier(schema)}.inbox (consumer, event_id)
       SELECT $1, e.id FROM unnest($2::text[]) AS e(id) ORDER BY e.id
       ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
      [consumer, ids],
    ),
  );
  return new Set(rows.map((r) => r.event_id as string));
}
