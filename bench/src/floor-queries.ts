/**
 * The floor: our services' own SQL run straight on PostgreSQL, without gRPC, handlers or mapping. The forward, report
 * and detection statements are imported from the built services at run time so they cannot drift; reverse usage is
 * assembled in the service from fragments, so it is reproduced here as the repository builds it for these calls.
 */
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import type pg from "pg";
import { REPO_ROOT } from "./service-processes.js";

/** ReceiptRepository.usage, first page: $1 asset, $2 content hash or NULL (the version filter, resolved). */
export function floorUsageSql(withHash: boolean, limit: number): string {
  const where = withHash ? "i.asset_id = $1 AND i.content_hash = $2" : "i.asset_id = $1";
  return `
  SELECT i.receipt_seq, i.receipt_id, i.role, i.position, i.content_hash, i.version, i.weight,
         r.status, r.generation_started_at,
         s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.supersedes_segment_id,
         s.superseded_by_segment_id, s.created_at AS segment_created_at
    FROM (SELECT * FROM receipts.receipt_inputs i WHERE ${where}
           ORDER BY i.receipt_seq DESC, i.role DESC, i.position DESC LIMIT ${limit}) i
    JOIN receipts.generation_receipts r ON r.receipt_id = i.receipt_id
    JOIN receipts.segments s ON s.segment_id = r.segment_id
   ORDER BY i.receipt_seq DESC, i.role DESC, i.position DESC`;
}

/**
 * GetSegmentProvenance's statement, from the built receipts service the bench runs (services/receipts/dist): its
 * exported `SEGMENT_HISTORY_SQL`. $1: segment id.
 */
export function floorForwardSql(): Promise<string> {
  return builtStatement("services/receipts/dist/persistence/receipt-repository.js", "SEGMENT_HISTORY_SQL");
}

/** The string a built service module (`file`, from the repository root) exports as `name`: one of its statements. */
async function builtStatement(file: string, name: string): Promise<string> {
  const mod = (await import(pathToFileURL(`${REPO_ROOT}${file}`).href)) as Record<string, unknown>;
  const sql = mod[name];
  if (typeof sql !== "string") throw new Error(`${file} exports no ${name}; build first`);
  return sql;
}

/** Runs GetSegmentProvenance's statement bare; returns the number of receipts. */
export async function floorForward(db: pg.Pool, sql: string, segmentId: string): Promise<number> {
  const res = await db.query(sql, [segmentId]);
  if (res.rowCount === 0) throw new Error(`no segment ${segmentId}`);
  return res.rowCount ?? 0;
}

async function extract(file: string, pattern: RegExp, what: string): Promise<string> {
  const source = await readFile(`${REPO_ROOT}${file}`, "utf8");
  const m = pattern.exec(source);
  if (!m) throw new Error(`cannot find ${what} in ${file}; the bench must follow the service's SQL`);
  return m[1]!;
}

/** Runs GetStalenessReport's statement for one project bare, the way the service runs it. */
export type FloorReport = (db: pg.Pool, projectId: string) => Promise<unknown>;

/**
 * GetStalenessReport's statement, taken from the built service the bench runs (services/staleness/dist): its
 * exported `reportSql(scoped)`, run as the repository does (REPEATABLE READ, work_mem 64MB); or, for a build that
 * predates it, the `REPORT_SQL` constant read from the source. Returns the runner and the SQL (for EXPLAIN).
 */
export async function floorReport(): Promise<{ run: FloorReport; sql: string; setup: string[] }> {
  const built = pathToFileURL(`${REPO_ROOT}services/staleness/dist/persistence/staleness-repository.js`).href;
  const mod = (await import(built)) as { reportSql?: (scoped: boolean) => string };
  if (typeof mod.reportSql === "function") {
    const sql = mod.reportSql(true);
    const setup = ["SET LOCAL work_mem = '64MB'"];
    return {
      sql,
      setup,
      run: async (db, projectId) => {
        const c = await db.connect();
        try {
          await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
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
  const sql = await extract("services/staleness/src/persistence/staleness-repository.ts", /const REPORT_SQL = `([\s\S]*?)`;/, "REPORT_SQL");
  return { sql, setup: [], run: (db, projectId) => db.query(sql, [projectId]) };
}

/**
 * The statement detection runs per affected project (after the change commits), from the built staleness service's
 * exported `PROJECT_INPUTS_SQL`. $1: project id, $2: asset id.
 */
export function floorDetectionSql(): Promise<string> {
  return builtStatement("services/staleness/dist/persistence/detection-repository.js", "PROJECT_INPUTS_SQL");
}
