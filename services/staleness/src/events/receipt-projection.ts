/** The durable consumer of provenance.receipt.* that keeps the projection of segment inputs. */
import {
  ReceiptCompletedSchema,
  ReceiptCreatedSchema,
  startConsumer,
  type Logger,
  type ReceiptCompleted,
  type ReceiptCreated,
  type EventConnection,
  type RunningConsumer,
} from "@provenance/shared";
import { projectReceipt } from "../domain/projected-receipt.js";
import { PROJECTION_CONSUMER, type ProjectionRepository } from "../persistence/projection-repository.js";

/** What the projection consumer needs. */
export interface ReceiptProjectionOptions {
  nc: EventConnection;
  namespace: string;
  projection: ProjectionRepository;
  logger: Logger;
  concurrency?: number;
}

/**
 * Starts (or resumes) the durable consumer; whatever was published while the service was down is delivered now.
 * Each event is applied with its inbox mark in one transaction, so redeliveries change nothing.
 */
export async function startReceiptProjection(opts: ReceiptProjectionOptions): Promise<RunningConsumer> {
  return startConsumer({
    nc: opts.nc,
    namespace: opts.namespace,
    stream: "PROVENANCE",
    durable: PROJECTION_CONSUMER,
    filterSubjects: ["provenance.receipt.created", "provenance.receipt.completed"],
    eventSchema: {
      "provenance.receipt.created": ReceiptCreatedSchema,
      "provenance.receipt.completed": ReceiptCompletedSchema,
    },
    concurrency: opts.concurrency ?? 8,
    logger: opts.logger,
    handle: async (msg) => {
      if (msg.subject === "provenance.receipt.completed") {
        // The event id inside the message is its identity, even if it was re-published under another Nats-Msg-Id.
        const e = msg.event as ReceiptCompleted;
        if (!e.receipt) return;
        await opts.projection.apply(e.eventId || msg.eventId, projectReceipt(e.receipt, e.supersededSegmentId));
      } else if (msg.subject === "provenance.receipt.created") {
        const e = msg.event as ReceiptCreated;
        if (!e.receipt) return;
        await opts.projection.apply(e.eventId || msg.eventId, projectReceipt(e.receipt));
      }
    },
  });
}
