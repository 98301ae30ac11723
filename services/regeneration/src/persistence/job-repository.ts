/** Rows of `regeneration.jobs`: read and written, nothing decided. */
import type { JsonValue } from "@bufbuild/protobuf";
import type { PlannedJob, Row } from "@provenance/shared";
import type { JobProgress, JobStatusName, ReceiptStatusName } from "../domain/job-progress.js";
import type { SegmentJob } from "../domain/open-jobs.js";
import { planFromJson, planToJson, type JobRecord, type NewJob } from "../domain/regeneration-records.js";
import type { Queryable } from "./queryable.js";

/** The UNIQUE partial index that holds one open job per old segment (migration 1732400000005). */
export const ONE_OPEN_JOB_PER_SEGMENT_INDEX = "jobs_one_open_job_per_segment_idx";

/**
 * The database refused a job row because its old segment already has an open job (or, seen as the same thing, two
 * transactions inserting jobs for the same segments deadlocked). The caller's transaction is aborted.
 */
export class OpenJobConflict extends Error {
  constructor(
    /** The segment named by the database; undefined when it did not say (a deadlock). */
    readonly segmentId: string | undefined,
    options: { cause: unknown },
  ) {
    super(`a job for ${segmentId === undefined ? "one of the segments" : `segment ${segmentId}`} is already open`, options);
    this.name = "OpenJobConflict";
  }
}

/**
 * A stored job as the open-job rule reads it, with its place in submission order: jobs of segments read in several
 * parts (a plan reads them page by page) are put back in that order before the rule picks each segment's holder.
 */
export interface SubmittedSegmentJob extends SegmentJob {
  readonly seq: bigint;
}

/** Filters of a job listing; at least one of batch or project is set. */
export interface JobFilter {
  batchId?: string;
  projectId?: string;
  status?: JobStatusName;
  /** Only jobs of these projects (the caller's viewable ones); undefined = any. */
  projects?: readonly string[];
}

const JOB_COLUMNS = `job_id, seq, batch_id, status, plan, new_segment_id, new_receipt_id, new_receipt_created_at,
  actual_inputs_hash, receipt_status, error, completed_at, created_at, updated_at`;

/** {@link JOB_COLUMNS} but the plan: what an insert returns, its plans being the caller's. */
const JOB_COLUMNS_BUT_PLAN = `job_id, seq, batch_id, status, new_segment_id, new_receipt_id, new_receipt_created_at,
  actual_inputs_hash, receipt_status, error, completed_at, created_at, updated_at`;

function progressOf(row: Row): JobProgress {
  return {
    newReceiptId: (row.new_receipt_id as string | null) ?? null,
    newReceiptCreatedAt: (row.new_receipt_created_at as Date | null) ?? null,
    actualInputsHash: (row.actual_inputs_hash as string | null) ?? null,
    receiptStatus: (row.receipt_status as ReceiptStatusName | null) ?? null,
    completedAt: (row.completed_at as Date | null) ?? null,
  };
}

