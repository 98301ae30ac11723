/**
 * A job's lifecycle, derived from the receipts the pipeline recorded for it. Status is never
 * advanced step by step: it is a function of the facts seen so far, so receipt events may arrive
 * in any order, more than once, and still give the same answer.
 */

/** A job's status, as stored. */
export type JobStatusName = "submitted" | "running" | "succeeded" | "failed" | "inputs_mismatch";

/** Every status, in lifecycle order. */
export const JOB_STATUSES: readonly JobStatusName[] = ["submitted", "running", "succeeded", "failed", "inputs_mismatch"];

/** A receipt's status as the receipts service reports it. */
export type ReceiptStatusName = "RUNNING" | "SUCCEEDED" | "FAILED";

/** What the job knows of the receipt the pipeline recorded for it. */
export interface JobProgress {
  readonly newReceiptId: string | null;
  readonly newReceiptCreatedAt: Date | null;
  readonly actualInputsHash: string | null;
  readonly receiptStatus: ReceiptStatusName | null;
  readonly completedAt: Date | null;
}

/** Progress of a job nothing has been recorded for yet. */
export const NO_PROGRESS: JobProgress = {
  newReceiptId: null,
  newReceiptCreatedAt: null,
  actualInputsHash: null,
  receiptStatus: null,
  completedAt: null,
};

/** One receipt carrying the job's id, from provenance.receipt.created or .completed. */
export interface ReceiptObservation {
  readonly receiptId: string;
  readonly createdAt: Date;
  readonly inputsHash: string;
  readonly status: ReceiptStatusName;
  readonly completedAt: Date | null;
}

function isTerminal(status: ReceiptStatusName | null): boolean {
  return status === "SUCCEEDED" || status === "FAILED";
}

/**
 * The progress after seeing `seen`, or undefined when it changes nothing. For the same receipt a
 * completion is kept once seen (a late "created" never undoes it). A different receipt (the pipeline
 * retried under a new key) replaces the known one unless that one succeeded or is newer.
 */
export function applyReceipt(progress: JobProgress, seen: ReceiptObservation): JobProgress | undefined {
  const next: JobProgress = {
    newReceiptId: seen.receiptId,
    newReceiptCreatedAt: seen.createdAt,
    actualInputsHash: seen.inputsHash.toLowerCase(),
    receiptStatus: seen.status,
    completedAt: seen.completedAt,
  };
  if (progress.newReceiptId === null) return next;
  if (progress.newReceiptId !== seen.receiptId) {
    if (progress.receiptStatus === "SUCCEEDED") return undefined;
    if (progress.newReceiptCreatedAt && progress.newReceiptCreatedAt.getTime() > seen.createdAt.getTime()) return undefined;
    return next;
  }
  if (isTerminal(progress.receiptStatus) || !isTerminal(seen.status)) return undefined;
  return next;
}

/** The status that follows from the expected hash and what has been seen. */
export function jobStatusOf(expectedInputsHash: string, progress: JobProgress): JobStatusName {
  if (progress.newReceiptId === null) return "submitted";
  if (progress.actualInputsHash !== null && progress.actualInputsHash !== expectedInputsHash.toLowerCase()) return "inputs_mismatch";
  if (progress.receiptStatus === "SUCCEEDED") return "succeeded";
  if (progress.receiptStatus === "FAILED") return "failed";
  return "running";
}

/** A one-line explanation for a failed or mismatched job; "" otherwise. */
export function jobErrorOf(expectedInputsHash: string, progress: JobProgress): string {
  switch (jobStatusOf(expectedInputsHash, progress)) {
    case "inputs_mismatch":
      return `receipt ${progress.newReceiptId} has inputs hash ${progress.actualInputsHash}, expected ${expectedInputsHash}: the pipeline did not use the planned inputs`;
    case "failed":
      return `receipt ${progress.newReceiptId} completed FAILED; the old segment stays current`;
    default:
      return "";
  }
}
