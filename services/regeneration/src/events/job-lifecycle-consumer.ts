/** The durable consumer that moves jobs along as the pipeline's receipts (carrying regeneration_job_id) are created and completed. */
import { timestampDate } from "@bufbuild/protobuf/wkt";

import {
  ReceiptCompletedSchema,
  ReceiptCreatedSchema,
  ReceiptStatus,
  startConsumer,
  type Logger,
  type Receipt,
  type ReceiptCompleted,
  type ReceiptCreated,
  type RunningConsumer,
  type EventConnection,
} from "@provenance/shared";
import type { ReceiptObservation, ReceiptStatusName } from "../domain/job-progress.js";
import { LIFECYCLE_CONSUMER, type RegenerationRepository } from "../persistence/regeneration-repository.js";

/** The receipt subjects the consumer reads. */
export const RECEIPT_SUBJECTS = ["provenance.receipt.created", "provenance.receipt.completed"] as const;

/** What the consumer needs. */
export interface JobLifecycleOptions {
  /** NATS, or the in-process bus. */
  nc: EventConnection;
  namespace: string;
  repo: RegenerationRepository;
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

/** Starts the durable consumer `regeneration-job-lifecycle` on PROVENANCE; idempotent and order-independent. */
export async function startJobLifecycle(opts: JobLifecycleOptions): Promise<RunningConsumer> {
  const log = opts.logger.child({ component: "job-lifecycle" });
  return startConsumer({
    nc: opts.nc,
    namespace: opts.namespace,
    stream: "PROVENANCE",
    durable: LIFECYCLE_CONSUMER,
    filterSubjects: [...RECEIPT_SUBJECTS],
    eventSchema: { [RECEIPT_SUBJECTS[0]]: ReceiptCreatedSchema, [RECEIPT_SUBJECTS[1]]: ReceiptCompletedSchema },
    concurrency: opts.concurrency ?? 8,
    logger: opts.logger,
    handle: async (msg) => {
      const event = msg.event as ReceiptCreated | ReceiptCompleted | undefined;
      const found = observationOf(event?.receipt);
      if (!found) return;
      const result = await opts.repo.applyReceipt(found.jobId, found.seen, msg.eventId);
      if (result === "unknown_job") log.debug({ jobId: found.jobId }, "receipt names a job this service does not know; ignored");
      else if (typeof result === "object") log.info({ jobId: found.jobId, status: result.status, receiptId: found.seen.receiptId }, "job progressed");
    },
  });
}
