import type { EntityManager } from "typeorm";

/**
 * Makes the rest of the caller's transaction plan every statement as keyed index access: no sequential scans while an
 * index can serve, and no JIT. For the bulk write paths, whose statements all look rows up by key (`= ANY($1)` of a
 * batch's ids, joins on primary keys): their right plan does not depend on statistics, but the planner's choice does.
 * Tables written this fast outgrow their statistics between ANALYZE runs (and have none at all where autovacuum is
 * off, as on the CI machines), and a batch of 250 ids then looks like most of the table: measured on the bench, every
 * CompleteReceipts scanned all of receipt_inputs (2 million rows at 350,000 receipts) and each projection batch all
 * of segment_inputs. One round trip; SET LOCAL ends with the transaction.
 */
export async function useKeyedPlans(m: EntityManager): Promise<void> {
  await m.query(`SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)`);
}
