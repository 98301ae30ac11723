/** Every read and write of the receipts schema. SQL lives here and nowhere else. */
import type { DataSource, EntityManager } from "typeorm";
import type { JsonObject } from "@bufbuild/protobuf";
import {
  ReceiptCompletedSchema,
  ReceiptCreatedSchema,
  alreadyExists,
  enqueueEvent,
  failedPrecondition,
  invalidArgument,
  notFound,
  rowsOf,
  type Row,
} from "@provenance/shared";
import type { InputRoleName, InputRow, ReceiptDraft } from "../domain/new-receipt.js";
import { toReceiptMessage, type ReceiptRecord, type ReceiptStatusName, type SegmentRecord } from "../domain/receipt-record.js";

/** The schema this service owns. */
export const RECEIPTS_SCHEMA = "receipts";

/** The result of CreateReceipt: the receipt, and whether this call wrote it. */
export interface CreateResult {
  receipt: ReceiptRecord;
  created: boolean;
}

/** One row of reverse usage: an input of a receipt, with its segment. */
export interface UsageRecord {
  receiptSeq: bigint;
  receiptId: string;
  role: InputRoleName;
  position: number;
  contentHash: string;
  version: number | null;
  weight: number | null;
  status: ReceiptStatusName;
  generationStartedAt: Date;
  segment: SegmentRecord;
}

/** Where a page of usage ends: the last row's sort key. */
export interface UsageCursor {
  receiptSeq: bigint;
  role: InputRoleName;
  position: number;
}


const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Receipt ids are UUIDs; any other string names no receipt (and must not reach a uuid cast). */
function isReceiptId(id: string): boolean {
  return UUID.test(id);
}

const RECEIPT_COLUMNS = `
  r.receipt_id, r.seq, r.workflow_version, r.prompt_text, r.negative_prompt, r.cfg_scale, r.seed::text AS seed,
  r.steps, r.sampler, r.resolution_width, r.resolution_height, r.additional_params, r.inputs_hash, r.status,
  r.generation_started_at, r.generation_completed_at, r.generation_duration_ms, r.output_hash,
  r.regeneration_job_id, r.supersedes_segment_id AS r_supersedes_segment_id, r.idempotency_key,
  r.request_fingerprint, r.created_at,
  s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.supersedes_segment_id,
  s.superseded_by_segment_id, s.created_at AS segment_created_at`;

function segmentOf(row: Row): SegmentRecord {
  return {
    segmentId: row.segment_id as string,
    sceneId: row.scene_id as string,
    projectId: row.project_id as string,
    characterName: row.character_name as string,
    sequenceIndex: row.sequence_index as number,
    supersedesSegmentId: (row.supersedes_segment_id as string | null) ?? null,
    supersededBySegmentId: (row.superseded_by_segment_id as string | null) ?? null,
    createdAt: (row.segment_created_at ?? row.created_at) as Date,
  };
}

function inputOf(row: Row): InputRow {
  return {
    role: row.role as InputRoleName,
    position: row.position as number,
    assetId: row.asset_id as string,
    contentHash: row.content_hash as string,
    version: (row.version as number | null) ?? null,
    weight: (row.weight as number | null) ?? null,
  };
}

function receiptOf(row: Row, inputs: InputRow[]): ReceiptRecord {
  return {
    receiptId: row.receipt_id as string,
    seq: BigInt(row.seq as string),
    segment: segmentOf(row),
    workflowVersion: row.workflow_version as string,
    promptText: row.prompt_text as string,
    negativePrompt: row.negative_prompt as string,
    cfgScale: row.cfg_scale as number,
    seed: BigInt(row.seed as string),
    steps: row.steps as number,
    sampler: row.sampler as string,
    resolutionWidth: row.resolution_width as number,
    resolutionHeight: row.resolution_height as number,
    additionalParams: row.additional_params as JsonObject,
    inputsHash: row.inputs_hash as string,
    status: row.status as ReceiptStatusName,
    generationStartedAt: row.generation_started_at as Date,
    generationCompletedAt: (row.generation_completed_at as Date | null) ?? null,
    generationDurationMs: row.generation_duration_ms === null ? null : Number(row.generation_duration_ms),
    outputHash: (row.output_hash as string | null) ?? null,
    regenerationJobId: (row.regeneration_job_id as string | null) ?? null,
    supersedesSegmentId: (row.r_supersedes_segment_id as string | null) ?? null,
    idempotencyKey: row.idempotency_key as string,
    requestFingerprint: row.request_fingerprint as string,
    createdAt: row.created_at as Date,
    inputs,
  };
}

/** Reads and writes receipts, segments and inputs; emits events through the outbox. */
export class ReceiptRepository {
  constructor(private readonly ds: DataSource) {}

