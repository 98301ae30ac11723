/** Every read and write of the receipts schema. SQL lives here and nowhere else. */
import { v7 as uuidv7 } from "uuid";
import type { DataSource, EntityManager } from "typeorm";
import type { JsonObject } from "@bufbuild/protobuf";
import {
  ReceiptCompletedSchema,
  ReceiptCreatedSchema,
  alreadyExists,
  enqueueEvents,
  failedPrecondition,
  invalidArgument,
  notFound,
  rowsOf,
  useKeyedPlans,
  withFieldPrefix,
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

/** What CompleteReceipt sets on one receipt. */
export interface Completion {
  receiptId: string;
  status: "SUCCEEDED" | "FAILED";
  completedAt: Date;
  outputHash: string | null;
  /** The duration from the stored start; throws INVALID_ARGUMENT when the completion is before it. */
  durationOf: (startedAt: Date) => number;
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

/**
 * GetSegmentProvenance in one statement (one round trip): the segment, each of its receipts newest first, and each
 * receipt's inputs as one JSON array from the receipt_inputs primary key. No row: no such segment. $1: segment id.
 */
export const SEGMENT_HISTORY_SQL = `
  SELECT ${RECEIPT_COLUMNS}, inp.inputs
    FROM receipts.segments s
    LEFT JOIN receipts.generation_receipts r ON r.segment_id = s.segment_id
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object('role', i.role, 'position', i.position, 'asset_id', i.asset_id,
                                        'content_hash', i.content_hash, 'version', i.version, 'weight', i.weight)
                      ORDER BY i.role, i.position) AS inputs
        FROM receipts.receipt_inputs i WHERE i.receipt_id = r.receipt_id) inp ON r.receipt_id IS NOT NULL
   WHERE s.segment_id = $1
   ORDER BY r.seq DESC`;

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

  /** Creates one receipt (a batch of one); see {@link createMany}. */
  async create(draft: ReceiptDraft, requestId?: string): Promise<CreateResult> {
    const [result] = await this.createMany([draft], requestId);
    return result!;
  }

  /**
   * Creates receipts (and their segments on first sight) in one transaction, idempotent per key; emits one
   * provenance.receipt.created per new receipt. Set-based: a handful of statements whatever the batch size (segments,
   * receipts and inputs each one multi-row INSERT from arrays, one multi-row outbox insert). The happy path inserts
   * first and builds the results from what it wrote: no lookup before, no re-read after. Any rejection (key reused
   * with other content, a segment moving, an unknown superseded segment) rolls the whole batch back; its message and
   * field name the entry through `entry(i)` ("" for a single call, "receipts[i]." for a batch). Keys must be distinct
   * within a batch (the caller checks).
   */
  async createMany(drafts: ReceiptDraft[], requestId?: string, entry: (i: number) => string = () => ""): Promise<CreateResult[]> {
    if (drafts.length === 0) return [];
    return this.ds.transaction(async (m) => {
      await useKeyedPlans(m);
      await this.checkSupersedes(m, drafts, entry);
      const segs = drafts.map((d) => d.segment);
      await m.query(
        `INSERT INTO receipts.segments (segment_id, scene_id, project_id, character_name, sequence_index, supersedes_segment_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[]) AS s(id)
          ORDER BY s.id
         ON CONFLICT (segment_id) DO NOTHING`,
        [
          segs.map((s) => s.segmentId), segs.map((s) => s.sceneId), segs.map((s) => s.projectId),
          segs.map((s) => s.characterName), segs.map((s) => s.sequenceIndex), segs.map((s) => s.supersedesSegmentId),
        ],
      );
      // Time-ordered ids (UUIDv7): new receipts and their inputs append to the primary keys' right edge.
      const receiptIds = drafts.map(() => uuidv7());
      const inserted = rowsOf(
        await m.query(
          `INSERT INTO receipts.generation_receipts (
             receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale, seed, steps, sampler,
             resolution_width, resolution_height, additional_params, inputs_hash, generation_started_at,
             regeneration_job_id, supersedes_segment_id, idempotency_key, request_fingerprint)
           SELECT d.receipt_id, d.segment_id, d.workflow_version, d.prompt_text, d.negative_prompt, d.cfg_scale,
                  d.seed::numeric, d.steps, d.sampler, d.resolution_width, d.resolution_height, d.additional_params::jsonb,
                  d.inputs_hash, d.generation_started_at, d.regeneration_job_id, d.supersedes_segment_id, d.idempotency_key,
                  d.request_fingerprint
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::double precision[], $7::text[],
                         $8::integer[], $9::text[], $10::integer[], $11::integer[], $12::text[], $13::text[],
                         $14::timestamptz[], $15::text[], $16::text[], $17::text[], $18::text[])
                  WITH ORDINALITY AS d(receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale,
                    seed, steps, sampler, resolution_width, resolution_height, additional_params, inputs_hash,
                    generation_started_at, regeneration_job_id, supersedes_segment_id, idempotency_key,
                    request_fingerprint, n)
            ORDER BY d.n
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING receipt_id, seq, created_at`,
          [
            receiptIds, segs.map((s) => s.segmentId), drafts.map((d) => d.workflowVersion), drafts.map((d) => d.promptText),
            drafts.map((d) => d.negativePrompt), drafts.map((d) => d.cfgScale), drafts.map((d) => d.seed.toString()),
            drafts.map((d) => d.steps), drafts.map((d) => d.sampler), drafts.map((d) => d.resolutionWidth),
            drafts.map((d) => d.resolutionHeight), drafts.map((d) => JSON.stringify(d.additionalParams)),
            drafts.map((d) => d.inputsHash), drafts.map((d) => d.generationStartedAt), drafts.map((d) => d.regenerationJobId),
            drafts.map((d) => d.supersedesSegmentId), drafts.map((d) => d.idempotencyKey), drafts.map((d) => d.requestFingerprint),
          ],
        ),
      );
      const stored = new Map(inserted.map((r) => [r.receipt_id as string, r]));
      const fresh = drafts.flatMap((draft, i) => {
        const row = stored.get(receiptIds[i]!);
        return row ? [{ draft, i, receiptId: receiptIds[i]!, seq: row.seq as string, createdAt: row.created_at as Date }] : [];
      });
      // Keys used before (retries, or conflicting reuses): answer with those receipts or ALREADY_EXISTS.
      const earlier = await this.byIdempotencyKeys(
        m,
        drafts.filter((_, i) => !stored.has(receiptIds[i]!)),
      );
      const placed = await this.placedSegments(m, fresh.map((f) => ({ draft: f.draft, i: f.i })), entry);
      const inputs = fresh.flatMap((f) => f.draft.inputs.map((input) => ({ ...input, receiptId: f.receiptId, seq: f.seq })));
      if (inputs.length > 0) {
        await m.query(
          `INSERT INTO receipts.receipt_inputs (receipt_id, receipt_seq, role, position, asset_id, content_hash, version, weight)
           SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::smallint[], $5::text[], $6::text[], $7::integer[],
                                $8::double precision[])`,
          [
            inputs.map((i) => i.receiptId), inputs.map((i) => i.seq), inputs.map((i) => i.role), inputs.map((i) => i.position),
            inputs.map((i) => i.assetId), inputs.map((i) => i.contentHash), inputs.map((i) => i.version), inputs.map((i) => i.weight),
          ],
        );
      }
      const created = new Map<number, ReceiptRecord>();
      for (const f of fresh) {
        const { segment: _segmentDraft, ...fields } = f.draft;
        created.set(f.i, {
          ...fields,
          receiptId: f.receiptId,
          seq: BigInt(f.seq),
          segment: placed.get(f.draft.segment.segmentId)!,
          status: "RUNNING",
          generationCompletedAt: null,
          generationDurationMs: null,
          outputHash: null,
          createdAt: f.createdAt,
        });
      }
      await enqueueEvents(m, {
        schema: RECEIPTS_SCHEMA,
        subject: "provenance.receipt.created",
        eventSchema: ReceiptCreatedSchema,
        events: [...created.values()].map((receipt) => ({ receipt: toReceiptMessage(receipt) })),
        requestId,
      });
      return drafts.map((draft, i) => {
        const receipt = created.get(i);
        if (receipt) return { receipt, created: true };
        const found = earlier.get(draft.idempotencyKey);
        if (!found) {
          throw failedPrecondition(`${entry(i)}idempotency_key "${draft.idempotencyKey}" is being used by a concurrent call`);
        }
        if (found.requestFingerprint !== draft.requestFingerprint) {
          throw alreadyExists(
            `${entry(i)}idempotency_key "${draft.idempotencyKey}" was already used for receipt ${found.receiptId} with different content`,
          );
        }
        return { receipt: found, created: false };
      });
    });
  }

  private async byIdempotencyKeys(m: EntityManager, drafts: ReceiptDraft[]): Promise<Map<string, ReceiptRecord>> {
    if (drafts.length === 0) return new Map();
    const found = await this.load(m, "r.idempotency_key = ANY($1::text[])", [drafts.map((d) => d.idempotencyKey)]);
    return new Map(found.map((r) => [r.idempotencyKey, r]));
  }

  /** A superseded segment must exist (stored, or new in this batch), be another segment, and be in the same project. */
  private async checkSupersedes(m: EntityManager, drafts: ReceiptDraft[], entry: (i: number) => string): Promise<void> {
    const wanted = drafts.flatMap((d, i) => (d.segment.supersedesSegmentId === null ? [] : [{ s: d.segment, i }]));
    if (wanted.length === 0) return;
    for (const { s, i } of wanted) {
      if (s.supersedesSegmentId === s.segmentId) {
        throw invalidArgument(`${entry(i)}supersedes_segment_id`, "must name another segment than segment_id");
      }
    }
    const rows = rowsOf(
      await m.query(`SELECT segment_id, project_id FROM receipts.segments WHERE segment_id = ANY($1::text[])`, [
        wanted.map(({ s }) => s.supersedesSegmentId),
      ]),
    );
    const projectOf = new Map(drafts.map((d) => [d.segment.segmentId, d.segment.projectId]));
    for (const r of rows) projectOf.set(r.segment_id as string, r.project_id as string);
    for (const { s, i } of wanted) {
      const project = projectOf.get(s.supersedesSegmentId!);
      if (project === undefined) {
        throw invalidArgument(`${entry(i)}supersedes_segment_id`, `segment "${s.supersedesSegmentId}" does not exist`);
      }
      if (project !== s.projectId) {
        throw invalidArgument(`${entry(i)}supersedes_segment_id`, `segment "${s.supersedesSegmentId}" belongs to another project`);
      }
    }
  }

  /** The new receipts' segments as stored, by id; a segment never moves to another scene or project. */
  private async placedSegments(
    m: EntityManager,
    fresh: { draft: ReceiptDraft; i: number }[],
    entry: (i: number) => string,
  ): Promise<Map<string, SegmentRecord>> {
    if (fresh.length === 0) return new Map();
    const rows = rowsOf(
      await m.query(
        `SELECT segment_id, scene_id, project_id, character_name, sequence_index, supersedes_segment_id,
                superseded_by_segment_id, created_at AS segment_created_at
           FROM receipts.segments WHERE segment_id = ANY($1::text[])`,
        [[...new Set(fresh.map((f) => f.draft.segment.segmentId))]],
      ),
    );
    const byId = new Map(rows.map((r) => [r.segment_id as string, r]));
    for (const { draft, i } of fresh) {
      const s = draft.segment;
      const row = byId.get(s.segmentId)!;
      if (row.project_id !== s.projectId) {
        throw failedPrecondition(
          `${entry(i)}project_id: segment "${s.segmentId}" belongs to project "${String(row.project_id)}"; a segment cannot move to another project`,
        );
      }
      if (row.scene_id !== s.sceneId) {
        throw failedPrecondition(
          `${entry(i)}scene_id: segment "${s.segmentId}" belongs to scene "${String(row.scene_id)}"; a segment cannot move to another scene`,
        );
      }
    }
    return new Map([...byId].map(([id, row]) => [id, segmentOf(row)]));
  }

  /** Completes one receipt (a batch of one); see {@link completeMany}. */
  async complete(completion: Completion, requestId?: string): Promise<ReceiptRecord> {
    const [receipt] = await this.completeMany([completion], requestId);
    return receipt!;
  }

  /**
   * Sets receipts' completion fields once, in one transaction (all or none); a SUCCEEDED receipt that supersedes a
   * segment marks it superseded in the same transaction. Emits one provenance.receipt.completed per receipt. The
   * receipts are locked in id order (so concurrent batches cannot deadlock) and read once; the completed records are
   * built from that read, not read again. Receipt ids must be distinct within a batch (the caller checks).
   */
  async completeMany(completions: Completion[], requestId?: string, entry: (i: number) => string = () => ""): Promise<ReceiptRecord[]> {
    if (completions.length === 0) return [];
    completions.forEach((c) => {
      if (!isReceiptId(c.receiptId)) throw notFound("receipt", c.receiptId);
    });
    return this.ds.transaction(async (m) => {
      await useKeyedPlans(m);
      const locked = await this.load(
        m,
        "r.receipt_id = ANY($1::uuid[])",
        [completions.map((c) => c.receiptId)],
        "r.receipt_id",
        undefined,
        true,
      );
      const byId = new Map(locked.map((r) => [r.receiptId, r]));
      const done = completions.map((c, i) => {
        const current = byId.get(c.receiptId);
        if (!current) throw notFound("receipt", c.receiptId);
        if (current.status !== "RUNNING") {
          throw failedPrecondition(`${entry(i)}receipt ${c.receiptId} is already completed (${current.status}); receipts are immutable`);
        }
        const durationMs = withFieldPrefix(entry(i), () => c.durationOf(current.generationStartedAt));
        const receipt: ReceiptRecord = {
          ...current,
          status: c.status,
          generationCompletedAt: c.completedAt,
          generationDurationMs: durationMs,
          outputHash: c.outputHash,
        };
        return receipt;
      });
      await m.query(
        `UPDATE receipts.generation_receipts r
            SET status = c.status, generation_completed_at = c.completed_at, generation_duration_ms = c.duration_ms,
                output_hash = c.output_hash
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::text[])
                AS c(receipt_id, status, completed_at, duration_ms, output_hash)
          WHERE r.receipt_id = c.receipt_id`,
        [
          done.map((r) => r.receiptId), done.map((r) => r.status), done.map((r) => r.generationCompletedAt),
          done.map((r) => r.generationDurationMs), done.map((r) => r.outputHash),
        ],
      );
      // A segment is superseded once: by the first SUCCEEDED receipt of the batch that names it.
      const superseding = new Map<string, string>();
      for (const r of done) {
        if (r.status === "SUCCEEDED" && r.supersedesSegmentId && !superseding.has(r.supersedesSegmentId)) {
          superseding.set(r.supersedesSegmentId, r.receiptId);
        }
      }
      let marked = new Set<string>();
      if (superseding.size > 0) {
        const newSegmentOf = new Map(done.map((r) => [r.receiptId, r.segment.segmentId]));
        const olds = [...superseding.keys()];
        const rows = rowsOf(
          await m.query(
            `UPDATE receipts.segments s SET superseded_by_segment_id = u.new_segment, superseded_at = now()
               FROM unnest($1::text[], $2::text[]) AS u(old_segment, new_segment)
              WHERE s.segment_id = u.old_segment AND s.superseded_by_segment_id IS NULL
              RETURNING s.segment_id`,
            [olds, olds.map((old) => newSegmentOf.get(superseding.get(old)!)!)],
          ),
        );
        marked = new Set(rows.map((r) => r.segment_id as string));
      }
      await enqueueEvents(m, {
        schema: RECEIPTS_SCHEMA,
        subject: "provenance.receipt.completed",
        eventSchema: ReceiptCompletedSchema,
        events: done.map((receipt) => {
          const old = receipt.supersedesSegmentId;
          const superseded = old && marked.has(old) && superseding.get(old) === receipt.receiptId ? old : "";
          return { receipt: toReceiptMessage(receipt), supersededSegmentId: superseded };
        }),
        requestId,
      });
      return done;
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
    const rows = (await this.ds.query(SEGMENT_HISTORY_SQL, [segmentId])) as Row[];
    if (rows.length === 0) return undefined;
    const receipts = rows.filter((r) => r.receipt_id !== null).map((r) => receiptOf(r, ((r.inputs as Row[] | null) ?? []).map(inputOf)));
    return { segment: segmentOf(rows[0]!), receipts };
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
