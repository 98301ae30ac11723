import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { CompleteReceiptRequestSchema, ReceiptStatus } from "@provenance/shared";
import { runningReceipt, sha, thrownBy } from "../../test/receipt-fixtures.js";
import { applyCompletion, completionFromRequest, type Completion } from "./completion.js";

const at = new Date("2026-11-21T10:01:30.250Z");

function completion(receiptId: string, overrides: Partial<Completion> = {}): Completion {
  return { receiptId, status: "SUCCEEDED", completedAt: at, outputHash: sha("output"), ...overrides };
}

describe("completing a receipt", () => {
  it("maps a request: status, completed-at, output hash in lower case or none", () => {
    const c = completionFromRequest(
      create(CompleteReceiptRequestSchema, {
        receiptId: "r",
        status: ReceiptStatus.FAILED,
        generationCompletedAt: timestampFromDate(at),
        outputHash: sha("x").toUpperCase(),
      }),
    );
    expect(c).toEqual({ receiptId: "r", status: "FAILED", completedAt: at, outputHash: sha("x") });
    const none = completionFromRequest(
      create(CompleteReceiptRequestSchema, { receiptId: "r", status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(at) }),
    );
    expect(none.outputHash).toBeNull();
  });

  it("sets the completion fields of a RUNNING receipt once, with the duration from its start", () => {
    const stored = runningReceipt();
    const { receipt, changed } = applyCompletion(stored, completion(stored.receiptId), "");
    expect(changed).toBe(true);
    expect(receipt).toEqual({ ...stored, status: "SUCCEEDED", generationCompletedAt: at, generationDurationMs: 90_250, outputHash: sha("output") });
    expect(stored.status).toBe("RUNNING");
  });

  it("a completion before the start is INVALID_ARGUMENT on generation_completed_at, prefixed for a batch entry", () => {
    const stored = runningReceipt();
    const err = thrownBy(() => applyCompletion(stored, completion(stored.receiptId, { completedAt: new Date("2020-01-01T00:00:00Z") }), "receipts[2]."));
    expect(err.code).toBe("invalid_argument");
    expect(err.field).toBe("receipts[2].generation_completed_at");
  });

  it("the identical completion of a completed receipt is a retry: the stored receipt, nothing changed", () => {
    const stored = runningReceipt();
    const done = applyCompletion(stored, completion(stored.receiptId), "").receipt;
    const retry = applyCompletion(done, completion(stored.receiptId, { completedAt: new Date(at.getTime()) }), "");
    expect(retry.changed).toBe(false);
    expect(retry.receipt).toBe(done);
    const withoutHash = applyCompletion(stored, completion(stored.receiptId, { status: "FAILED", outputHash: null }), "").receipt;
    expect(applyCompletion(withoutHash, completion(stored.receiptId, { status: "FAILED", outputHash: null }), "").changed).toBe(false);
  });

  it("any other completion of a completed receipt is FAILED_PRECONDITION naming each field that differs", () => {
    const stored = runningReceipt();
    const done = applyCompletion(stored, completion(stored.receiptId), "").receipt;
    const status = thrownBy(() => applyCompletion(done, completion(stored.receiptId, { status: "FAILED" }), "receipts[1]."));
    expect(status.code).toBe("failed_precondition");
    expect(status.message).toMatch(/^receipts\[1\]\.receipt .* is already completed \(SUCCEEDED\); receipts are immutable/);
    expect(status.message).toContain("status (stored SUCCEEDED, sent FAILED)");
    expect(status.message).not.toContain("generation_completed_at");
    expect(status.message).not.toContain("output_hash");

    const time = thrownBy(() => applyCompletion(done, completion(stored.receiptId, { completedAt: new Date(at.getTime() + 1) }), ""));
    expect(time.code).toBe("failed_precondition");
    expect(time.message).toContain("generation_completed_at (stored 2026-11-21T10:01:30.250Z, sent 2026-11-21T10:01:30.251Z)");
    expect(time.message).not.toContain("status (");

    const hash = thrownBy(() => applyCompletion(done, completion(stored.receiptId, { outputHash: null }), ""));
    expect(hash.code).toBe("failed_precondition");
    expect(hash.message).toContain(`output_hash (stored ${sha("output")}, sent none)`);

    const all = thrownBy(() =>
      applyCompletion(done, completion(stored.receiptId, { status: "FAILED", completedAt: new Date(0), outputHash: sha("other") }), ""),
    );
    expect(all.message).toMatch(/status .*, generation_completed_at .*, output_hash /);
  });
});
