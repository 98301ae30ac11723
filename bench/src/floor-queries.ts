/**
 * The floor: our services' own SQL run straight on PostgreSQL, without gRPC, handlers or mapping. Every statement is
 * the service's own, imported through its `statements` export (`@provenance/receipts/statements`,
 * `@provenance/staleness/statements`), so the floor cannot drift from what the services run.
 */
import type pg from "pg";
import { SEGMENT_HISTORY_SQL, assetUsageSql } from "@provenance/receipts/statements";
import { PROJECT_DETECTION_SQL, REPORT_ISOLATION, REPORT_SETTINGS_SQL, reportSql } from "@provenance/staleness/statements";

/** GetAssetUsage's first page: $1 asset, $2 content hash (the version filter, resolved) when `withHash`. */
export function floorUsageSql(withHash: boolean, limit: number): string {
  return assetUsageSql({ byContentHash: withHash, after: false, limit });
}

/** GetSegmentProvenance's statement. $1: segment id. */
export function floorForwardSql(): string {
  return SEGMENT_HISTORY_SQL;
}

/** Runs GetSegmentProvenance's statement bare; returns the number of receipts. */
export async function floorForward(db: pg.Pool, sql: string, segmentId: string): Promise<number> {
  const res = await db.query(sql, [segmentId]);
  if (res.rowCount === 0) throw new Error(`no segment ${segmentId}`);
  return res.rowCount ?? 0;
}

/** Runs GetStalenessReport's statement for one project bare, the way the service runs it. */
export type FloorReport = (db: pg.Pool, projectId: string) => Promise<unknown>;

/**
 * GetStalenessReport's statement for one project, run as the service runs it (its isolation level and settings).
 * Returns the runner, the SQL and the settings (for EXPLAIN).
 */
export function floorReport(): { run: FloorReport; sql: string; setup: string[] } {
  const sql = reportSql(true);
  const setup = [REPORT_SETTINGS_SQL];
  return {
    sql,
    setup,
    run: async (db, projectId) => {
      const c = await db.connect();
      try {
        await c.query(`BEGIN ISOLATION LEVEL ${REPORT_ISOLATION}`);
        for (const q of setup) await c.query(q);
        const res = await c.query(sql, [projectId]);
        await c.query("COMMIT");
        return res;
      } catch (err) {
        await c.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    },
  };
}

/**
 * The statement detection runs per affected project after a change commits. $1 project, $2 asset, $3 the change's
 * current content hash, $4 the previous one ('' when none), $5 its current version (the pins it may be waived by). The
 * service runs it with JIT off (`SET LOCAL jit = off`).
 */
export function floorDetectionSql(): string {
  return PROJECT_DETECTION_SQL;
}
