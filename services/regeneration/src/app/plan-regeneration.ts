/**
 * PlanRegeneration: the jobs a selection would submit. Reads the stale segments (StalenessService), the jobs already
 * holding them (this schema), the assets' current versions (AssetService) and each segment's current receipt
 * (ReceiptService.BatchGetCurrentReceipts, 1,000 segments a call); the rules of domain/ turn them into jobs, each with its GPU-time estimate (past durations from
 * ReceiptService, one read per plan). Writes nothing. SubmitRegeneration plans through this too.
 */
import { isDomainError, type PlannedJob } from "@provenance/shared";
import type { Caller } from "@provenance/shared/auth";
import type { PlanSources } from "../clients/plan-sources.js";
import { holdersBySegment, type SegmentJob } from "../domain/open-jobs.js";
import { buildPlannedJob, compareJobs, currentVersionsOf } from "../domain/planned-job.js";
import { selectedStale, type Selection } from "../domain/selection.js";
import type { JobRepository } from "../persistence/job-repository.js";
import type { EstimateGpuTime } from "./estimate-gpu-time.js";

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
    /** Fills each job's gpu_estimate (one read of past durations per plan); none without it. */
    private readonly estimator?: EstimateGpuTime,
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
    const provenance = await this.sources.currentReceipts(candidates.map((s) => s.segmentId), caller);
    const jobs: PlannedJob[] = [];
    candidates.forEach((segment, i) => {
      const p = provenance[i];
      if (!p?.segment?.active || !p.currentReceipt) return;
      const job = buildPlannedJob(segment, p.currentReceipt, current);
      if (job) jobs.push(job);
    });
    if (this.estimator && jobs.length > 0) {
      // An estimate is advice: when the past durations cannot be read now, the plan goes without (its jobs count as
      // jobs without an estimate) rather than failing.
      const estimates = await this.estimator.estimate(jobs.map((j) => j.inputs!), caller).catch((err: unknown) => {
        if (isDomainError(err, "unavailable")) return [];
        throw err;
      });
      jobs.forEach((job, i) => (job.gpuEstimate = estimates[i]));
    }
    return { jobs: jobs.sort(compareJobs), held: [...holders.values()] };
  }
}
