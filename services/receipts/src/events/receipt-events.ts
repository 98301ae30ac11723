/**
 * The receipts service's receipt events, written to its outbox in the caller's transaction (through the shared
 * `enqueueEventsOfCalls`, with a header of their own) so each is published if and only if its state change commits.
 * Subjects from the shared catalog.
 */
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import type { EntityManager } from "typeorm";
import {
  RECEIPT_COMPLETED,
  RECEIPT_CREATED,
  RECEIPT_JOB_HEADER,
  ReceiptCompletedSchema,
  ReceiptCreatedSchema,
  currentRequestId,
  enqueueEventsOfCalls,
} from "@provenance/shared";
import { toReceiptMessage, type ReceiptRecord } from "../domain/receipt-record.js";
import { RECEIPTS_SCHEMA } from "../persistence/schema.js";

/** One `provenance.receipt.created` per receipt just recorded, in order, in one outbox write. */
export async function enqueueReceiptsCreated(m: EntityManager, receipts: readonly ReceiptRecord[], requestId?: string): Promise<void> {
  const id = requestId || currentRequestId() || "";
  await enqueueReceiptsCreatedOfCalls(m, receipts.map((event) => ({ event, requestId: id })));
}

/** A receipt just completed, and the segment its success superseded ("" for none). */
export interface CompletedReceipt {
  receipt: ReceiptRecord;
  supersededSegmentId: string;
}

/** One `provenance.receipt.completed` per receipt just completed, in order, in one outbox write. */
export async function enqueueReceiptsCompleted(m: EntityManager, completed: readonly CompletedReceipt[], requestId?: string): Promise<void> {
  const id = requestId || currentRequestId() || "";
  await enqueueReceiptsCompletedOfCalls(m, completed.map((event) => ({ event, requestId: id })));
}

/** An event of a group commit and the request id of the call it belongs to. */
export interface EventOfCall<E> {
  event: E;
  requestId: string;
}

/**
 * Receipt events (of one call, or of the calls of a group commit) in one outbox write: each with its own call's
 * request id and its receipt's regeneration job in RECEIPT_JOB_HEADER ("" for none: consumers of jobs' receipts skip
 * the others undecoded).
 */
async function enqueueReceiptEvents<T extends DescMessage>(
  m: EntityManager,
  subject: string,
  eventSchema: T,
  events: readonly (EventOfCall<MessageInitShape<T>> & { jobId: string | null })[],
): Promise<void> {
  await enqueueEventsOfCalls(m, {
    schema: RECEIPTS_SCHEMA,
    subject,
    eventSchema,
    events: events.map(({ event, requestId, jobId }) => ({ event, requestId, headers: { [RECEIPT_JOB_HEADER]: jobId ?? "" } })),
  });
}

/** One `provenance.receipt.created` per receipt a group commit recorded, each with its call's request id. */
export async function enqueueReceiptsCreatedOfCalls(m: EntityManager, receipts: readonly EventOfCall<ReceiptRecord>[]): Promise<void> {
  await enqueueReceiptEvents(
    m,
    RECEIPT_CREATED,
    ReceiptCreatedSchema,
    receipts.map(({ event, requestId }) => ({ event: { receipt: toReceiptMessage(event) }, requestId, jobId: event.regenerationJobId })),
  );
}

/** One `provenance.receipt.completed` per receipt a group commit completed, each with its call's request id. */
export async function enqueueReceiptsCompletedOfCalls(m: EntityManager, completed: readonly EventOfCall<CompletedReceipt>[]): Promise<void> {
  await enqueueReceiptEvents(
    m,
    RECEIPT_COMPLETED,
    ReceiptCompletedSchema,
    completed.map(({ event: { receipt, supersededSegmentId }, requestId }) => ({
      event: { receipt: toReceiptMessage(receipt), supersededSegmentId },
      requestId,
      jobId: receipt.regenerationJobId,
    })),
  );
}
