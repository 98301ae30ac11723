/** The durable consumer that moves jobs along as the pipeline's receipts (carrying regeneration_job_id) are created and completed. */
import { timestampDate } from "@bufbuild/protobuf/wkt";

import {
  EVENT_MESSAGES,
  PROVENANCE_STREAM,
  RECEIPT_COMPLETED,
  RECEIPT_CREATED,
  RECEIPT_JOB_HEADER,
  ReceiptStatus,
  startConsumer,
  type EventConnection,
  type ConsumedEvent,
  type Logger,
  type Receipt,
  type ReceiptCompleted,
  type ReceiptCreated,
  type RunningConsumer,
} from "@provenance/shared";
import { LIFECYCLE_CONSUMER, type TrackJobProgress } from "../app/track-job-progress.js";
import type { TrackReproduction } from "../app/track-reproduction.js";
import type { ReceiptObservation, ReceiptStatusName } from "../domain/job-progress.js";

/** What the consumer needs. */
export interface JobLifecycleOptions {
  /** NATS, or the in-process bus. */
  nc: EventConnection;
  namespace: string;
  track: TrackJobProgress;
  /** Reproductions: receipts with a reproduction_of_receipt_id are applied to these instead of to jobs. */
  reproductions?: TrackReproduction;
  logger: Logger;
  concurrency?: number;
}

const STATUS_NAMES: Partial<Record<ReceiptStatus, ReceiptStatusName>> = {
  [ReceiptStatus.RUNNING]: "RUNNING",
  [ReceiptStatus.SUCCEEDED]: "SUCCEEDED",
  [ReceiptStatus.FAILED]: "FAILED",
};

/** What a receipt event says about its job, or undefined when the receipt is no regeneration job's. */
export function observationOf(receipt: Receipt | undefined): { jobId: string; seen: ReceiptObservation } | undefined {
  if (!receipt || receipt.regenerationJobId === "") return undefined;
  return {
    jobId: receipt.regenerationJobId,
    seen: {
      receiptId: receipt.receiptId,
      createdAt: receipt.createdAt ? timestampDate(receipt.createdAt) : new Date(0),
      inputsHash: receipt.inputsHash,
      status: STATUS_NAMES[receipt.status] ?? "RUNNING",
      completedAt: receipt.generationCompletedAt ? timestampDate(receipt.generationCompletedAt) : null,
    },
  };
}

/**
 * Starts the durable consumer `regeneration-job-lifecycle` on PROVENANCE (receipt created + completed); idempotent and
 * order-independent. Most receipts are no job's: their events are skipped by header, undecoded, and the rest are
 * handled in batches (acks of a batch go out together), at most `concurrency` of a batch at once.
 */
export async function startJobLifecycle(opts: JobLifecycleOptions): Promise<RunningConsumer> {
  const log = opts.logger.child({ component: "job-lifecycle" });
  const concurrency = opts.concurrency ?? 8;
  const handle = async (msg: ConsumedEvent) => {
    const event = msg.event as ReceiptCreated | ReceiptCompleted | undefined;
    const found = observationOf(event?.receipt);
    if (!found) return;
    if (opts.reproductions && event?.receipt?.reproductionOfReceiptId) {
      const applied = await opts.reproductions.apply(found.jobId, found.seen, event.receipt.outputHash, msg.eventId);
      if (typeof applied === "object") log.info({ jobId: found.jobId, ...applied, receiptId: found.seen.receiptId }, "reproduction progressed");
      return;
    }
    const result = await opts.track.apply(found.jobId, found.seen, msg.eventId);
    if (result === "unknown_job") log.debug({ jobId: found.jobId }, "receipt names a job this service does not know; ignored");
    else if (typeof result === "object") log.info({ jobId: found.jobId, status: result.status, receiptId: found.seen.receiptId }, "job progressed");
  };
  return startConsumer({
    nc: opts.nc,
    namespace: opts.namespace,
    stream: PROVENANCE_STREAM,
    durable: LIFECYCLE_CONSUMER,
    filterSubjects: [RECEIPT_CREATED, RECEIPT_COMPLETED],
    eventSchema: { [RECEIPT_CREATED]: EVENT_MESSAGES[RECEIPT_CREATED], [RECEIPT_COMPLETED]: EVENT_MESSAGES[RECEIPT_COMPLETED] },
    skip: (headers) => headers[RECEIPT_JOB_HEADER] === "",
    logger: opts.logger,
    handleBatch: async (events) => {
      // Each event alone is idempotent (its event id), so a batch that fails part-way is safely handled again one by one.
      // On a failure no further event is started, and the batch fails once those in flight have settled.
      let next = 0;
      let failure: { err: unknown } | undefined;
      const worker = async () => {
        while (!failure && next < events.length) {
          try {
            await handle(events[next++]!);
          } catch (err) {
            failure ??= { err };
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, events.length) }, worker));
      if (failure) throw failure.err;
    },
  });
}
