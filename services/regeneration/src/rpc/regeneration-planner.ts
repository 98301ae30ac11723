/** PlanRegeneration's reads: stale segments, their current receipts and the assets' current versions, turned into jobs. */
import type { PlannedJob } from "@provenance/shared";
import { buildPlannedJob, compareJobs, type CurrentVersion } from "../domain/planned-job.js";
import { isSelected, type Selection } from "../domain/selection.js";
import type { PlanSources } from "./dependency-clients.js";
import { mapConcurrently } from "./map-concurrently.js";

/** How many dependency calls one plan makes at once. */
export const PLAN_CONCURRENCY = 8;

/** Segments that already have a job in flight, so a plan does not submit them twice. */
export interface OpenJobLookup {
  segmentsWithOpenJobs(segmentIds: readonly string[]): Promise<Set<string>>;
}

/** Builds plans; writes nothing. */
export class RegenerationPlanner {
  constructor(
    private readonly sources: PlanSources,
    private readonly openJobs: OpenJobLookup,
  ) {}

  /**
   * The jobs for the stale segments of `selection`, in scene order. A segment is left out when it is
   * not selected, already has a job submitted or running, is no longer active, has no current receipt,
   * or turns out fresh against the assets' current versions.
   */
  async plan(selection: Selection): Promise<PlannedJob[]> {
    const stale = (await this.sources.staleSegments(selection.projectId, selection.assetId)).filter((s) => isSelected(selection, s));
    if (stale.length === 0) return [];
    const open = await this.openJobs.segmentsWithOpenJobs(stale.map((s) => s.segmentId));
    const candidates = stale.filter((s) => !open.has(s.segmentId));

    const assetIds = [...new Set(candidates.flatMap((s) => s.reasons.map((r) => r.assetId)))];
    const assets = await mapConcurrently(assetIds, PLAN_CONCURRENCY, (id) => this.sources.asset(id));
    const current = new Map<string, CurrentVersion>();
    for (const a of assets) {
      if (a && a.currentContentHash) current.set(a.assetId, { contentHash: a.currentContentHash, version: a.currentVersion });
    }

    const provenance = await mapConcurrently(candidates, PLAN_CONCURRENCY, (s) => this.sources.segmentProvenance(s.segmentId));
    const jobs: PlannedJob[] = [];
    candidates.forEach((segment, i) => {
      const p = provenance[i];
      if (!p?.segment?.active || !p.currentReceipt) return;
      const job = buildPlannedJob(segment, p.currentReceipt, current);
      if (job) jobs.push(job);
    });
    return jobs.sort(compareJobs);
  }
}
