import type { EntityManager } from "typeorm";
import { quoteIdentifier } from "../db/sql-identifier.js";

/**
 * Records that `consumer` processed `eventId` (in the caller's transaction, with the effect);
 * false when it already had, so the caller skips the effect.
 */
export async function markProcessed(manager: EntityManager, schema: string, consumer: string, eventId: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `INSERT INTO ${quoteIdentifier(schema)}.inbox (consumer, event_id) VALUES ($1, $2)
     ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
    [consumer, eventId],
  );
  return rows.length > 0;
}
