/**
 * GetCoverage: how many active segments have complete receipts, only legacy ones, or a generation running (too long)
 * or failed — per project the caller may view, and in total — computed now in one statement (coverage-repository.ts),
 * the arithmetic in domain/coverage.ts. Each computation updates the `provenance_receipt_coverage_percent` gauge of
 * the projects it counted.
 */
import { Gauge, type Registry } from "prom-client";
import type { DataSource } from "typeorm";
import { projectFilter } from "@provenance/shared";
import type { ProjectScope } from "@provenance/shared/auth";
import { coverageReport, type CoverageReport } from "../domain/coverage.js";
import { readCoverage } from "../persistence/coverage-repository.js";

/** What GetCoverage needs. */
export interface CoverageDeps {
  dataSource: DataSource;
  /** RECEIPT_RUNNING_LIMIT_SECONDS. */
  runningLimitSeconds: number;
  /** Where each computation is recorded; none in a server without metrics. */
  metric?: CoverageMetric;
}

/**
 * GetCoverage of one project (already decided viewable) or, when `projectId` is undefined, of every project in
 * `viewable` (the caller's).
 */
export async function getCoverage(deps: CoverageDeps, projectId: string | undefined, viewable: ProjectScope): Promise<CoverageReport> {
  const projects = projectId !== undefined ? [projectId] : projectFilter(viewable);
  const report = coverageReport(await readCoverage(deps.dataSource.manager, deps.runningLimitSeconds, projects));
  deps.metric?.record(report, projects === undefined);
  return report;
}

/** How long a scrape may reuse the last computation of every project's coverage. */
export const COVERAGE_METRIC_MAX_AGE_MS = 60_000;

/**
 * `provenance_receipt_coverage_percent{project_id}`: each project's complete percentage, and the total's under an
 * empty project_id. Set by every GetCoverage for the projects it counted, and at scrape time from a computation of
 * every project at most {@link COVERAGE_METRIC_MAX_AGE_MS} old (so the series exist without any call).
 */
export class CoverageMetric {
  private readonly gauge: Gauge;
  private computedAt = 0;

  constructor(registry: Registry, private readonly compute: () => Promise<CoverageReport>) {
    this.gauge = new Gauge({
      name: "provenance_receipt_coverage_percent",
      help: "Active segments with a complete (SUCCEEDED) receipt, as a percentage, per project (empty project_id: every project)",
      labelNames: ["project_id"],
      registers: [registry],
      collect: () => this.refresh(),
    });
  }

  /** At scrape time: recomputes every project's coverage unless the last computation is recent enough. */
  private async refresh(): Promise<void> {
    if (Date.now() - this.computedAt < COVERAGE_METRIC_MAX_AGE_MS) return;
    try {
      this.record(await this.compute(), true);
    } catch {
      // The database is unreachable: /readyz says so; keep the last values.
    }
  }

  /** Records a computed report; `everyProject` when it counted every project (then the total is set, and it is fresh). */
  record(report: CoverageReport, everyProject: boolean): void {
    for (const p of report.projects) this.gauge.set({ project_id: p.projectId }, p.completePercent);
    if (everyProject) {
      this.gauge.set({ project_id: "" }, report.total.completePercent);
      this.computedAt = Date.now();
    }
  }
}
