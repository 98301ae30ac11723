/** CreateReceipt's idempotency rule: pure, no I/O. */
import { alreadyExists, failedPrecondition } from "@provenance/shared";
import type { ReceiptDraft } from "./new-receipt.js";
import type { ReceiptRecord } from "./receipt-record.js";

/**
 * The answer to a CreateReceipt whose idempotency key was already used: the same key with the same request
 * fingerprint is a retry and gets the stored receipt; with another fingerprint it is ALREADY_EXISTS. `stored` is the
 * receipt holding the key (undefined when a concurrent call holds it and has not committed); `entry` prefixes the field.
 */
export function replayedReceipt(draft: ReceiptDraft, stored: ReceiptRecord | undefined, entry: string): ReceiptRecord {
  if (!stored) {
    throw failedPrecondition(`${entry}idempotency_key "${draft.idempotencyKey}" is being used by a concurrent call`);
  }
  if (stored.requestFingerprint !== draft.requestFingerprint) {
    throw alreadyExists(
      `${entry}idempotency_key "${draft.idempotencyKey}" was already used for receipt ${stored.receiptId} with different content`,
    );
  }
  return stored;
}
