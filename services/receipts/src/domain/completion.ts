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
  /** Who completes it: the caller's `sub` (recorded as completed_by; not part of what a retry must repeat). */
  completedBy?: string;
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
  /** False when the receipt was already completed exactly so (a retry): nothing to write, no event. */
  changed: boolean;
}

/** The completion fields in which `c` differs from how `stored` was completed, as "field (stored …, sent …)". */
function differences(stored: ReceiptRecord, c: Completion): string[] {
  const out: string[] = [];
  if (stored.status !== c.status) out.push(`status (stored ${stored.status}, sent ${c.status})`);
  const at = stored.generationCompletedAt;
  if (at === null || at.getTime() !== c.completedAt.getTime()) {
    out.push(`generation_completed_at (stored ${at?.toISOString() ?? "none"}, sent ${c.completedAt.toISOString()})`);
  }
  if (stored.outputHash !== c.outputHash) {
    out.push(`output_hash (stored ${stored.outputHash ?? "none"}, sent ${c.outputHash ?? "none"})`);
  }
  return out;
}

/**
 * Applies a completion to a stored receipt. A RUNNING receipt gets its completion fields, once, with the duration
 * derived from its start (INVALID_ARGUMENT on `generation_completed_at` when the completion is before the start).
 * A completed receipt is immutable: the identical completion again (same status, same completed-at to the
 * millisecond, same output hash) is a retry of one whose reply was lost and gets the stored receipt unchanged; any
 * other is FAILED_PRECONDITION naming what differs. A LEGACY receipt is never completed: FAILED_PRECONDITION. `entry`
 * prefixes fields and messages.
 */
export function applyCompletion(stored: ReceiptRecord, c: Completion, entry: string): CompletionOutcome {
  if (stored.status === "LEGACY") {
    throw failedPrecondition(
      `${entry}receipt ${c.receiptId} is a LEGACY receipt (a segment made before receipts were recorded): it was never running and cannot be completed`,
    );
  }
  if (stored.status === "RUNNING") {
    const durationMs = withFieldPrefix(entry, () => generationDurationMs(stored.generationStartedAt, c.completedAt));
    return {
      receipt: {
        ...stored,
        status: c.status,
        generationCompletedAt: c.completedAt,
        generationDurationMs: durationMs,
        outputHash: c.outputHash,
        completedBy: c.completedBy ?? null,
      },
      changed: true,
    };
  }
  const differs = differences(stored, c);
  if (differs.length === 0) return { receipt: stored, changed: false };
  throw failedPrecondition(
    `${entry}receipt ${c.receiptId} is already completed (${stored.status}); receipts are immutable, and this completion differs in ${differs.join(", ")}`,
  );
}
