/**
 * The receipts service's receipt events, written to its outbox in the caller's transaction (rows as the shared
 * `enqueueEvents` writes them, with a header of their own) so each is published if and only if its state change
 * commits. Subjects from the shared catalog.
 */
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "typeorm";
import { v7 as uuidv7 } from "uuid";
import {
  EVENT_REQUEST_ID_HEADER,
  RECEIPT_COMPLETED,
  RECEIPT_CREATED,
  ReceiptCompletedSchema,
  RECEIPT_JOB_HEADER,
  ReceiptCreatedSchema,
  currentRequestId,
  outboxChannel,
  quoteIdentifier,
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
 * Receipt events (of one call, or of the calls of a group commit) in one outbox write and one notification: each
 * carries its own call's request id, in the message and the header, as `enqueueEvents` writes them, and its receipt's
 * regeneration job in RECEIPT_JOB_HEADER (consumers of jobs' receipts skip the others undecoded).
 */
async function enqueueReceiptEvents<T extends DescMessage>(
  m: EntityManager,
  subject: string,
  eventSchema: T,
  events: readonly (EventOfCall<MessageInitShape<T>> & { jobId: string | null })[],
): Promise<void> {
  if (events.length === 0) return;
  const occurredAt = timestampNow();
  const ids = events.map(() => uuidv7());
  const payloads = events.map(({ event, requestId }, i) => {
    const message = create(eventSchema, event);
    Object.assign(message, { eventId: ids[i], occurredAt, requestId });
    return Buffer.from(toBinary(eventSchema, message));
  });
  const headers = events.map(({ requestId, jobId }) =>
    JSON.stringify({ ...(requestId ? { [EVENT_REQUEST_ID_HEADER]: requestId } : {}), [RECEIPT_JOB_HEADER]: jobId ?? "" }),
  );
  // The notification in the same statement, as enqueueEvents writes it.
  await m.query(
    `WITH queued AS (
       INSERT INTO ${quoteIdentifier(RECEIPTS_SCHEMA)}.outbox (id, subject, payload, headers)
       SELECT e.id, $2, e.payload, e.headers::jsonb
         FROM unnest($1::uuid[], $3::bytea[], $4::text[]) WITH ORDINALITY AS e(id, payload, headers, n)
        ORDER BY e.n)
     SELECT pg_notify($5, '')`,
    [ids, subject, payloads, headers, outboxChannel(RECEIPTS_SCHEMA)],
  );
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