  /** Loads full receipts (with inputs) for rows selected by `where`, in the given order. */
  private async load(
    m: EntityManager,
    where: string,
    params: unknown[],
    order = "r.seq DESC",
    limit?: number,
    lockReceipts = false,
  ): Promise<ReceiptRecord[]> {
    const rows: Row[] = await m.query(
      `SELECT ${RECEIPT_COLUMNS}
         FROM receipts.generation_receipts r
         JOIN receipts.segments s ON s.segment_id = r.segment_id
        WHERE ${where}
        ORDER BY ${order}${limit ? ` LIMIT ${limit}` : ""}${lockReceipts ? " FOR UPDATE OF r" : ""}`,
      params,
    );
    if (rows.length === 0) return [];
    const inputRows: Row[] = await m.query(
      `SELECT receipt_id, role, position, asset_id, content_hash, version, weight
         FROM receipts.receipt_inputs WHERE receipt_id = ANY($1::uuid[])`,
      [rows.map((r) => r.receipt_id)],
    );
    const byReceipt = new Map<string, InputRow[]>();
    for (const ir of inputRows) {
      const list = byReceipt.get(ir.receipt_id as string) ?? [];
      list.push(inputOf(ir));
      byReceipt.set(ir.receipt_id as string, list);
    }
    return rows.map((r) => receiptOf(r, byReceipt.get(r.receipt_id as string) ?? []));
  }

  /**
   * Creates a receipt (and its segment on first sight), idempotent per key; emits provenance.receipt.created.
   * The happy path inserts first and builds the result from what it wrote: no lookup before, no re-read after.
   * Any rejection (key reused with other content, a segment moving) rolls the whole transaction back.
   */
  async create(draft: ReceiptDraft, requestId?: string): Promise<CreateResult> {
    return this.ds.transaction(async (m) => {
      await this.checkSupersedes(m, draft);
      const s = draft.segment;
      await m.query(
        `INSERT INTO receipts.segments (segment_id, scene_id, project_id, character_name, sequence_index, supersedes_segment_id)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (segment_id) DO NOTHING`,
        [s.segmentId, s.sceneId, s.projectId, s.characterName, s.sequenceIndex, s.supersedesSegmentId],
      );
      const inserted: Row[] = await m.query(
        `INSERT INTO receipts.generation_receipts (
           receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale, seed, steps, sampler,
           resolution_width, resolution_height, additional_params, inputs_hash, generation_started_at,
           regeneration_job_id, supersedes_segment_id, idempotency_key, request_fingerprint)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6::numeric, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15, $16, $17)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING receipt_id, seq, created_at`,
        [
          s.segmentId, draft.workflowVersion, draft.promptText, draft.negativePrompt, draft.cfgScale,
          draft.seed.toString(), draft.steps, draft.sampler, draft.resolutionWidth, draft.resolutionHeight,
          JSON.stringify(draft.additionalParams), draft.inputsHash, draft.generationStartedAt,
          draft.regenerationJobId, draft.supersedesSegmentId, draft.idempotencyKey, draft.requestFingerprint,
        ],
      );
      if (inserted.length === 0) {
        // The key was used before (a retry, or a conflicting reuse): answer with that receipt or ALREADY_EXISTS.
        const earlier = await this.byIdempotencyKey(m, draft);
        if (earlier) return { receipt: earlier, created: false };
        throw failedPrecondition(`idempotency_key "${draft.idempotencyKey}" is being used by a concurrent call`);
      }
      const segment = await this.placedSegment(m, draft);
      const { receipt_id: receiptId, seq, created_at: createdAt } = inserted[0] as { receipt_id: string; seq: string; created_at: Date };
      await m.query(
        `INSERT INTO receipts.receipt_inputs (receipt_id, receipt_seq, role, position, asset_id, content_hash, version, weight)
         SELECT $1::uuid, $2::bigint, * FROM unnest($3::text[], $4::smallint[], $5::text[], $6::text[], $7::integer[], $8::double precision[])`,
        [
          receiptId, seq,
          draft.inputs.map((i) => i.role), draft.inputs.map((i) => i.position), draft.inputs.map((i) => i.assetId),
          draft.inputs.map((i) => i.contentHash), draft.inputs.map((i) => i.version), draft.inputs.map((i) => i.weight),
        ],
      );
      const receipt: ReceiptRecord = {
        receiptId,
        seq: BigInt(seq),
        segment,
        workflowVersion: draft.workflowVersion,
        promptText: draft.promptText,
        negativePrompt: draft.negativePrompt,
        cfgScale: draft.cfgScale,
        seed: draft.seed,
        steps: draft.steps,
        sampler: draft.sampler,
        resolutionWidth: draft.resolutionWidth,
        resolutionHeight: draft.resolutionHeight,
        additionalParams: draft.additionalParams,
        inputsHash: draft.inputsHash,
        status: "RUNNING",
        generationStartedAt: draft.generationStartedAt,
        generationCompletedAt: null,
        generationDurationMs: null,
        outputHash: null,
        regenerationJobId: draft.regenerationJobId,
        supersedesSegmentId: draft.supersedesSegmentId,
        idempotencyKey: draft.idempotencyKey,
        requestFingerprint: draft.requestFingerprint,
        createdAt,
        inputs: draft.inputs,
      };
      await enqueueEvent(m, {
        schema: RECEIPTS_SCHEMA,
        subject: "provenance.receipt.created",
        eventSchema: ReceiptCreatedSchema,
        event: { receipt: toReceiptMessage(receipt) },
        requestId,
      });
      return { receipt, created: true };
    });
  }

