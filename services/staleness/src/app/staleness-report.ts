/** GetStalenessReport: which active segments are stale, grouped by asset version, with totals and summaries. */
import type { ProjectScope } from "@provenance/shared/auth";
import { pinnedSegmentCount } from "../domain/pins.js";
import { orderReportGroups, type StalenessReport } from "../domain/staleness-groups.js";
import { readReport, readReports } from "../persistence/staleness-repository.js";
import { REPORT_ISOLATION } from "../persistence/statements.js";
import type { AppDeps } from "./deps.js";

/**
 * The report of one project, or of every project the caller may view (`viewable`) when `projectId` is undefined,
 * computed now (staleness is never stored) by the report statement in one snapshot: once for every project, or once
 * per viewable project when the caller may view only some (their counts added up, their groups in project order).
 * Every stale segment is in at least one group, with every id, and the stale totals count distinct ones over the
 * groups; inputs pins waive are in no group, and listed as pinned.
 */
export async function stalenessReport(deps: AppDeps, projectId: string | undefined, viewable: ProjectScope): Promise<StalenessReport> {
  const rows = await deps.dataSource.transaction(REPORT_ISOLATION, async (m) => {
    if (projectId !== undefined || viewable.all) return [await readReport(m, projectId)];
    return readReports(m, [...viewable.projects]);
  });
  return {
    totalActiveSegments: rows.reduce((n, r) => n + r.totalActiveSegments, 0),
    untrackedInputs: rows.reduce((n, r) => n + r.untrackedInputs, 0),
    legacySegments: rows.reduce((n, r) => n + r.legacySegments, 0),
    // Projects are disjoint: the totals of several add up.
    totalStaleSegments: rows.reduce((n, r) => n + r.totalStaleSegments, 0),
    totalStaleScenes: rows.reduce((n, r) => n + r.totalStaleScenes, 0),
    groups: orderReportGroups(rows.flatMap((r) => r.groups)),
    pinnedSegments: pinnedSegmentCount(rows.flatMap((r) => r.pinned)),
    pinned: rows.flatMap((r) => r.pinned),
  };
}
