/** Every read and write of the regeneration schema. SQL lives here and nowhere else. */
import type { DataSource, EntityManager } from "typeorm";
import type { JsonValue } from "@bufbuild/protobuf";
import { GenerationJobRequestedSchema, enqueueEvent, markProcessed, type PlannedJob } from "@provenance/shared";
import {
  applyReceipt,
  jobErrorOf,
  jobStatusOf,
  type JobProgress,
  type JobStatusName,
  type ReceiptObservation,
  type ReceiptStatusName,
} from "../domain/job-progress.js";
import { emptyCounts, planFromJson, planToJson, type BatchRecord, type JobRecord } from "../domain/regeneration-records.js";
import { selectionDocument, selectionFromDocument, type Selection } from "../domain/selection.js";

/** The schema this service owns. */
export const REGENERATION_SCHEMA = "regeneration";

/** The subject each job is published on (stream GENERATION, work queue). */
export const JOB_REQUESTED_SUBJECT = "generation.jobs.requested";

/** The inbox name of the job lifecycle consumer. */
export const LIFECYCLE_CONSUMER = "regeneration-job-lifecycle";

/** One job to create, with the ids assigned to it. */
export interface NewJob {
  jobId: string;
  newSegmentId: string;
  plan: PlannedJob;
}

/** What SubmitRegeneration persists. */
export interface NewBatch {
  batchId: string;
  selection: Selection;
  idempotencyKey: string;
  requestedBy: string;
  jobs: NewJob[];
  requestId?: string;
}

/** Filters of ListRegenerationJobs; at least one of batch or project is set. */
export interface JobFilter {
  batchId?: string;
  projectId?: string;
  status?: JobStatusName;
}

/** What applying a receipt did to a job. */
export type ReceiptApplied = "unknown_job" | "duplicate" | "unchanged" | { status: JobStatusName };

type Row = Record<string, unknown>;

const JOB_COLUMNS = `job_id, seq, batch_id, status, plan, new_segment_id, new_receipt_id, new_receipt_created_at,
  actual_inputs_hash, receipt_status, error, completed_at, created_at, updated_at, expected_inputs_hash`;

function progressOf(row: Row): JobProgress {
  return {
    newReceiptId: (row.new_receipt_id as string | null) ?? null,
    newReceiptCreatedAt: (row.new_receipt_created_at as Date | null) ?? null,
    actualInputsHash: (row.actual_inputs_hash as string | null) ?? null,
    receiptStatus: (row.receipt_status as ReceiptStatusName | null) ?? null,
    completedAt: (row.completed_at as Date | null) ?? null,
  };
}