/** A job from its row; `plan` when the caller has the message already (the row then need not carry it). */
function jobOf(row: Row, plan?: PlannedJob): JobRecord {
  return {
    jobId: row.job_id as string,
    seq: BigInt(row.seq as string),
    batchId: row.batch_id as string,
    status: row.status as JobStatusName,
    plan: plan ?? planFromJson(row.plan as JsonValue),
    newSegmentId: row.new_segment_id as string,
    progress: progressOf(row),
    error: row.error as string,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

/** The segment named in a unique violation's detail, `Key (old_segment_id)=(<id>) already exists.` */
function segmentOfDetail(detail: unknown): string | undefined {
  const m = typeof detail === "string" ? /^Key \(old_segment_id\)=\((.*)\) already exists\.?$/s.exec(detail) : null;
  return m?.[1];
}

/** The conflict `err` stands for, when it is the open-job index refusing a row or a deadlock between job inserts. */
function openJobConflictOf(err: unknown): OpenJobConflict | undefined {
  const driver = ((err as { driverError?: unknown }).driverError ?? err) as { code?: unknown; constraint?: unknown; detail?: unknown };
  if (driver.code === "23505" && driver.constraint === ONE_OPEN_JOB_PER_SEGMENT_INDEX) {
    return new OpenJobConflict(segmentOfDetail(driver.detail), { cause: err });
  }
  if (driver.code === "40P01") return new OpenJobConflict(undefined, { cause: err });
  return undefined;
}

/** Reads and writes jobs. */
export class JobRepository {
  constructor(private readonly q: Queryable) {}

  /** Every job of a batch, in submission order. */
  async ofBatch(batchId: string): Promise<JobRecord[]> {
    const rows: Row[] = await this.q.query(`SELECT ${JOB_COLUMNS} FROM regeneration.jobs WHERE batch_id = $1 ORDER BY seq`, [batchId]);
    return rows.map((r) => jobOf(r));
  }

  /** A page of jobs matching `filter`, after `afterSeq`, in submission order. */
  async list(filter: JobFilter, limit: number, afterSeq: bigint | undefined): Promise<JobRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace("?", `$${params.length}`));
    };
    if (filter.batchId) add("batch_id = ?", filter.batchId);
    if (filter.projectId) add("project_id = ?", filter.projectId);
    if (filter.status) add("status = ?", filter.status);
    if (filter.projects) add("project_id = ANY(?::text[])", filter.projects);
    if (afterSeq !== undefined) add("seq > ?", afterSeq.toString());
    params.push(limit);
    const rows: Row[] = await this.q.query(
      `SELECT ${JOB_COLUMNS} FROM regeneration.jobs WHERE ${where.join(" AND ")} ORDER BY seq LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => jobOf(r));
  }

  /** Every job, of any status, whose old segment is one of `segmentIds`, in submission order. */
  async ofSegments(segmentIds: readonly string[]): Promise<SubmittedSegmentJob[]> {
    if (segmentIds.length === 0) return [];
    const rows: Row[] = await this.q.query(
      `SELECT job_id, seq, batch_id, old_segment_id, status, receipt_status FROM regeneration.jobs
        WHERE old_segment_id = ANY($1::text[]) ORDER BY seq`,
      [segmentIds],
    );
    return rows.map((r) => ({
      jobId: r.job_id as string,
      seq: BigInt(r.seq as string),
      batchId: r.batch_id as string,
      oldSegmentId: r.old_segment_id as string,
      status: r.status as JobStatusName,
      receiptStatus: (r.receipt_status as ReceiptStatusName | null) ?? null,
    }));
  }

  /**
   * Inserts the jobs of a batch (status `submitted`) in the order given, in one statement, and returns them as stored
   * (in that order). Throws {@link OpenJobConflict} when the database refuses one because its segment already has an
   * open job; a concurrent transaction's uncommitted job for the same segment makes this wait for it, and conflict if
   * it commits.
   */
  async insert(batchId: string, jobs: readonly NewJob[]): Promise<JobRecord[]> {
    if (jobs.length === 0) return [];
    let rows: Row[];
    try {
      rows = await this.q.query(
        `INSERT INTO regeneration.jobs
           (job_id, batch_id, project_id, scene_id, old_segment_id, old_receipt_id, new_segment_id, plan, expected_inputs_hash)
         SELECT j.job_id, $1, j.project_id, j.scene_id, j.old_segment_id, j.old_receipt_id, j.new_segment_id, j.plan, j.expected_inputs_hash
           FROM jsonb_to_recordset($2::jsonb) AS j(job_id text, project_id text, scene_id text, old_segment_id text,
                old_receipt_id text, new_segment_id text, plan jsonb, expected_inputs_hash text, ord int)
          ORDER BY j.ord
         RETURNING ${JOB_COLUMNS_BUT_PLAN}`,
        [
          batchId,
          JSON.stringify(
            jobs.map((j, ord) => ({
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
    } catch (err) {
      throw openJobConflictOf(err) ?? err;
    }
    const planOf = new Map(jobs.map((j) => [j.jobId, j.plan]));
    return rows.map((r) => jobOf(r, planOf.get(r.job_id as string))).sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  }

  /** One job, locked until the caller's transaction ends (the receipt consumer applies events to it one at a time). */
  async lock(jobId: string): Promise<JobRecord | undefined> {
    const rows: Row[] = await this.q.query(`SELECT ${JOB_COLUMNS} FROM regeneration.jobs WHERE job_id = $1 FOR UPDATE`, [jobId]);
    return rows[0] ? jobOf(rows[0]) : undefined;
  }

  /** Writes a job's progress, status and error. */
  async updateProgress(jobId: string, progress: JobProgress, status: JobStatusName, error: string): Promise<void> {
    await this.q.query(
      `UPDATE regeneration.jobs
          SET new_receipt_id = $2, new_receipt_created_at = $3, actual_inputs_hash = $4, receipt_status = $5,
              completed_at = $6, status = $7, error = $8, updated_at = now()
        WHERE job_id = $1`,
      [jobId, progress.newReceiptId, progress.newReceiptCreatedAt, progress.actualInputsHash, progress.receiptStatus, progress.completedAt, status, error],
    );
  }
}
