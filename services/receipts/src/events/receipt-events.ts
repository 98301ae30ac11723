/**
 * The receipts service's events, written to its outbox in the caller's transaction (through the shared
 * `enqueueEvents`) so each is published if and only if its state change commits. Subjects from the shared catalog.
 */
import type { EntityManager } from "typeorm";
import { RECEIPT_COMPLETED, RECEIPT_CREATED, ReceiptCompletedSchema, ReceiptCreatedSchema, enqueueEvents } from "@provenance/shared";
import { toReceiptMessage, type ReceiptRecord } from "../domain/receipt-record.js";
import { RECEIPTS_SCHEMA } from "../persistence/schema.js";

/** One `provenance.receipt.created` per receipt just recorded, in order, in one outbox write. */
export async function enqueueReceiptsCreated(m: EntityManager, receipts: readonly ReceiptRecord[], requestId?: string): Promise<void> {
  await enqueueEvents(m, {
    schema: RECEIPTS_SCHEMA,
    subject: RECEIPT_CREATED,
    eventSchema: ReceiptCreatedSchema,
    events: receipts.map((receipt) => ({ receipt: toReceiptMessage(receipt) })),
    requestId,
  });
}

/** A receipt just completed, and the segment its success superseded ("" for none). */
export interface CompletedReceipt {
  receipt: ReceiptRecord;
  supersededSegmentId: string;
}

/** One `provenance.receipt.completed` per receipt just completed, in order, in one outbox write. */
export async function enqueueReceiptsCompleted(m: EntityManager, completed: readonly CompletedReceipt[], requestId?: string): Promise<void> {
  await enqueueEvents(m, {
    schema: RECEIPTS_SCHEMA,
    subject: RECEIPT_COMPLETED,
    eventSchema: ReceiptCompletedSchema,
    events: completed.map(({ receipt, supersededSegmentId }) => ({ receipt: toReceiptMessage(receipt), supersededSegmentId })),
    requestId,
  });
}
