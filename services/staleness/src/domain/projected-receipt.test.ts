import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ReceiptSchema, ReceiptStatus } from "@provenance/shared";
import { projectReceipt, timestampText } from "./projected-receipt.js";

const H = (c: string) => c.repeat(64);

describe("projectReceipt", () => {
  const receipt = create(ReceiptSchema, {
    receiptId: "r1",
    segmentId: "seg",
    projectId: "p",
    sceneId: "s",
    sourceImage: { assetId: "src", contentHash: H("A") },
    workflow: { assetId: "wf", contentHash: H("b") },
    model: { assetId: "m", contentHash: H("c") },
    loras: [
      { asset: { assetId: "l1", contentHash: H("d") }, weight: 1 },
      { asset: { assetId: "l2", contentHash: H("e") }, weight: 0.5 },
    ],
    status: ReceiptStatus.SUCCEEDED,
    supersedesSegmentId: "old",
    createdAt: { seconds: 1_700_000_000n, nanos: 123_456_789 },
  });

  it("keeps every input, each LoRA separately in order, hashes in lower case, and no variant when there was none", () => {
    const p = projectReceipt(receipt);
    expect(p.inputs.map((i) => [i.role, i.position, i.assetId])).toEqual([
      ["source_image", 0, "src"],
      ["workflow", 0, "wf"],
      ["model", 0, "m"],
      ["lora", 0, "l1"],
      ["lora", 1, "l2"],
    ]);
    expect(p.inputs[0]!.contentHash).toBe(H("a"));
    expect(p.succeeded).toBe(true);
    expect(p.supersedesSegmentId).toBe("old");
  });

  it("keeps microseconds in the order key and supersedes nothing unless the receipt succeeded", () => {
    expect(timestampText(receipt.createdAt)).toBe("2023-11-14T22:13:20.123456Z");
    expect(projectReceipt({ ...receipt, status: ReceiptStatus.FAILED }).supersedesSegmentId).toBe("");
    expect(projectReceipt({ ...receipt, status: ReceiptStatus.FAILED }, "x").supersedesSegmentId).toBe("x");
  });
});
