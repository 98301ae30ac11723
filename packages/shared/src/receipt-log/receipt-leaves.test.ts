import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { DomainError } from "../errors/domain-error.js";
import { ReceiptSchema, ReceiptStatus, type Receipt } from "../gen/provenance/v1/common_pb.js";
import {
  RECEIPT_LOG_SPEC_V1,
  formatLeafTime,
  receiptCompletedDocument,
  receiptCompletedLeaf,
  receiptCreatedDocument,
  receiptCreatedLeaf,
  receiptLeafHash,
} from "./receipt-leaves.js";
import { hashLeaf } from "./tree-hash.js";

const h = (c: string) => c.repeat(64);
const ts = (iso: string, extraNanos = 0) => {
  const ms = Date.parse(iso);
  return create(TimestampSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 + extraNanos });
};

type ReceiptInit = MessageInitShape<typeof ReceiptSchema>;

function receipt(overrides: ReceiptInit = {}): Receipt {
  const base: ReceiptInit = {
    receiptId: "r-1",
    segmentId: "seg-1",
    sceneId: "scene-1",
    projectId: "proj-1",
    characterName: "Ada",
    sequenceIndex: 3,
    sourceImage: { assetId: "src", contentHash: h("1"), version: 2 },
    workflow: { assetId: "wf", contentHash: h("3"), version: 0 },
    model: { assetId: "model", contentHash: h("4"), version: 7 },
    loras: [
      { asset: { assetId: "lora-b", contentHash: h("5"), version: 1 }, weight: 0.75 },
      { asset: { assetId: "lora-a", contentHash: h("6"), version: 0 }, weight: 1 },
    ],
    workflowVersion: "",
    promptText: "not in the leaf",
    inputsHash: h("e"),
    status: ReceiptStatus.SUCCEEDED,
    generationStartedAt: ts("2026-11-21T10:00:00.123Z", 999_999),
    generationCompletedAt: ts("2026-11-21T10:00:05.000Z"),
    generationDurationMs: 4877n,
    outputHash: h("f"),
    idempotencyKey: "idem-1",
    createdAt: ts("2026-11-21T10:00:00.500Z", 456_789),
  };
  return create(ReceiptSchema, { ...base, ...overrides } as ReceiptInit);
}

function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof DomainError && err.code === "invalid_argument") return err.field;
    throw err;
  }
  throw new Error("no error was thrown");
}

