/**
 * GetCoverage's arithmetic: per-project counts of active segments by what their receipts say (the classes are the
 * SQL's, coverage-repository.ts), the total over the projects counted, and the complete percentage (100 when there
 * are no segments). Pure, no I/O.
 */
import { create } from "@bufbuild/protobuf";
import { CoverageSchema, type Coverage } from "@provenance/shared";

/** One project's counts, as the coverage statement returns them. */
export interface CoverageCounts {
  /** The project; "" for the total. */
  projectId: string;
  segments: number;
  complete: number;
  legacy: number;
  running: number;
  runningTooLong: number;
  failed: number;
}

/** A project's (or the total's) counts with the complete percentage. */
export interface CoverageRecord extends CoverageCounts {
  completePercent: number;
}

/** Coverage per project (by project id) and in total. */
export interface CoverageReport {
  total: CoverageRecord;
  projects: CoverageRecord[];
}

/** complete / segments as a percentage; 100 when there are no segments (nothing lacks a receipt). */
export function completePercent(complete: number, segments: number): number {
  return segments === 0 ? 100 : (complete / segments) * 100;
}

function withPercent(c: CoverageCounts): CoverageRecord {
  return { ...c, completePercent: completePercent(c.complete, c.segments) };
}

/** The report of these projects' counts: each with its percentage, in project id order, and their total. */
export function coverageReport(rows: readonly CoverageCounts[]): CoverageReport {
  const sum = (k: keyof Omit<CoverageCounts, "projectId">) => rows.reduce((n, r) => n + r[k], 0);
  const total: CoverageCounts = {
    projectId: "",
    segments: sum("segments"),
    complete: sum("complete"),
    legacy: sum("legacy"),
    running: sum("running"),
    runningTooLong: sum("runningTooLong"),
    failed: sum("failed"),
  };
  const projects = [...rows].sort((a, b) => (a.projectId < b.projectId ? -1 : a.projectId > b.projectId ? 1 : 0)).map(withPercent);
  return { total: withPercent(total), projects };
}

/** The API message of one coverage record. */
export function toCoverageMessage(c: CoverageRecord): Coverage {
  return create(CoverageSchema, c);
}
