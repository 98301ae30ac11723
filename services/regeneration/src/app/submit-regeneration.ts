/**
 * SubmitRegeneration: plans a selection and, in one transaction, writes its batch, its jobs and one
 * `generation.jobs.requested` per job (outbox) — all of it or nothing. Idempotent per key. A segment gets no second
 * job while one holds it: the plan leaves such segments out, the transaction checks again, and the database refuses a
 * second open job for a segment even when two submits race past both checks.
 */
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { alreadyExists, failedPrecondition } from "@provenance/shared";
import type { Caller } from "@provenance/shared/auth";
import { newSegmentIdFor } from "../domain/new-segment-id.js";
import { holdersBySegment, nothingToRegenerateMessage, openJobConflictMessage, segmentsHeldMessage } from "../domain/open-jobs.js";
import type { BatchView, NewJob, SubmittedBatch } from "../domain/regeneration-records.js";
import { sameSelection, type Selection } from "../domain/selection.js";
import { enqueueJobsRequested } from "../events/job-requested-publisher.js";
import { BatchRepository } from "../persistence/batch-repository.js";
import { JobRepository, OpenJobConflict } from "../persistence/job-repository.js";
import type { PlanRegeneration } from "./plan-regeneration.js";
import type { ReadBatches } from "./read-batches.js";

/** What a submission asks for. */
export interface SubmitCommand {
  selection: Selection;
  idempotencyKey: string;
  /** Who submits: the caller's `sub` (the request's requested_by is ignored). */
  requestedBy: string;
  /** The decided caller: planning reads as it (its token forwarded), and a replay names only batches it may view. */
  caller?: Caller;
  /** The id of the request, carried in every event of the batch. */
  requestId?: string;
}

/**
 * The jobs' INSERT (`inserting`, already under way) and then the outbox INSERT of their events (`enqueue`), on the
 * transaction's one connection, overlapped: the events are encoded (protobuf, ~50 µs each) while PostgreSQL executes
 * the jobs' statement instead of after it. One turn of the event loop lets the driver put the jobs' statement on the
 * wire first; the outbox statement then queues behind it on the connection. Both are awaited before this answers, and
 * the jobs' failure (an open-job conflict) wins over the outbox's (which then fails only because the transaction was
 * aborted); either fails the transaction, so nothing is written.
 */
async function insertThenEnqueue<T>(inserting: Promise<T>, enqueue: () => Promise<unknown>): Promise<T> {
  inserting.catch(() => {}); // settled below; not "unhandled" should it fail during the turn
  await new Promise<void>((resolve) => setImmediate(resolve));
  const [insert, queued] = await Promise.allSettled([inserting, enqueue()]);
  if (insert.status === "rejected") throw insert.reason;
  if (queued.status === "rejected") throw queued.reason;
  return insert.value;
}

/** The SubmitRegeneration use case. */
export class SubmitRegeneration {
  constructor(
    private readonly dataSource: DataSource,
    private readonly planner: PlanRegeneration,
    private readonly read: ReadBatches,
  ) {}

  /**
   * Submits the plan of `cmd.selection` as a new batch (created=true). A known key returns its batch (created=false)
   * without asking any dependency; the same key with another selection is ALREADY_EXISTS. Nothing to regenerate, or a
   * planned segment taken by another job before this one commits, is FAILED_PRECONDITION naming the segments, and
   * writes nothing, so the key stays free.
   */
  async submit(cmd: SubmitCommand): Promise<SubmittedBatch> {
    const known = await new BatchRepository(this.dataSource).idOfKey(cmd.idempotencyKey);
    if (known) return this.replay(known, cmd);

    const plan = await this.planner.plan(cmd.selection, cmd.caller);
    if (plan.jobs.length === 0) throw failedPrecondition(nothingToRegenerateMessage(cmd.selection.projectId, plan.held));
    const batchId = randomUUID();
    const jobs: NewJob[] = plan.jobs.map((p) => {
      const jobId = randomUUID();
      return { jobId, newSegmentId: newSegmentIdFor(p.oldSegmentId, jobId), plan: p };
    });

    const created = await this.write(batchId, jobs, cmd);
    if (!created) {
      // A concurrent submission with the same key committed first: answer with its batch.
      const winner = await new BatchRepository(this.dataSource).idOfKey(cmd.idempotencyKey);
      if (!winner) throw new Error(`batch of idempotency key ${cmd.idempotencyKey} vanished`);
      return this.replay(winner, cmd);
    }
    // The batch and its jobs as the transaction stored them (every job submitted): not read back, so its plans are not
    // parsed again.
    return { ...created, created: true };
  }

  /** The transaction: the batch and its jobs as stored, or undefined (writing nothing) when the key was taken meanwhile. */
  private async write(batchId: string, jobs: NewJob[], cmd: SubmitCommand): Promise<BatchView | undefined> {
    try {
      return await this.dataSource.transaction(async (m) => {
        const batches = new BatchRepository(m);
        const jobRows = new JobRepository(m);
        // First the key: a concurrent submit of the same key waits here and then replays this batch.
        const inserted = await batches.insert({
          batchId,
          selection: cmd.selection,
          idempotencyKey: cmd.idempotencyKey,
          requestedBy: cmd.requestedBy,
          jobCount: jobs.length,
        });
        if (!inserted) return undefined;
        // Jobs committed since the plan was read (another key's submit, a completion) are seen here.
        const holders = holdersBySegment(await jobRows.ofSegments(jobs.map((j) => j.plan.oldSegmentId)));
        if (holders.size > 0) throw failedPrecondition(segmentsHeldMessage([...holders.values()]));
        // Jobs a concurrent transaction has not committed yet are not seen above; the unique index catches them.
        const stored = await insertThenEnqueue(
          jobRows.insert(batchId, jobs),
          () => enqueueJobsRequested(m, { batchId, requestedBy: cmd.requestedBy, requestId: cmd.requestId }, jobs),
        );
        return { batch: { ...inserted, counts: { ...inserted.counts, submitted: stored.length } }, jobs: stored };
      });
    } catch (err) {
      if (err instanceof OpenJobConflict) throw failedPrecondition(openJobConflictMessage(err.segmentId));
      throw err;
    }
  }

  private async replay(batchId: string, cmd: SubmitCommand): Promise<SubmittedBatch> {
    const view = await this.read.batch(batchId);
    if (!sameSelection(view.batch.selection, cmd.selection)) {
      // The key may have been used in a project the caller cannot see: then its batch is not named.
      const which = cmd.caller === undefined || cmd.caller.canView(view.batch.projectId) ? `batch ${batchId}` : "a batch";
      throw alreadyExists(`idempotency_key "${cmd.idempotencyKey}" already submitted ${which} with a different selection; use a new key`);
    }
    return { ...view, created: false };
  }
}
