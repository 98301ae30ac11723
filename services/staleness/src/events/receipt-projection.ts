/** The durable consumer of receipt events that keeps the projection of segment inputs (app/project-receipts.ts). */
import {
  EVENT_MESSAGES,
  PROVENANCE_STREAM,
  RECEIPT_COMPLETED,
  RECEIPT_CREATED,
  startConsumer,
  type Logger,
  type ReceiptCompleted,
  type ReceiptCreated,
  type ConsumedEvent,
  type EventConnection,
  type RunningConsumer,
} from "@provenance/shared";
import type { ProjectReceipts } from "../app/project-receipts.js";
import type { ProjectionEvent } from "../domain/projection-batch.js";
import { projectReceipt } from "../domain/projected-receipt.js";
import { PROJECTION_CONSUMER } from "../persistence/projection-repository.js";

/** What the projection consumer needs. */
export interface ReceiptProjectionOptions {
  nc: EventConnection;
  namespace: string;
  projection: ProjectReceipts;
  logger: Logger;
  /** Events applied per transaction at most (default 500). */
  batchSize?: number;
}

/**
 * The projection's view of a receipt event; undefined for an event without a receipt, and for a reproduction's receipt
 * (RegenerationService.ReproduceSegment): a reproduction checks its original and never replaces it, so its segment is
 * no segment of the project's cut — never stale, never planned, never counted.
 */
export function projectionEventOf(msg: ConsumedEvent): ProjectionEvent | undefined {
  // The event id inside the message is its identity, even if it was re-published under another Nats-Msg-Id.
  if (msg.subject === RECEIPT_COMPLETED) {
    const e = msg.event as ReceiptCompleted;
    return e.receipt && e.receipt.reproductionOfReceiptId === "" ? { eventId: e.eventId || msg.eventId, receipt: projectReceipt(e.receipt, e.supersededSegmentId) } : undefined;
  }
  if (msg.subject === RECEIPT_CREATED) {
    const e = msg.event as ReceiptCreated;
    return e.receipt && e.receipt.reproductionOfReceiptId === "" ? { eventId: e.eventId || msg.eventId, receipt: projectReceipt(e.receipt) } : undefined;
  }
  return undefined;
}

/**
 * Starts (or resumes) the durable consumer; whatever was published while the service was down is delivered now.
 * Events are applied in batches of up to `batchSize` (a lone event waits at most the consumer's 10 ms for company),
 * each in one transaction with the events' inbox marks, so redeliveries change nothing.
 */
export async function startReceiptProjection(opts: ReceiptProjectionOptions): Promise<RunningConsumer> {
  return startConsumer({
    nc: opts.nc,
    namespace: opts.namespace,
    stream: PROVENANCE_STREAM,
    durable: PROJECTION_CONSUMER,
    filterSubjects: [RECEIPT_CREATED, RECEIPT_COMPLETED],
    eventSchema: {
      [RECEIPT_CREATED]: EVENT_MESSAGES[RECEIPT_CREATED],
      [RECEIPT_COMPLETED]: EVENT_MESSAGES[RECEIPT_COMPLETED],
    },
    batchSize: opts.batchSize ?? 500,
    // One batch at a time: a second in flight measured no faster on two cores (consecutive batches share segments, so
    // the second mostly waits for the first's row locks). Replicas sharing the durable are safe all the same:
    // applyBatch takes its row locks in a fixed order.
    concurrency: 1,
    logger: opts.logger,
    handleBatch: async (msgs) => {
      const events = msgs.map(projectionEventOf).filter((e): e is ProjectionEvent => e !== undefined);
      if (events.length > 0) await opts.projection.applyBatch(events);
    },
  });
}