  private async byIdempotencyKey(m: EntityManager, draft: ReceiptDraft): Promise<ReceiptRecord | undefined> {
    const [found] = await this.load(m, "r.idempotency_key = $1", [draft.idempotencyKey]);
    if (!found) return undefined;
    if (found.requestFingerprint !== draft.requestFingerprint) {
      throw alreadyExists(
        `idempotency_key "${draft.idempotencyKey}" was already used for receipt ${found.receiptId} with different content`,
      );
    }
    return found;
  }

  /** A superseded segment must exist, be another segment, and be in the same project. */
  private async checkSupersedes(m: EntityManager, draft: ReceiptDraft): Promise<void> {
    const s = draft.segment;
    if (s.supersedesSegmentId === null) return;
    if (s.supersedesSegmentId === s.segmentId) {
      throw invalidArgument("supersedes_segment_id", "must name another segment than segment_id");
    }
    const [old] = (await m.query(`SELECT project_id FROM receipts.segments WHERE segment_id = $1`, [
      s.supersedesSegmentId,
    ])) as Row[];
    if (!old) throw invalidArgument("supersedes_segment_id", `segment "${s.supersedesSegmentId}" does not exist`);
    if (old.project_id !== s.projectId) {
      throw invalidArgument("supersedes_segment_id", `segment "${s.supersedesSegmentId}" belongs to another project`);
    }
  }

  /** The receipt's segment as stored; a segment never moves to another scene or project. */
  private async placedSegment(m: EntityManager, draft: ReceiptDraft): Promise<SegmentRecord> {
    const s = draft.segment;
    const [row] = (await m.query(
      `SELECT segment_id, scene_id, project_id, character_name, sequence_index, supersedes_segment_id,
              superseded_by_segment_id, created_at AS segment_created_at
         FROM receipts.segments WHERE segment_id = $1`,
      [s.segmentId],
    )) as Row[];
    if (row!.project_id !== s.projectId) {
      throw failedPrecondition(
        `project_id: segment "${s.segmentId}" belongs to project "${String(row!.project_id)}"; a segment cannot move to another project`,
      );
    }
    if (row!.scene_id !== s.sceneId) {
      throw failedPrecondition(
        `scene_id: segment "${s.segmentId}" belongs to scene "${String(row!.scene_id)}"; a segment cannot move to another scene`,
      );
    }
    return segmentOf(row!);
  }

  /**
   * Sets a receipt's completion fields once; a SUCCEEDED receipt that supersedes a segment marks
   * it superseded in the same transaction. Emits provenance.receipt.completed.
   */
  async complete(
    receiptId: string,
    status: "SUCCEEDED" | "FAILED",
    completedAt: Date,
    outputHash: string | null,
    durationOf: (startedAt: Date) => number,
    requestId?: string,
  ): Promise<ReceiptRecord> {
    if (!isReceiptId(receiptId)) throw notFound("receipt", receiptId);
    return this.ds.transaction(async (m) => {
      // Lock and read the whole receipt once; the completed record is built from it, not read again.
      const [current] = await this.load(m, "r.receipt_id = $1", [receiptId], undefined, undefined, true);
      if (!current) throw notFound("receipt", receiptId);
      if (current.status !== "RUNNING") {
        throw failedPrecondition(`receipt ${receiptId} is already completed (${current.status}); receipts are immutable`);
      }
      const durationMs = durationOf(current.generationStartedAt);
      await m.query(
        `UPDATE receipts.generation_receipts
            SET status = $2, generation_completed_at = $3, generation_duration_ms = $4, output_hash = $5
          WHERE receipt_id = $1`,
        [receiptId, status, completedAt, durationMs, outputHash],
      );
      let superseded = "";
      const oldSegment = current.supersedesSegmentId;
      if (status === "SUCCEEDED" && oldSegment) {
        const marked = rowsOf(
          await m.query(
            `UPDATE receipts.segments SET superseded_by_segment_id = $2, superseded_at = now()
              WHERE segment_id = $1 AND superseded_by_segment_id IS NULL RETURNING segment_id`,
            [oldSegment, current.segment.segmentId],
          ),
        );
        if (marked.length > 0) superseded = oldSegment;
      }
      const receipt: ReceiptRecord = {
        ...current,
        status,
        generationCompletedAt: completedAt,
        generationDurationMs: durationMs,
        outputHash,
      };
      await enqueueEvent(m, {
        schema: RECEIPTS_SCHEMA,
        subject: "provenance.receipt.completed",
        eventSchema: ReceiptCompletedSchema,
        event: { receipt: toReceiptMessage(receipt), supersededSegmentId: superseded },
        requestId,
      });
      return receipt;
    });
  }

