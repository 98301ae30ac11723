import { describe, expect, it } from "vitest";
import { receiptDraft, runningReceipt, thrownBy } from "../../test/receipt-fixtures.js";
import { replayedReceipt } from "./idempotency.js";

describe("CreateReceipt idempotency", () => {
  it("a retry (same key, same fingerprint) gets the stored receipt", () => {
    const stored = runningReceipt({ idempotencyKey: "k-1", segmentId: "s-1", sequenceIndex: 1 });
    const retry = receiptDraft({ idempotencyKey: "k-1", segmentId: "s-1", sequenceIndex: 1 });
    expect(retry.requestFingerprint).toBe(stored.requestFingerprint);
    expect(replayedReceipt(retry, stored, "")).toBe(stored);
  });

  it("the same key with other content is ALREADY_EXISTS naming the key and the receipt", () => {
    const stored = runningReceipt({ idempotencyKey: "k-2", segmentId: "s-2", sequenceIndex: 1 });
    const other = receiptDraft({ idempotencyKey: "k-2", segmentId: "s-2", sequenceIndex: 1, promptText: "something else" });
    const err = thrownBy(() => replayedReceipt(other, stored, "receipts[4]."));
    expect(err.code).toBe("already_exists");
    expect(err.message).toMatch(/^receipts\[4\]\.idempotency_key "k-2" was already used for receipt /);
    expect(err.message).toContain(stored.receiptId);
  });

  it("a key held by a concurrent call that has not committed is FAILED_PRECONDITION", () => {
    const err = thrownBy(() => replayedReceipt(receiptDraft({ idempotencyKey: "k-3" }), undefined, ""));
    expect(err.code).toBe("failed_precondition");
    expect(err.message).toContain("concurrent");
  });
});
