import { describe, expect, it } from "vitest";
import { receiptDraft, runningReceipt, thrownBy } from "../../test/receipt-fixtures.js";
import { batchEntry } from "./batch-entries.js";
import type { ReceiptRecord } from "./receipt-record.js";
import { checkSupersessionTargets, supersededBy, supersededSegmentIds, supersessionsOf } from "./supersession.js";

function succeeded(r: ReceiptRecord): ReceiptRecord {
  return { ...r, status: "SUCCEEDED", generationCompletedAt: new Date("2026-11-21T10:05:00Z"), generationDurationMs: 300_000 };
}

describe("what a receipt may supersede", () => {
  it("lists the superseded segments to look up, and refuses a segment superseding itself", () => {
    const drafts = [receiptDraft({ segmentId: "new-1", supersedesSegmentId: "old-1" }), receiptDraft({ segmentId: "plain" })];
    expect(supersededSegmentIds(drafts, batchEntry)).toEqual(["old-1"]);
    const err = thrownBy(() => supersededSegmentIds([drafts[1]!, receiptDraft({ segmentId: "x", supersedesSegmentId: "x" })], batchEntry));
    expect(err.code).toBe("invalid_argument");
    expect(err.field).toBe("receipts[1].supersedes_segment_id");
  });

  it("the superseded segment must exist, stored or new in the same batch, in the same project", () => {
    const stored = new Map([["old-1", "p-1"]]);
    const ok = [receiptDraft({ segmentId: "new-1", projectId: "p-1", supersedesSegmentId: "old-1" })];
    expect(() => checkSupersessionTargets(ok, stored, batchEntry)).not.toThrow();
    const inBatch = [
      receiptDraft({ segmentId: "new-2", projectId: "p-1", supersedesSegmentId: "batch-old" }),
      receiptDraft({ segmentId: "batch-old", projectId: "p-1" }),
    ];
    expect(() => checkSupersessionTargets(inBatch, new Map(), batchEntry)).not.toThrow();

    const missing = thrownBy(() =>
      checkSupersessionTargets([receiptDraft({ projectId: "p-1" }), receiptDraft({ projectId: "p-1", supersedesSegmentId: "nowhere" })], stored, batchEntry),
    );
    expect(missing.field).toBe("receipts[1].supersedes_segment_id");
    expect(missing.message).toContain('"nowhere" does not exist');
    const otherProject = thrownBy(() =>
      checkSupersessionTargets([receiptDraft({ projectId: "p-2", supersedesSegmentId: "old-1" })], stored, () => ""),
    );
    expect(otherProject.field).toBe("supersedes_segment_id");
    expect(otherProject.message).toBe('supersedes_segment_id: segment "old-1" cannot be superseded from this project');
    expect(otherProject.message).not.toContain("p-1");
  });

  it("only a SUCCEEDED receipt supersedes, and a segment is superseded once, by the first that names it", () => {
    const failed = { ...runningReceipt({ segmentId: "n-f", supersedesSegmentId: "old" }), status: "FAILED" as const };
    const first = succeeded(runningReceipt({ segmentId: "n-1", supersedesSegmentId: "old" }));
    const second = succeeded(runningReceipt({ segmentId: "n-2", supersedesSegmentId: "old" }));
    const plain = succeeded(runningReceipt({ segmentId: "n-3" }));
    const running = runningReceipt({ segmentId: "n-r", supersedesSegmentId: "other" });
    const supersessions = supersessionsOf([failed, first, second, plain, running]);
    expect(supersessions).toEqual([{ oldSegmentId: "old", newSegmentId: "n-1", receiptId: first.receiptId }]);

    const marked = new Set(["old"]);
    expect(supersededBy(first, supersessions, marked)).toBe("old");
    expect(supersededBy(second, supersessions, marked)).toBe("");
    expect(supersededBy(plain, supersessions, marked)).toBe("");
    // Already superseded earlier: the store marked nothing, so no event claims it.
    expect(supersededBy(first, supersessions, new Set())).toBe("");
  });
});
