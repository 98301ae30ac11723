/**
 * Which jobs keep a segment from getting another job. PlanRegeneration leaves such segments out and
 * SubmitRegeneration refuses them inside its transaction; the database holds the core of the rule on its own
 * (at most one open job per old segment, a UNIQUE partial index), so two concurrent submits cannot both win.
 */
import type { JobStatusName, ReceiptStatusName } from "./job-progress.js";

/**
 * The statuses of an open job: nothing is known of its generation yet, or its receipt is running as planned. The
 * database keeps at most one job in these statuses per old segment (`jobs_one_open_job_per_segment_idx`, migration
 * 1732400000005, whose predicate lists exactly these).
 */
export const OPEN_JOB_STATUSES: readonly JobStatusName[] = ["submitted", "running"];

/** Whether a status is one of {@link OPEN_JOB_STATUSES}. */
export function isOpenStatus(status: JobStatusName): boolean {
  return OPEN_JOB_STATUSES.includes(status);
}

/** What the rule reads of a stored job. */
export interface SegmentJob {
  readonly jobId: string;
  readonly batchId: string;
  readonly oldSegmentId: string;
  readonly status: JobStatusName;
  /** The status of the job's latest receipt; null before the pipeline recorded one. */
  readonly receiptStatus: ReceiptStatusName | null;
}

/**
 * Whether `job` keeps its old segment from getting another job: every job does, until its receipt completes FAILED.
 * A submitted or running job is in flight; a mismatched job whose receipt is still running may yet succeed (and
 * supersede the segment); a job whose receipt succeeded has already replaced the segment, mismatched or not. Only a
 * failed generation leaves the old segment current, so only then may a new job be planned for it.
 */
export function holdsSegment(job: SegmentJob): boolean {
  return job.receiptStatus !== "FAILED";
}

/** The job holding each segment, by old segment id (an open one when there are several). */
export function holdersBySegment(jobs: readonly SegmentJob[]): Map<string, SegmentJob> {
  const out = new Map<string, SegmentJob>();
  for (const job of jobs) {
    if (!holdsSegment(job)) continue;
    const known = out.get(job.oldSegmentId);
    if (!known || (!isOpenStatus(known.status) && isOpenStatus(job.status))) out.set(job.oldSegmentId, job);
  }
  return out;
}

/** How many holders a message names before it says "and N more". */
const NAMED_IN_MESSAGE = 5;

function describeHolders(held: readonly SegmentJob[]): string {
  const named = held.slice(0, NAMED_IN_MESSAGE).map((j) => `segment "${j.oldSegmentId}" (regeneration job ${j.jobId}, ${j.status})`);
  const more = held.length - named.length;
  return more > 0 ? `${named.join(", ")} and ${more} more` : named.join(", ");
}

/** The FAILED_PRECONDITION message of a submission some of whose planned segments are held by then. */
export function segmentsHeldMessage(held: readonly SegmentJob[]): string {
  const what = held.length === 1 ? "a regeneration job already exists" : "regeneration jobs already exist";
  return `cannot submit: ${what} for ${describeHolders(held)}; nothing of this submission was written — plan again and submit what is left`;
}

/** The FAILED_PRECONDITION message when the database refused a second open job for `segmentId` (a concurrent submit won). */
export function openJobConflictMessage(segmentId: string | undefined): string {
  const which = segmentId === undefined ? "a selected segment" : `segment "${segmentId}"`;
  return (
    `cannot submit: ${which} already has a regeneration job submitted or running (a concurrent submission took it first); ` +
    "nothing of this submission was written — plan again and submit what is left"
  );
}

/** The FAILED_PRECONDITION message of a selection with nothing left to regenerate; names the segments held by jobs. */
export function nothingToRegenerateMessage(projectId: string, held: readonly SegmentJob[]): string {
  const base = `nothing to regenerate: no stale active segment of project "${projectId}" matches the selection`;
  if (held.length === 0) return base;
  return `${base} and has no regeneration job yet; jobs exist for ${describeHolders(held)}`;
}

/**
 * The status to store for a job whose progress says `derived`, when `otherOpen` is another open job of the same old
 * segment. That happens only when the pipeline retries a failed job after a new job was submitted for its segment:
 * the database allows one open job per segment, so the retried job keeps the status it had (`previous`) until its
 * receipt completes, and its error says why.
 */
export function heldBackStatus(
  derived: JobStatusName,
  previous: JobStatusName,
  otherOpen: SegmentJob | undefined,
): { status: JobStatusName; heldBy?: SegmentJob } {
  if (!isOpenStatus(derived) || !otherOpen || isOpenStatus(previous)) return { status: derived };
  return { status: previous, heldBy: otherOpen };
}

/** The error of a job held back by {@link heldBackStatus}. */
export function heldBackError(receiptId: string | null, heldBy: SegmentJob): string {
  return (
    `receipt ${receiptId} of a retried generation is running, but regeneration job ${heldBy.jobId} is open for segment ` +
    `"${heldBy.oldSegmentId}"; this job keeps its status until that receipt completes`
  );
}
