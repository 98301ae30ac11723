/**
 * PlanRegeneration: the jobs a selection would submit. Reads the stale segments (StalenessService), the jobs already
 * holding them (this schema), the assets' current versions (AssetService) and each segment's current receipt
 * (ReceiptService.BatchGetCurrentReceipts, 1,000 segments a call); the rules of domain/ turn them into jobs, each with its GPU-time estimate (past durations from
 * ReceiptService, one read per plan). Writes nothing. SubmitRegeneration plans through this too.
 *
 * The reads are pipelined page by page: as soon as a page of stale segments arrives, its holders, assets and current
 * receipts are read while StalenessService lists the next page, instead of listing every page first. Listing is
 * sequential (keyset paging) and reading current receipts is the larger half, so overlapping them takes most of the
 * listing out of a large plan's time; the plan is the same as reading everything in turn.
 */
import { isDomainError, type PlannedJob, type StaleSegment } from "@provenance/shared";
import type { Caller } from "@provenance/shared/auth";
import { concurrencyLimit } from "../clients/map-concurrently.js";
import type { PlanSources } from "../clients/plan-sources.js";
import { holdersBySegment, type SegmentJob } from "../domain/open-jobs.js";
import { buildPlannedJob, compareJobs, currentVersionsOf, type CurrentVersion } from "../domain/planned-job.js";
import { staleSelector, type Selection } from "../domain/selection.js";
import type { JobRepository, SubmittedSegmentJob } from "../persistence/job-repository.js";
import type { EstimateGpuTime } from "./estimate-gpu-time.js";

/** A plan: the jobs to submit, and the selected stale segments left out because a job already holds them. */
export interface RegenerationPlan {
  jobs: PlannedJob[];
  held: SegmentJob[];
}

/**
 * Pages of one plan whose current receipts are being read at once. A page holds at most 1,000 segments, so each is
 * one BatchGetCurrentReceipts call and this bounds one plan's calls in flight: two keep the receipts service busy (one
 * call's statement runs while the other's answer is encoded) without queueing answers of 1,000 receipts behind each
 * other past the deadline. Pages listed meanwhile wait their turn (each call's deadline starts when it is made).
 */
const PAGES_IN_FLIGHT = 2;

/** What one page of stale segments contributes to a plan. */
interface PagePlan {
  jobs: PlannedJob[];
  /** The stored jobs of the page's segments, holders or not. */
  stored: SubmittedSegmentJob[];
}

/** What the pages of one plan share: who reads, the bound on receipts calls, and the assets read so far. */
interface PlanReads {
  caller: Caller | undefined;
  receiptsCall: <R>(fn: () => Promise<R>) => Promise<R>;
  /** Resolves once the current version of each of `assetIds` is in `current` (or known to be absent). */
  assetsRead(assetIds: readonly string[]): Promise<unknown>;
  current: Map<string, CurrentVersion>;
  /** Whether a read of the plan has failed already (later pages then make no more calls). */
  failed(): boolean;
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
   * forwarded, so a plan shows only what the caller may read. When any read fails the plan fails with its error, after
   * the reads under way have settled.
   */
  async plan(selection: Selection, caller?: Caller): Promise<RegenerationPlan> {
    const select = staleSelector<StaleSegment>(selection);
    let failure: { err: unknown } | undefined;
    const reads = this.planReads(caller, () => failure !== undefined);
    const pages: Promise<PagePlan>[] = [];
    try {
      for await (const page of this.sources.staleSegmentPages(selection.projectId, selection.assetId, caller)) {
        const stale = select(page);
        if (stale.length === 0) continue;
        const planned = this.planPage(stale, reads);
        planned.catch((err: unknown) => (failure ??= { err }));
        pages.push(planned);
        if (failure) break;
      }
    } catch (err) {
      failure ??= { err };
    }
    const settled = await Promise.allSettled(pages);
    if (failure) throw failure.err;
    const jobs: PlannedJob[] = [];
    const stored: SubmittedSegmentJob[] = [];
    for (const page of settled) {
      // Every page fulfilled: a rejection would have set `failure`.
      if (page.status !== "fulfilled") continue;
      jobs.push(...page.value.jobs);
      stored.push(...page.value.stored);
    }
    // The holders in submission order of their jobs, as when every page's jobs are read in one statement.
    const holders = holdersBySegment(stored.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0)));
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

  /** The reads the pages of one plan share; each asset is read once per plan, when a page first names it. */
  private planReads(caller: Caller | undefined, failed: () => boolean): PlanReads {
    const current = new Map<string, CurrentVersion>();
    const asked = new Map<string, Promise<void>>();
    return {
      caller,
      receiptsCall: concurrencyLimit(PAGES_IN_FLIGHT),
      current,
      failed,
      assetsRead: (assetIds) => {
        const unasked = assetIds.filter((id) => !asked.has(id));
        if (unasked.length > 0) {
          const read = this.sources.assets(unasked, caller).then((assets) => {
            for (const [id, version] of currentVersionsOf(assets)) current.set(id, version);
          });
          // A page that failed before waiting for this read leaves it to the pages that do wait (or to nobody).
          read.catch(() => {});
          for (const id of unasked) asked.set(id, read);
        }
        return Promise.all(assetIds.map((id) => asked.get(id)));
      },
    };
  }

  /** One page's jobs: its segments no job holds, with their current receipts, against the assets' current versions. */
  private async planPage(stale: StaleSegment[], reads: PlanReads): Promise<PagePlan> {
    const stored = await this.jobs.ofSegments(stale.map((s) => s.segmentId));
    const holders = holdersBySegment(stored);
    const candidates = stale.filter((s) => !holders.has(s.segmentId));
    if (candidates.length === 0) return { jobs: [], stored };
    const assetsRead = reads.assetsRead([...new Set(candidates.flatMap((s) => s.reasons.map((r) => r.assetId)))]);
    const receipts = reads.receiptsCall(async () => {
      if (reads.failed()) throw new Error("the plan failed already");
      return this.sources.currentReceipts(candidates.map((s) => s.segmentId), reads.caller);
    });
    const [provenance] = await Promise.all([receipts, assetsRead]);
    const jobs: PlannedJob[] = [];
    candidates.forEach((segment, i) => {
      const p = provenance[i];
      if (!p?.segment?.active || !p.currentReceipt) return;
      const job = buildPlannedJob(segment, p.currentReceipt, reads.current);
      if (job) jobs.push(job);
    });
    return { jobs, stored };
  }
}
