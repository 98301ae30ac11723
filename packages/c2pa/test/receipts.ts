/** Receipts for the tests, shaped as the receipts service serves them. */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReceiptSchema, ReceiptStatus, type Receipt } from "@provenance/shared";

/** A content hash derived from a label, for readable tests. */
export function sha(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** A completed receipt whose output is `output`, with a source and a variant image, a model and two LoRAs. */
export function completedReceipt(output: Uint8Array, overrides: Partial<Omit<Receipt, "$typeName">> = {}): Receipt {
  const receipt = create(ReceiptSchema, {
    receiptId: "0190f3a2-7c1e-7000-8000-00000000c2pa",
    segmentId: "seg-17",
    sceneId: "scene-3",
    projectId: "p1",
    sourceImage: { assetId: "src-anna", contentHash: sha("source anna"), version: 2 },
    variantImage: { assetId: "var-anna-coat", contentHash: sha("variant coat"), version: 1 },
    workflow: { assetId: "wf-i2v", contentHash: sha("workflow"), version: 4 },
    model: { assetId: "model-wan", contentHash: sha("model wan"), version: 1 },
    loras: [
      { asset: { assetId: "lora-anna", contentHash: sha("lora anna v3"), version: 3 }, weight: 0.8 },
      { asset: { assetId: "lora-style", contentHash: sha("lora style") }, weight: 0.35 },
    ],
    workflowVersion: "i2v-3",
    promptText: "anna walks along the pier at dusk",
    seed: 18446744073709551557n,
    steps: 30,
    inputsHash: sha("inputs"),
    status: ReceiptStatus.SUCCEEDED,
    generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
    generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:00:42Z")),
    generationDurationMs: 42_000n,
    outputHash: createHash("sha256").update(output).digest("hex"),
  });
  return Object.assign(receipt, overrides);
}