function jobOf(row: Row): JobRecord {
  return {
    jobId: row.job_id as string,
    seq: BigInt(row.seq as string),
    batchId: row.batch_id as string,
    status: row.status as JobStatusName,
    plan: planFromJson(row.plan as JsonValue),
    newSegmentId: row.new_segment_id as string,
    progress: progressOf(row),
    error: row.error as string,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

/** Reads and writes batches and jobs; SubmitRegeneration's events go through the outbox in the same transaction. */
export class RegenerationRepository {
  constructor(private readonly ds: DataSource) {}

  /** The batch submitted under `idempotencyKey`, if any. */
  async batchByKey(idempotencyKey: string): Promise<BatchRecord | undefined> {
    const rows: Row[] = await this.ds.query(`SELECT batch_id FROM regeneration.batches WHERE idempotency_key = $1`, [idempotencyKey]);
    return rows[0] ? this.batch(rows[0].batch_id as string) : undefined;
  }

  /** A batch with its job counts per status. */
  async batch(batchId: string): Promise<BatchRecord | undefined> {
    const rows: Row[] = await this.ds.query(
      `SELECT b.batch_id, b.project_id, b.idempotency_key, b.requested_by, b.selection, b.job_count, b.created_at,
              COALESCE((SELECT jsonb_object_agg(status, n) FROM (
                 SELECT status, count(*)::int AS n FROM regeneration.jobs j WHERE j.batch_id = b.batch_id GROUP BY status
               ) c), '{}'::jsonb) AS counts
         FROM regeneration.batches b WHERE b.batch_id = $1`,
      [batchId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      batchId: row.batch_id as string,
      projectId: row.project_id as string,
      idempotencyKey: row.idempotency_key as string,
      requestedBy: row.requested_by as string,
      selection: selectionFromDocument(row.selection as Record<string, unknown>),
      jobCount: row.job_count as number,
      counts: { ...emptyCounts(), ...(row.counts as Record<JobStatusName, number>) },
      createdAt: row.created_at as Date,
    };
  }

  /** Every job of a batch, in submission order. */
  async jobsOfBatch(batchId: string): Promise<JobRecord[]> {
    const rows: Row[] = await this.ds.query(
      `SELECT ${JOB_COLUMNS} FROM regeneration.jobs WHERE batch_id = $1 ORDER BY seq`,
      [batchId],
    );
    return rows.map(jobOf);
  }

  /** One job. */
  async job(jobId: string): Promise<JobRecord | undefined> {
    const rows: Row[] = await this.ds.query(`SELECT ${JOB_COLUMNS} FROM regeneration.jobs WHERE job_id = $1`, [jobId]);
    return rows[0] ? jobOf(rows[0]) : undefined;
  }

  /** A page of jobs matching `filter`, after `afterSeq`, in submission order. */
  async listJobs(filter: JobFilter, limit: number, afterSeq: bigint | undefined): Promise<JobRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace("?", `$${params.length}`));
    };
    if (filter.batchId) add("batch_id = ?", filter.batchId);
    if (filter.projectId) add("project_id = ?", filter.projectId);
    if (filter.status) add("status = ?", filter.status);
    if (afterSeq !== undefined) add("seq > ?", afterSeq.toString());
    params.push(limit);
    const rows: Row[] = await this.ds.query(
      `SELECT ${JOB_COLUMNS} FROM regeneration.jobs WHERE ${where.join(" AND ")} ORDER BY seq LIMIT $${params.length}`,
      params,
    );
    return rows.map(jobOf);
  }

  /** Which of `segmentIds` already have a job submitted or running. */
  async segmentsWithOpenJobs(segmentIds: readonly string[]): Promise<Set<string>> {
    if (segmentIds.length === 0) return new Set();
    const rows: Row[] = await this.ds.query(
      `SELECT DISTINCT old_segment_id FROM regeneration.jobs
        WHERE old_segment_id = ANY($1::text[]) AND status IN ('submitted', 'running')`,
      [segmentIds],
    );
    return new Set(rows.map((r) => r.old_segment_id as string));
  }

  /**
   * Persists a batch, its jobs and one GenerationJobRequested per job in one transaction. Returns false
   * (writing nothing) when another submission already holds the idempotency key.
   */
  async createBatch(batch: NewBatch): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      const inserted: Row[] = await m.query(
        `INSERT INTO regeneration.batches (batch_id, project_id, idempotency_key, requested_by, selection, job_count)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6)
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING batch_id`,
        [
          batch.batchId,
          batch.selection.projectId,
          batch.idempotencyKey,
          batch.requestedBy,
          JSON.stringify(selectionDocument(batch.selection)),
          batch.jobs.length,
        ],
      );
      if (inserted.length === 0) return false;
      await this.insertJobs(m, batch);
      for (const job of batch.jobs) {
        const p = job.plan;
        await enqueueEvent(m, {
          schema: REGENERATION_SCHEMA,
          subject: JOB_REQUESTED_SUBJECT,
          eventSchema: GenerationJobRequestedSchema,
          requestId: batch.requestId,
          event: {
            jobId: job.jobId,
            batchId: batch.batchId,
            projectId: p.projectId,
            sceneId: p.sceneId,
            characterName: p.characterName,
            sequenceIndex: p.sequenceIndex,
            oldSegmentId: p.oldSegmentId,
            newSegmentId: job.newSegmentId,
            inputs: p.inputs,
            expectedInputsHash: p.expectedInputsHash,
            requestedBy: batch.requestedBy,
          },
        });
      }
      return true;
    });
  }

  private async insertJobs(m: EntityManager, batch: NewBatch): Promise<void> {
    if (batch.jobs.length === 0) return;
    await m.query(
      `INSERT INTO regeneration.jobs
         (job_id, batch_id, project_id, scene_id, old_segment_id, old_receipt_id, new_segment_id, plan, expected_inputs_hash)
       SELECT j.job_id, $1, j.project_id, j.scene_id, j.old_segment_id, j.old_receipt_id, j.new_segment_id, j.plan, j.expected_inputs_hash
         FROM jsonb_to_recordset($2::jsonb) AS j(job_id text, project_id text, scene_id text, old_segment_id text,
              old_receipt_id text, new_segment_id text, plan jsonb, expected_inputs_hash text, ord int)
        ORDER BY j.ord`,
      [
        batch.batchId,
        JSON.stringify(
          batch.jobs.map((j, ord) => ({
            job_id: j.jobId,
            project_id: j.plan.projectId,
            scene_id: j.plan.sceneId,
            old_segment_id: j.plan.oldSegmentId,
            old_receipt_id: j.plan.oldReceiptId,
            new_segment_id: j.newSegmentId,
            plan: planToJson(j.plan),
            expected_inputs_hash: j.plan.expectedInputsHash,
            ord,
          })),
        ),
      ],
    );
  }

  /**
   * Applies a receipt carrying `jobId` to the job, once per event: records the receipt, re-derives the
   * status and error. Unknown jobs (another deployment's) are ignored.
   */
  async applyReceipt(jobId: string, seen: ReceiptObservation, eventId: string): Promise<ReceiptApplied> {
    return this.ds.transaction(async (m) => {
      const rows: Row[] = await m.query(`SELECT ${JOB_COLUMNS} FROM regeneration.jobs WHERE job_id = $1 FOR UPDATE`, [jobId]);
      const row = rows[0];
      if (!row) return "unknown_job";
      if (eventId && !(await markProcessed(m, REGENERATION_SCHEMA, LIFECYCLE_CONSUMER, eventId))) return "duplicate";
      const expected = row.expected_inputs_hash as string;
      const next = applyReceipt(progressOf(row), seen);
      if (!next) return "unchanged";
      const status = jobStatusOf(expected, next);
      await m.query(
        `UPDATE regeneration.jobs
            SET new_receipt_id = $2, new_receipt_created_at = $3, actual_inputs_hash = $4, receipt_status = $5,
                completed_at = $6, status = $7, error = $8, updated_at = now()
          WHERE job_id = $1`,
        [jobId, next.newReceiptId, next.newReceiptCreatedAt, next.actualInputsHash, next.receiptStatus, next.completedAt, status, jobErrorOf(expected, next)],
      );
      return { status };
    });
  }
}
