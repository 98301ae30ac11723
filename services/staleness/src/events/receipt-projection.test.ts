import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  RECEIPT_COMPLETED,
  RECEIPT_CREATED,
  ReceiptCompletedSchema,
  ReceiptCreatedSchema,
  ReceiptSchema,
  ReceiptStatus,
  type ConsumedEvent,
  type Receipt,
} from "@provenance/shared";
import { projectionEventOf } from "./receipt-projection.js";

const receipt = (reproductionOfReceiptId = ""): Receipt =>
  create(ReceiptSchema, {
    receiptId: "00000000-0000-4000-8000-000000000002",
    segmentId: "seg-2",
    sceneId: "scene-1",
    projectId: "p",
    status: ReceiptStatus.SUCCEEDED,
    inputsHash: "a".repeat(64),
    generationStartedAt: timestampFromDate(new Date("2026-12-01T10:00:00Z")),
    reproductionOfReceiptId,
  });

function consumed(subject: string, reproductionOf: string): ConsumedEvent {
  const event =
    subject === RECEIPT_CREATED
      ? create(ReceiptCreatedSchema, { eventId: "e1", receipt: receipt(reproductionOf) })
      : create(ReceiptCompletedSchema, { eventId: "e1", receipt: receipt(reproductionOf) });
  return { subject, eventId: "e1", data: new Uint8Array(), headers: {}, redeliveryCount: 0, event };
}

describe("the projection's view of receipt events", () => {
  it.each([RECEIPT_CREATED, RECEIPT_COMPLETED])("projects an ordinary receipt's %s", (subject) => {
    expect(projectionEventOf(consumed(subject, ""))?.receipt.segmentId).toBe("seg-2");
  });

  it.each([RECEIPT_CREATED, RECEIPT_COMPLETED])("leaves out a reproduction's %s: its segment is never stale nor planned", (subject) => {
    expect(projectionEventOf(consumed(subject, "00000000-0000-4000-8000-000000000001"))).toBeUndefined();
  });
});
