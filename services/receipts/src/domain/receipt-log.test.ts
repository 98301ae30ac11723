import { describe, expect, it } from "vitest";
import { hashLeaf } from "@provenance/shared/receipt-log";
import { runningReceipt, sha } from "../../test/receipt-fixtures.js";
import { FrontierTree, checkLeaf, completionView, leafOfReceipt, leafOfView, recomputedInputsHash, servedView } from "./receipt-log.js";
import { toReceiptMessage, type ReceiptRecord } from "./receipt-record.js";

const completed = (r: ReceiptRecord, outputHash: string | null): ReceiptRecord => ({
  ...r,
  status: outputHash ? "SUCCEEDED" : "FAILED",
  generationCompletedAt: new Date("2026-11-21T10:01:30.2507Z"),
  generationDurationMs: 90_250,
  outputHash,
  completedBy: "test:pipeline-2",
});

describe("the receipt log's leaves of stored receipts", () => {
  const records = [
    completed(runningReceipt(), sha("out")),
    completed(runningReceipt({ variantImage: undefined, loras: [], regenerationJobId: "job-1", supersedesSegmentId: "seg-0" }), null),
    runningReceipt({ loras: [{ asset: { assetId: "l1", contentHash: sha("l1"), version: 0 }, weight: -0.25 }, { asset: { assetId: "l2", contentHash: sha("l2"), version: 9 }, weight: 1 }] }),
  ];

  it("the integrator's views (whole receipt, completion columns) give the same leaves and inputs hash as the served message", () => {
    for (const r of records) {
      expect(leafOfView(servedView(r), "receipt.created")).toBe(leafOfReceipt(r, "receipt.created"));
      if (r.status !== "RUNNING") {
        expect(leafOfView(servedView(r), "receipt.completed")).toBe(leafOfReceipt(r, "receipt.completed"));
        expect(leafOfView(completionView(r), "receipt.completed")).toBe(leafOfReceipt(r, "receipt.completed"));
      }
      expect(recomputedInputsHash(servedView(r))).toBe(r.inputsHash);
    }
  });

  it("checkLeaf holds for an untouched receipt and names what differs", () => {
    const r = records[0]!;
    const leaf = { leafIndex: 3, receiptId: r.receiptId, event: "receipt.created" as const, leaf: leafOfReceipt(r, "receipt.created") };
    expect(checkLeaf(leaf, r)).toEqual([]);
    expect(checkLeaf(leaf, { ...r, promptText: "changed" }).map((f) => f.check)).toEqual(["inputs_hash"]);
    expect(checkLeaf(leaf, { ...r, workflowVersion: "other" }).map((f) => f.check)).toEqual(["leaf"]);
    expect(checkLeaf(leaf, { ...r, workflowVersion: "other" }, { rebuild: false })).toEqual([]);
    expect(checkLeaf(leaf, undefined)).toMatchObject([{ check: "missing_receipt", receiptId: r.receiptId, leafIndex: 3 }]);
    expect(toReceiptMessage(r).inputsHash).toBe(r.inputsHash);
  });

  it("a frontier tree appended in any split has the same root", () => {
    const hashes = Array.from({ length: 13 }, (_, i) => hashLeaf(`leaf ${i}`));
    const whole = FrontierTree.empty();
    whole.append(hashes);
    const split = FrontierTree.empty();
    for (const part of [hashes.slice(0, 1), hashes.slice(1, 6), hashes.slice(6, 8), hashes.slice(8)]) split.append(part);
    expect(split.size).toBe(13);
    expect(Buffer.from(split.root).toString("hex")).toBe(Buffer.from(whole.root).toString("hex"));
  });
});
