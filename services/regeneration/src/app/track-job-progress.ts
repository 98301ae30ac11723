/**
 * Job progress from the pipeline's receipts (the receipt-event consumer's use case): each receipt carrying a job's
 * id is applied to that job once, in one transaction with the inbox record of its event, and the job's status and
 * error are derived again from what has been seen (domain/job-progress.ts).
 */
import type { DataSource } from "typeorm";
import { markProcessed } from "@provenance/shared";
import { applyReceipt, jobErrorOf, jobStatusOf, type JobStatusName, type ReceiptObservation } from "../domain/job-progress.js";
import { heldBackError, heldBackStatus, isOpenStatus } from "../domain/open-jobs.js";
import { JobRepository } from "../persistence/job-repository.js";
import { REGENERATION_SCHEMA } from "../persistence/migrations/index.js";

/** The durable consumer of receipt events, and the inbox its processed events are recorded under. */
export const LIFECYCLE_CONSUMER = "regeneration-job-lifecycle";

/** What applying a receipt did to a job. */
export type ReceiptApplied = "unknown_job" | "duplicate" | "unchanged" | { status: JobStatusName };

/** The TrackJobProgress use case. */
export class TrackJobProgress {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Applies a receipt carrying `jobId` to the job, once per event id: records the receipt, re-derives the status and
   * error. Unknown jobs (another deployment's) are ignored. Idempotent and independent of event order.
   */
  async apply(jobId: string, seen: ReceiptObservation, eventId: string): Promise<ReceiptApplied> {
    return this.dataSource.transaction(async (m) => {
      const jobs = new JobRepository(m);
      const job = await jobs.lock(jobId);
      if (!job) return "unknown_job";
      if (eventId && !(await markProcessed(m, REGENERATION_SCHEMA, LIFECYCLE_CONSUMER, eventId))) return "duplicate";
      const next = applyReceipt(job.progress, seen);
      if (!next) return "unchanged";
      const expected = job.plan.expectedInputsHash;
      const derived = jobStatusOf(expected, next);
      // Re-opening a job (a retried receipt) must not make a second open job of its segment.
      const otherOpen =
        isOpenStatus(derived) && !isOpenStatus(job.status)
          ? (await jobs.ofSegments([job.plan.oldSegmentId])).find((j) => j.jobId !== jobId && isOpenStatus(j.status))
          : undefined;
      const { status, heldBy } = heldBackStatus(derived, job.status, otherOpen);
      await jobs.updateProgress(jobId, next, status, heldBy ? heldBackError(next.newReceiptId, heldBy) : jobErrorOf(expected, next));
      return { status };
    });
  }
}
