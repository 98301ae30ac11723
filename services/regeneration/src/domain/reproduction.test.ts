import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DomainError, ReceiptSchema, ReceiptStatus } from "@provenance/shared";
import { NO_PROGRESS } from "./job-progress.js";
import { reproducibleReceipt, reproductionSegmentIdFor, verdictOf, type ReproductionProgress } from "./reproduction.js";

const IN = "a".repeat(64);
const OUT = "b".repeat(64);

function fault(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("expected a DomainError");
}

function seen(p: Partial<ReproductionProgress>): ReproductionProgress {
  return { ...NO_PROGRESS, actualOutputHash: null, newReceiptId: "r-new", ...p };
}

describe("reproduction verdicts", () => {
  const r = { expectedInputsHash: IN, expectedOutputHash: OUT };

  it("is decided only once the new receipt SUCCEEDED", () => {
    expect(verdictOf({ ...r, progress: { ...NO_PROGRESS, actualOutputHash: null } })).toBeUndefined();
    expect(verdictOf({ ...r, progress: seen({ receiptStatus: "RUNNING", actualInputsHash: IN }) })).toBeUndefined();
    expect(verdictOf({ ...r, progress: seen({ receiptStatus: "FAILED", actualInputsHash: IN }) })).toBeUndefined();
  });

  it("compares inputs hash first, then output hash (any case)", () => {
    expect(verdictOf({ ...r, progress: seen({ receiptStatus: "SUCCEEDED", actualInputsHash: IN, actualOutputHash: OUT.toUpperCase() }) })).toBe("identical");
    expect(verdictOf({ ...r, progress: seen({ receiptStatus: "SUCCEEDED", actualInputsHash: IN, actualOutputHash: "c".repeat(64) }) })).toBe("output_differs");
    expect(verdictOf({ ...r, progress: seen({ receiptStatus: "SUCCEEDED", actualInputsHash: "d".repeat(64), actualOutputHash: OUT }) })).toBe("inputs_differ");
  });

  it("has none when either side recorded no output hash", () => {
    expect(verdictOf({ ...r, progress: seen({ receiptStatus: "SUCCEEDED", actualInputsHash: IN, actualOutputHash: null }) })).toBeUndefined();
    expect(verdictOf({ ...r, expectedOutputHash: "", progress: seen({ receiptStatus: "SUCCEEDED", actualInputsHash: IN, actualOutputHash: OUT }) })).toBeUndefined();
  });
});

describe("what can be reproduced", () => {
  const receipt = create(ReceiptSchema, { receiptId: "r-1", projectId: "p1", status: ReceiptStatus.SUCCEEDED });

  it("a SUCCEEDED receipt of the request's project", () => {
    expect(reproducibleReceipt({ projectId: "p1", receiptId: "r-1", segmentId: "" }, { projectId: "p1", receipt })).toBe(receipt);
  });

  it("answers another project's receipt or segment as unknown, naming no project", () => {
    const r = fault(() => reproducibleReceipt({ projectId: "p2", receiptId: "r-1", segmentId: "" }, { projectId: "p1", receipt }));
    expect([r.code, r.message]).toEqual(["not_found", `receipt "r-1" not found`]);
    const s = fault(() => reproducibleReceipt({ projectId: "p2", receiptId: "", segmentId: "s-1" }, { projectId: "p1", receipt }));
    expect(s.message).toBe(`segment "s-1" not found`);
  });

  it("refuses a segment without a current receipt and a receipt that is not SUCCEEDED", () => {
    const none = fault(() => reproducibleReceipt({ projectId: "p1", receiptId: "", segmentId: "s-1" }, { projectId: "p1", receipt: undefined }));
    expect(none.code).toBe("failed_precondition");
    const running = create(ReceiptSchema, { receiptId: "r-2", projectId: "p1", status: ReceiptStatus.RUNNING });
    const err = fault(() => reproducibleReceipt({ projectId: "p1", receiptId: "r-2", segmentId: "" }, { projectId: "p1", receipt: running }));
    expect(err.message).toBe(`receipt "r-2" is RUNNING: only a SUCCEEDED receipt can be reproduced`);
  });

  it("names the new segment after the original, or the job when too long", () => {
    expect(reproductionSegmentIdFor("seg-1", "0192f0c4-7a1e-7c3a-9f00-000000000001")).toBe("seg-1-repro-0192f0c4");
    expect(reproductionSegmentIdFor("s".repeat(195), "job-id")).toBe("job-id");
  });
});