  /** One receipt by id. */
  async get(receiptId: string): Promise<ReceiptRecord | undefined> {
    if (!isReceiptId(receiptId)) return undefined;
    const [r] = await this.load(this.ds.manager, "r.receipt_id = $1", [receiptId]);
    return r;
  }

  /** A segment and all its receipts, newest first; undefined when the segment is unknown. */
  async segmentHistory(segmentId: string): Promise<{ segment: SegmentRecord; receipts: ReceiptRecord[] } | undefined> {
    const [seg] = (await this.ds.query(
      `SELECT segment_id, scene_id, project_id, character_name, sequence_index, supersedes_segment_id,
              superseded_by_segment_id, created_at AS segment_created_at
         FROM receipts.segments WHERE segment_id = $1`,
      [segmentId],
    )) as Row[];
    if (!seg) return undefined;
    const receipts = await this.load(this.ds.manager, "r.segment_id = $1", [segmentId]);
    return { segment: segmentOf(seg), receipts };
  }

  /** Receipts with one inputs hash, newest first, keyset-paged on seq. */
  async byInputsHash(inputsHash: string, limit: number, beforeSeq?: bigint): Promise<ReceiptRecord[]> {
    return beforeSeq === undefined
      ? this.load(this.ds.manager, "r.inputs_hash = $1", [inputsHash], "r.seq DESC", limit)
      : this.load(this.ds.manager, "r.inputs_hash = $1 AND r.seq < $2", [inputsHash, beforeSeq.toString()], "r.seq DESC", limit);
  }

  /**
   * Inputs that named an asset (optionally one content hash), newest receipt first, keyset-paged:
   * one range scan of receipt_inputs_asset_idx or receipt_inputs_asset_hash_idx, then key lookups.
   */
  async usage(assetId: string, contentHash: string | undefined, limit: number, after?: UsageCursor): Promise<UsageRecord[]> {
    const params: unknown[] = [assetId];
    let where = "i.asset_id = $1";
    if (contentHash !== undefined) {
      params.push(contentHash);
      where += ` AND i.content_hash = $${params.length}`;
    }
    if (after !== undefined) {
      params.push(after.receiptSeq.toString(), after.role, after.position);
      const n = params.length;
      where += ` AND (i.receipt_seq, i.role, i.position) < ($${n - 2}::bigint, $${n - 1}, $${n}::smallint)`;
    }
    const rows: Row[] = await this.ds.query(
      `SELECT i.receipt_seq, i.receipt_id, i.role, i.position, i.content_hash, i.version, i.weight,
              r.status, r.generation_started_at,
              s.segment_id, s.scene_id, s.project_id, s.character_name, s.sequence_index, s.supersedes_segment_id,
              s.superseded_by_segment_id, s.created_at AS segment_created_at
         FROM (SELECT * FROM receipts.receipt_inputs i WHERE ${where}
                ORDER BY i.receipt_seq DESC, i.role DESC, i.position DESC LIMIT ${limit}) i
         JOIN receipts.generation_receipts r ON r.receipt_id = i.receipt_id
         JOIN receipts.segments s ON s.segment_id = r.segment_id
        ORDER BY i.receipt_seq DESC, i.role DESC, i.position DESC`,
      params,
    );
    return rows.map((row) => ({
      receiptSeq: BigInt(row.receipt_seq as string),
      receiptId: row.receipt_id as string,
      role: row.role as InputRoleName,
      position: row.position as number,
      contentHash: row.content_hash as string,
      version: (row.version as number | null) ?? null,
      weight: (row.weight as number | null) ?? null,
      status: row.status as ReceiptStatusName,
      generationStartedAt: row.generation_started_at as Date,
      segment: segmentOf(row),
    }));
  }
}
