/** Completing a receipt: the fields set once, the duration derived, and when a repeat is a retry. Pure, no I/O. */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { failedPrecondition, ReceiptStatus, withFieldPrefix, type CompleteReceiptRequest } from "@provenance/shared";
import { generationDurationMs } from "./new-receipt.js";
import type { ReceiptRecord } from "./receipt-record.js";

/** The statuses a completion may set. */
export type CompletionStatus = "SUCCEEDED" | "FAILED";

/** What CompleteReceipt sets on one receipt. */
export interface Completion {
  receiptId: string;
  status: CompletionStatus;
  /** Millisecond precision, as stored. */
  completedAt: Date;
  /** Lower-case hex; null when none was sent. */
  outputHash: string | null;
}

/** The completion a CompleteReceipt request (one that passed the rule table) asks for. */
export function completionFromRequest(req: CompleteReceiptRequest): Completion {
  return {
    receiptId: req.receiptId,
    status: req.status === ReceiptStatus.SUCCEEDED ? "SUCCEEDED" : "FAILED",
    completedAt: timestampDate(req.generationCompletedAt!),
    outputHash: req.outputHash === "" ? null : req.outputHash.toLowerCase(),
  };
}

/** What a completion does to a stored receipt. */
export interface CompletionOutcome {
  /** The receipt as it is after the completion. */
  receipt: ReceiptRecord;
  /** Whether there is something to write (and an event to emit). */
  changed: boolean;
}

/**
 * Applies a completion to a stored receipt. A RUNNING receipt gets its completion fields, once, with the duration
 * derived from its start (INVALID_ARGUMENT on `generation_completed_at` when the completion is before it). A completed
 * receipt is immutable: completing it again is FAILED_PRECONDITION. `entry` prefixes fields and messages.
 */
export function applyCompletion(stored: ReceiptRecord, c: Completion, entry: string): CompletionOutcome {
  if (stored.status !== "RUNNING") {
    throw failedPrecondition(`${entry}receipt ${c.receiptId} is already completed (${stored.status}); receipts are immutable`);
  }
  const durationMs = withFieldPrefix(entry, () => generationDurationMs(stored.generationStartedAt, c.completedAt));
  return {
    receipt: { ...stored, status: c.status, generationCompletedAt: c.completedAt, generationDurationMs: durationMs, outputHash: c.outputHash },
    changed: true,
  };
}
