/** Rows of `regeneration.reproductions`: read and written, nothing decided. */
import type { JsonValue } from "@bufbuild/protobuf";
import type { Row } from "@provenance/shared";
import type { JobStatusName, ReceiptStatusName } from "../domain/job-progress.js";
import {
  estimateFromJson,
  estimateToJson,
  inputsFromJson,
  inputsToJson,
  type NewReproduction,
  type ReproductionProgress,
  type ReproductionRecord,
} from "../domain/reproduction.js";
import type { Queryable } from "./queryable.js";

const COLUMNS = `job_id, seq, idempotency_key, requested_receipt_id, requested_segment_id, project_id, scene_id, segment_id,
  receipt_id, new_segment_id, character_name, sequence_index, inputs, expected_inputs_hash, expected_output_hash,
  requested_by, gpu_estimate, status, new_receipt_id, new_receipt_created_at, actual_inputs_hash, actual_output_hash,
  receipt_status, completed_at, created_at, updated_at`;

function reproductionOf(row: Row): ReproductionRecord {
  return {
    jobId: row.job_id as string,
    seq: BigInt(row.seq as string),
    target: {
      projectId: row.project_id as string,
      receiptId: row.requested_receipt_id as string,
      segmentId: row.requested_segment_id as string,
    },
    projectId: row.project_id as string,
    sceneId: row.scene_id as string,
    segmentId: row.segment_id as string,
    receiptId: row.receipt_id as string,
    newSegmentId: row.new_segment_id as string,
    characterName: row.character_name as string,
    sequenceIndex: row.sequence_index as number,
    inputs: inputsFromJson(row.inputs as JsonValue),
    expectedInputsHash: row.expected_inputs_hash as string,
    expectedOutputHash: row.expected_output_hash as string,
    requestedBy: row.requested_by as string,
    idempotencyKey: row.idempotency_key as string,
    gpuEstimate: estimateFromJson((row.gpu_estimate as JsonValue | null) ?? null),
    status: row.status as JobStatusName,
    progress: {
      newReceiptId: (row.new_receipt_id as string | null) ?? null,
      newReceiptCreatedAt: (row.new_receipt_created_at as Date | null) ?? null,
      actualInputsHash: (row.actual_inputs_hash as string | null) ?? null,
      actualOutputHash: (row.actual_output_hash as string | null) ?? null,
      receiptStatus: (row.receipt_status as ReceiptStatusName | null) ?? null,
      completedAt: (row.completed_at as Date | null) ?? null,
    },
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

/** Filters of a reproduction listing: a project, optionally one receipt or one segment. */
export interface ReproductionFilter {
  projectId: string;
  receiptId?: string;
  segmentId?: string;
}

/** Reads and writes reproductions. */
export class ReproductionRepository {
  constructor(private readonly q: Queryable) {}

  /** The reproduction started under `idempotencyKey`, if any. */
  async byKey(idempotencyKey: string): Promise<ReproductionRecord | undefined> {
    const rows: Row[] = await this.q.query(`SELECT ${COLUMNS} FROM regeneration.reproductions WHERE idempotency_key = $1`, [idempotencyKey]);
    return rows[0] ? reproductionOf(rows[0]) : undefined;
  }

  /** One reproduction by job id. */
  async byId(jobId: string): Promise<ReproductionRecord | undefined> {
    const rows: Row[] = await this.q.query(`SELECT ${COLUMNS} FROM regeneration.reproductions WHERE job_id = $1`, [jobId]);
    return rows[0] ? reproductionOf(rows[0]) : undefined;
  }

  /** The project of each of these reproductions that exists, by job id (the access decision's resolver). */
  async projectsOf(jobIds: readonly string[]): Promise<Map<string, string>> {
    if (jobIds.length === 0) return new Map();
    const rows: Row[] = await this.q.query(`SELECT job_id, project_id FROM regeneration.reproductions WHERE job_id = ANY($1::text[])`, [jobIds]);
    return new Map(rows.map((r) => [r.job_id as string, r.project_id as string]));
  }

  /** A page of reproductions matching `filter`, newest first, before `beforeSeq`. */
  async list(filter: ReproductionFilter, limit: number, beforeSeq: bigint | undefined): Promise<ReproductionRecord[]> {
    const params: unknown[] = [filter.projectId];
    const where = ["project_id = $1"];
    if (filter.receiptId) where.push(`receipt_id = $${params.push(filter.receiptId)}`);
    if (filter.segmentId) where.push(`segment_id = $${params.push(filter.segmentId)}`);
    if (beforeSeq !== undefined) where.push(`seq < $${params.push(beforeSeq.toString())}`);
    const rows: Row[] = await this.q.query(
      `SELECT ${COLUMNS} FROM regeneration.reproductions WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT $${params.push(limit)}`,
      params,
    );
    return rows.map(reproductionOf);
  }

  /** Inserts a reproduction (status `submitted`); false (inserting nothing) when its idempotency key is taken. */
  async insert(r: NewReproduction): Promise<boolean> {
    const rows: Row[] = await this.q.query(
      `INSERT INTO regeneration.reproductions
         (job_id, idempotency_key, requested_receipt_id, requested_segment_id, project_id, scene_id, segment_id, receipt_id,
          new_segment_id, character_name, sequence_index, inputs, expected_inputs_hash, expected_output_hash, requested_by,
          gpu_estimate)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $16::jsonb)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING job_id`,
      [
        r.jobId, r.idempotencyKey, r.target.receiptId, r.target.segmentId, r.projectId, r.sceneId, r.segmentId, r.receiptId,
        r.newSegmentId, r.characterName, r.sequenceIndex, JSON.stringify(inputsToJson(r.inputs)), r.expectedInputsHash,
        r.expectedOutputHash, r.requestedBy, r.gpuEstimate === undefined ? null : JSON.stringify(estimateToJson(r.gpuEstimate)),
      ],
    );
    return rows.length > 0;
  }

  /** One reproduction, locked until the caller's transaction ends (receipt events are applied one at a time). */
  async lock(jobId: string): Promise<ReproductionRecord | undefined> {
    const rows: Row[] = await this.q.query(`SELECT ${COLUMNS} FROM regeneration.reproductions WHERE job_id = $1 FOR UPDATE`, [jobId]);
    return rows[0] ? reproductionOf(rows[0]) : undefined;
  }

  /** Writes a reproduction's progress and status. */
  async updateProgress(jobId: string, p: ReproductionProgress, status: JobStatusName): Promise<void> {
    await this.q.query(
      `UPDATE regeneration.reproductions
          SET new_receipt_id = $2, new_receipt_created_at = $3, actual_inputs_hash = $4, actual_output_hash = $5,
              receipt_status = $6, completed_at = $7, status = $8, updated_at = now()
        WHERE job_id = $1`,
      [jobId, p.newReceiptId, p.newReceiptCreatedAt, p.actualInputsHash, p.actualOutputHash, p.receiptStatus, p.completedAt, status],
    );
  }
}