describe("receipt.created", () => {
  it("has exactly the spec's keys, absent optionals as null", () => {
    const doc = receiptCreatedDocument(receipt(), "user-1");
    expect(Object.keys(doc).sort()).toEqual(
      [
        "spec", "event", "receipt_id", "segment_id", "scene_id", "project_id", "character_name", "sequence_index",
        "inputs_hash", "inputs", "workflow_version", "generation_started_at", "regeneration_job_id",
        "supersedes_segment_id", "idempotency_key", "recorded_by", "created_at",
      ].sort(),
    );
    expect(doc.spec).toBe(RECEIPT_LOG_SPEC_V1);
    expect(doc.event).toBe("receipt.created");
    expect(doc.regeneration_job_id).toBeNull();
    expect(doc.supersedes_segment_id).toBeNull();
    expect(doc.workflow_version).toBe("");
    expect(doc.recorded_by).toBe("user-1");
  });

  it("lists inputs by role order then position, version null when none, weight only for LoRAs", () => {
    const doc = receiptCreatedDocument(receipt({ variantImage: { assetId: "var", contentHash: h("2"), version: 0 } }), "u");
    expect(doc.inputs).toEqual([
      { role: "source_image", position: 0, asset_id: "src", content_hash: h("1"), version: 2, weight: null },
      { role: "variant_image", position: 0, asset_id: "var", content_hash: h("2"), version: null, weight: null },
      { role: "workflow", position: 0, asset_id: "wf", content_hash: h("3"), version: null, weight: null },
      { role: "model", position: 0, asset_id: "model", content_hash: h("4"), version: 7, weight: null },
      { role: "lora", position: 0, asset_id: "lora-b", content_hash: h("5"), version: 1, weight: 0.75 },
      { role: "lora", position: 1, asset_id: "lora-a", content_hash: h("6"), version: null, weight: 1 },
    ]);
    expect(receiptCreatedDocument(receipt(), "u").inputs.map((i) => i.role)).toEqual(["source_image", "workflow", "model", "lora", "lora"]);
  });

  it("is RFC 8785 text: sorted keys, no spaces, and its hash is the leaf hash of its UTF-8 bytes", () => {
    const leaf = receiptCreatedLeaf(receipt({ characterName: "Zoë" }), "u");
    expect(leaf.startsWith('{"character_name":"Zoë","created_at":"2026-11-21T10:00:00.500Z","event":"receipt.created",')).toBe(true);
    expect(leaf).not.toMatch(/": /);
    expect(JSON.parse(leaf)).toEqual(receiptCreatedDocument(receipt({ characterName: "Zoë" }), "u"));
    expect(receiptLeafHash(leaf)).toEqual(hashLeaf(Buffer.from(leaf, "utf8")));
  });

  it("keeps regeneration fields when set", () => {
    const doc = receiptCreatedDocument(receipt({ regenerationJobId: "job-9", supersedesSegmentId: "seg-0" }), "u");
    expect([doc.regeneration_job_id, doc.supersedes_segment_id]).toEqual(["job-9", "seg-0"]);
  });

  it("names what is missing or unusable", () => {
    expect(fieldOf(() => receiptCreatedLeaf(receipt(), ""))).toBe("recorded_by");
    expect(fieldOf(() => receiptCreatedLeaf(receipt({ receiptId: "" }), "u"))).toBe("receipt_id");
    expect(fieldOf(() => receiptCreatedLeaf(receipt({ generationStartedAt: undefined }), "u"))).toBe("generation_started_at");
    expect(fieldOf(() => receiptCreatedLeaf(receipt({ createdAt: undefined }), "u"))).toBe("created_at");
    const noAsset = receipt();
    noAsset.loras[1]!.asset = undefined;
    expect(fieldOf(() => receiptCreatedLeaf(noAsset, "u"))).toBe("loras[1].asset");
    const nanWeight = receipt();
    nanWeight.loras[0]!.weight = Number.NaN;
    expect(fieldOf(() => receiptCreatedLeaf(nanWeight, "u"))).toBe("loras[0].weight");
  });
});

describe("receipt.completed", () => {
  it("has exactly the spec's keys", () => {
    const doc = receiptCompletedDocument(receipt(), "worker-1");
    expect(doc).toEqual({
      spec: RECEIPT_LOG_SPEC_V1,
      event: "receipt.completed",
      receipt_id: "r-1",
      status: "SUCCEEDED",
      generation_completed_at: "2026-11-21T10:00:05.000Z",
      generation_duration_ms: 4877,
      output_hash: h("f"),
      recorded_by: "worker-1",
    });
    expect(receiptCompletedLeaf(receipt(), "worker-1")).toBe(
      `{"event":"receipt.completed","generation_completed_at":"2026-11-21T10:00:05.000Z","generation_duration_ms":4877,` +
        `"output_hash":"${h("f")}","receipt_id":"r-1","recorded_by":"worker-1","spec":"provenance/receipt-log/v1","status":"SUCCEEDED"}`,
    );
  });

  it("writes a failed receipt without output as FAILED with a null output hash", () => {
    const doc = receiptCompletedDocument(receipt({ status: ReceiptStatus.FAILED, outputHash: "" }), "w");
    expect([doc.status, doc.output_hash]).toEqual(["FAILED", null]);
  });

  it("has no leaf for a receipt still running, nor without who completed it or when", () => {
    expect(fieldOf(() => receiptCompletedLeaf(receipt({ status: ReceiptStatus.RUNNING }), "w"))).toBe("status");
    expect(fieldOf(() => receiptCompletedLeaf(receipt(), ""))).toBe("completed_by");
    expect(fieldOf(() => receiptCompletedLeaf(receipt({ generationCompletedAt: undefined }), "w"))).toBe("generation_completed_at");
  });
});

describe("leaf times", () => {
  it("truncate to the millisecond, never round, in UTC with Z", () => {
    expect(formatLeafTime("t", ts("2026-11-21T10:00:00.123Z", 999_999))).toBe("2026-11-21T10:00:00.123Z");
    expect(formatLeafTime("t", { seconds: BigInt(Date.parse("2026-11-21T09:59:59Z") / 1000), nanos: 999_999_999 } as never)).toBe("2026-11-21T09:59:59.999Z");
    expect(formatLeafTime("t", { seconds: 0n, nanos: 0 } as never)).toBe("1970-01-01T00:00:00.000Z");
    expect(formatLeafTime("t", { seconds: -1n, nanos: 500_000_000 } as never)).toBe("1969-12-31T23:59:59.500Z");
  });

  it("reject times outside years 1 to 9999 and bad nanos, naming the field", () => {
    expect(fieldOf(() => formatLeafTime("created_at", { seconds: 253402300800n, nanos: 0 } as never))).toBe("created_at");
    expect(fieldOf(() => formatLeafTime("t", { seconds: -62135596801n, nanos: 0 } as never))).toBe("t");
    expect(fieldOf(() => formatLeafTime("t", { seconds: 0n, nanos: 1_000_000_000 } as never))).toBe("t");
  });
});
