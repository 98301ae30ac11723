/**
 * PlanRegeneration: the jobs a selection would submit. Reads the stale segments (StalenessService), the jobs already
 * holding them (this schema), the assets' current versions (AssetService) and each segment's current receipt
 * (ReceiptService); the rules of domain/ turn them into jobs. Writes nothing. SubmitRegeneration plans through this too.
 */
import type { PlannedJob } from "@provenance/shared";
import type { Caller } from "@provenance/shared/auth";
import type { PlanSources } from "../clients/plan-sources.js";
import { holdersBySegment, type SegmentJob } from "../domain/open-jobs.js";
import { buildPlannedJob, compareJobs, currentVersionsOf } from "../domain/planned-job.js";
import { selectedStale, type Selection } from "../domain/selection.js";
import type { JobRepository } from "../persistence/job-repository.js";

/** A plan: the jobs to submit, and the selected stale segments left out because a job already holds them. */
export interface RegenerationPlan {
  jobs: PlannedJob[];
  held: SegmentJob[];
}

/** The PlanRegeneration use case. */
export class PlanRegeneration {
  constructor(
    private readonly sources: PlanSources,
    private readonly jobs: JobRepository,
  ) {}

  /**
   * The jobs for the stale segments of `selection`, in scene order. A segment is left out when it is not selected,
   * a job already holds it (domain/open-jobs.ts), it is no longer active, has no current receipt, or turns out fresh
   * against the assets' current versions. Every read from the other services is made as `caller`: its token is
   * forwarded, so a plan shows only what the caller may read.
   */
  async plan(selection: Selection, caller?: Caller): Promise<RegenerationPlan> {
    const stale = selectedStale(selection, await this.sources.staleSegments(selection.projectId, selection.assetId, caller));
    if (stale.length === 0) return { jobs: [], held: [] };
    const holders = holdersBySegment(await this.jobs.ofSegments(stale.map((s) => s.segmentId)));
    const candidates = stale.filter((s) => !holders.has(s.segmentId));

    const assetIds = [...new Set(candidates.flatMap((s) => s.reasons.map((r) => r.assetId)))];
    const current = currentVersionsOf(await this.sources.assets(assetIds, caller));
    const provenance = await this.sources.segmentProvenance(candidates.map((s) => s.segmentId), caller);
    const jobs: PlannedJob[] = [];
    candidates.forEach((segment, i) => {
      const p = provenance[i];
      if (!p?.segment?.active || !p.currentReceipt) return;
      const job = buildPlannedJob(segment, p.currentReceipt, current);
      if (job) jobs.push(job);
    });
    return { jobs: jobs.sort(compareJobs), held: [...holders.values()] };
  }
}
