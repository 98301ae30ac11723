/** GetCoverage's statement (statements.ts), rows in, counts out; decides nothing. */
import type { EntityManager } from "typeorm";
import { rowsOf } from "@provenance/shared";
import type { CoverageCounts } from "../domain/coverage.js";
import { coverageSql } from "./statements.js";

/**
 * The coverage counts of every project with active segments, or of only `projects` when given; a RUNNING receipt
 * started more than `runningLimitSeconds` ago counts as running too long.
 */
export async function readCoverage(m: EntityManager, runningLimitSeconds: number, projects?: readonly string[]): Promise<CoverageCounts[]> {
  const params: unknown[] = [runningLimitSeconds];
  if (projects !== undefined) params.push(projects);
  const rows = rowsOf(await m.query(coverageSql(projects !== undefined), params));
  return rows.map((r) => ({
    projectId: r.project_id as string,
    segments: r.segments as number,
    complete: r.complete as number,
    legacy: r.legacy as number,
    running: r.running as number,
    runningTooLong: r.running_too_long as number,
    failed: r.failed as number,
  }));
}
