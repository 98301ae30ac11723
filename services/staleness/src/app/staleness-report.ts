/** GetStalenessReport: which active segments are stale, grouped by asset version, with totals and summaries. */
import { reportGroups, type StalenessReport } from "../domain/staleness-groups.js";
import { readReport } from "../persistence/staleness-repository.js";
import { REPORT_ISOLATION } from "../persistence/statements.js";
import type { AppDeps } from "./deps.js";

/**
 * The report of one project, or of every project when `projectId` is undefined, computed now (staleness is never
 * stored) by the report statement in one snapshot. Every stale segment is in at least one group, with every id, so
 * the stale totals are counted from the groups.
 */
export async function stalenessReport(deps: AppDeps, projectId: string | undefined): Promise<StalenessReport> {
  const row = await deps.dataSource.transaction(REPORT_ISOLATION, (m) => readReport(m, projectId));
  return { totalActiveSegments: row.totalActiveSegments, untrackedInputs: row.untrackedInputs, ...reportGroups(row.groups) };
}
