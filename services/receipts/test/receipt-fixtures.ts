/** Pure builders of requests and records for tests: no service, no database. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createHash } from "node:crypto";
import { CreateReceiptRequestSchema, DomainError, type CreateReceiptRequest } from "@provenance/shared";
import { draftReceipt, type ReceiptDraft } from "../src/domain/new-receipt.js";
import { newReceiptRecord, type ReceiptRecord, type SegmentRecord } from "../src/domain/receipt-record.js";

/** A content hash derived from a label, for readable tests. */
export function sha(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

let counter = 0;

/** The plain-object form of a CreateReceipt request. */
export type ReceiptInit = Exclude<MessageInitShape<typeof CreateReceiptRequestSchema>, CreateReceiptRequest>;

/** A valid CreateReceipt request for a new segment (unique segment id and key); override any field. */
export function receiptRequest(overrides: Partial<ReceiptInit> = {}): CreateReceiptRequest {
  counter += 1;
  return create(CreateReceiptRequestSchema, {
    segmentId: `seg-${counter}`,
    sceneId: "scene-1",
    projectId: "project-1",
    characterName: "anna",
    sequenceIndex: counter,
    sourceImage: { assetId: "src-anna", contentHash: sha("source anna"), version: 1 },
    variantImage: { assetId: "clothed-anna", contentHash: sha("clothed anna v1"), version: 1 },
    workflow: { assetId: "wf-i2v", contentHash: sha("workflow"), version: 3 },
    model: { assetId: "model-wan", contentHash: sha("model wan"), version: 1 },
    loras: [{ asset: { assetId: "lora-anna", contentHash: sha("lora anna v1"), version: 1 }, weight: 0.8 }],
    workflowVersion: "i2v-3",
    promptText: "anna walks along the pier at dusk, slow dolly-in",
    negativePrompt: "",
    cfgScale: 7,
    seed: 42n,
    steps: 30,
    sampler: "euler",
    resolutionWidth: 832,
    resolutionHeight: 480,
    generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
    idempotencyKey: `key-${counter}-${Math.random().toString(36).slice(2)}`,
    ...overrides,
  });
}

/** The draft of {@link receiptRequest}`(overrides)`. */
export function receiptDraft(overrides: Partial<ReceiptInit> = {}): ReceiptDraft {
  return draftReceipt(receiptRequest(overrides));
}

/** A stored segment as a draft describes it, not superseded. */
export function storedSegment(draft: ReceiptDraft, overrides: Partial<SegmentRecord> = {}): SegmentRecord {
  return { ...draft.segment, supersededBySegmentId: null, createdAt: new Date("2026-11-21T10:00:00Z"), ...overrides };
}

let seq = 0n;

/** A stored RUNNING receipt of {@link receiptDraft}`(overrides)`, with a fresh UUID and seq. */
export function runningReceipt(overrides: Partial<ReceiptInit> = {}): ReceiptRecord {
  const draft = receiptDraft(overrides);
  seq += 1n;
  const receiptId = `00000000-0000-7000-8000-${seq.toString().padStart(12, "0")}`;
  return newReceiptRecord(draft, { receiptId, seq, createdAt: new Date("2026-11-21T10:00:01Z") }, storedSegment(draft), "test:pipeline");
}

/** The error `f` throws (a test fails when it throws nothing or something other than a DomainError). */
export function thrownBy(f: () => unknown): DomainError {
  try {
    f();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("expected a DomainError, nothing was thrown");
}
