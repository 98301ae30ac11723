/** Publishes `generation.jobs.requested` (stream GENERATION, the pipeline's work queue) through the outbox. */
import type { EntityManager } from "typeorm";
import { EVENT_MESSAGES, JOB_REQUESTED, enqueueEvents } from "@provenance/shared";
import type { NewJob } from "../domain/regeneration-records.js";
import type { NewReproduction } from "../domain/reproduction.js";
import { REGENERATION_SCHEMA } from "../persistence/migrations/index.js";

/** The batch the jobs belong to, as the pipeline is told. */
export interface RequestedBatch {
  batchId: string;
  requestedBy: string;
  /** The id of the request that submitted the batch, carried in each event. */
  requestId?: string;
}

/**
 * Writes one GenerationJobRequested per job to the outbox in the caller's transaction, in job order, so they are
 * published if and only if the batch commits.
 */
export async function enqueueJobsRequested(m: EntityManager, batch: RequestedBatch, jobs: readonly NewJob[]): Promise<void> {
  await enqueueEvents(m, {
    schema: REGENERATION_SCHEMA,
    subject: JOB_REQUESTED,
    eventSchema: EVENT_MESSAGES[JOB_REQUESTED],
    requestId: batch.requestId,
    events: jobs.map(({ jobId, newSegmentId, plan }) => ({
      jobId,
      batchId: batch.batchId,
      projectId: plan.projectId,
      sceneId: plan.sceneId,
      characterName: plan.characterName,
      sequenceIndex: plan.sequenceIndex,
      oldSegmentId: plan.oldSegmentId,
      newSegmentId,
      inputs: plan.inputs,
      expectedInputsHash: plan.expectedInputsHash,
      requestedBy: batch.requestedBy,
    })),
  });
}

/**
 * Writes the GenerationJobRequested of a reproduction to the outbox in the caller's transaction: the receipt's inputs
 * unchanged, with reproduction_of_receipt_id and reproduction_of_segment_id, and no batch and no old segment, so the
 * pipeline's receipt supersedes nothing.
 */
export async function enqueueReproductionRequested(m: EntityManager, r: NewReproduction, requestId?: string): Promise<void> {
  await enqueueEvents(m, {
    schema: REGENERATION_SCHEMA,
    subject: JOB_REQUESTED,
    eventSchema: EVENT_MESSAGES[JOB_REQUESTED],
    requestId,
    events: [
      {
        jobId: r.jobId,
        projectId: r.projectId,
        sceneId: r.sceneId,
        characterName: r.characterName,
        sequenceIndex: r.sequenceIndex,
        newSegmentId: r.newSegmentId,
        inputs: r.inputs,
        expectedInputsHash: r.expectedInputsHash,
        requestedBy: r.requestedBy,
        reproductionOfReceiptId: r.receiptId,
        reproductionOfSegmentId: r.segmentId,
      },
    ],
  });
}
