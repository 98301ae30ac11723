/** Which receipt of a segment is its current one: pure, no I/O. */
import type { ReceiptRecord } from "./receipt-record.js";

/**
 * A segment's current receipt: its latest receipt with status SUCCEEDED; a RUNNING or FAILED receipt never replaces
 * it. `history` is the segment's receipts newest first. (ListSegments applies the same rule in SQL, set-based, in
 * persistence/statements.ts; its tests check it against GetSegmentProvenance, which uses this function.)
 */
export function currentReceiptOf(history: readonly ReceiptRecord[]): ReceiptRecord | undefined {
  return history.find((r) => r.status === "SUCCEEDED");
}
