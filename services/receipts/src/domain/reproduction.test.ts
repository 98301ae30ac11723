import { describe, expect, it } from "vitest";
import { DomainError } from "@provenance/shared";
import { batchEntry, singleCall } from "./batch-entries.js";
import type { ReceiptDraft } from "./new-receipt.js";
import { checkReproductionTargets, reproducedReceiptIds } from "./reproduction.js";

const ORIGINAL = "0192f0c4-7a1e-7c3a-9f00-000000000001";

function draft(reproductionOfReceiptId: string | null, supersedesSegmentId: string | null = null, projectId = "p1"): ReceiptDraft {
  return {
    segment: { segmentId: "seg-repro", sceneId: "s1", projectId, characterName: "anna", sequenceIndex: 0, supersedesSegmentId },
    supersedesSegmentId,
    reproductionOfReceiptId,
  } as ReceiptDraft;
}

function fault(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("expected a DomainError");
}

describe("reproductions", () => {
  it("lists the receipts a batch reproduces", () => {
    expect(reproducedReceiptIds([draft(null), draft(ORIGINAL)], batchEntry)).toEqual([ORIGINAL]);
  });

  it("refuses an id that is no receipt id, and a reproduction that would supersede", () => {
    const notId = fault(() => reproducedReceiptIds([draft(null), draft("r-1")], batchEntry));
    expect(notId.field).toBe("receipts[1].reproduction_of_receipt_id");
    const supersedes = fault(() => reproducedReceiptIds([draft(ORIGINAL, "seg-old")], singleCall));
    expect(supersedes.field).toBe("reproduction_of_receipt_id");
    expect(supersedes.message).toContain("supersedes no segment");
  });

  it("needs the reproduced receipt stored in the same project, naming no other project", () => {
    const missing = fault(() => checkReproductionTargets([draft(ORIGINAL)], new Map(), singleCall));
    expect(missing.message).toBe(`reproduction_of_receipt_id: receipt "${ORIGINAL}" does not exist`);
    const other = fault(() => checkReproductionTargets([draft(ORIGINAL)], new Map([[ORIGINAL, "p2"]]), singleCall));
    expect(other.message).toBe(`reproduction_of_receipt_id: receipt "${ORIGINAL}" cannot be reproduced from this project`);
    expect(other.message).not.toContain("p2");
    expect(() => checkReproductionTargets([draft(ORIGINAL)], new Map([[ORIGINAL, "p1"]]), singleCall)).not.toThrow();
  });
});
