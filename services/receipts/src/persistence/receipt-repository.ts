/**
 * Rows of receipts.generation_receipts and receipts.receipt_inputs: reads and writes them, in the transaction the
 * caller passes (`m`), and decides nothing — the rules are in domain/, the transactions in app/.
 */
import { v7 as uuidv7 } from "uuid";
import type { EntityManager } from "typeorm";
import { rowsOf, type Row } from "@provenance/shared";
import type { InputRow, ReceiptDraft } from "../domain/new-receipt.js";
import type { ReceiptRecord, SegmentRecord, StoredReceiptKey } from "../domain/receipt-record.js";
import { inputOf, receiptOf, segmentOf } from "./row-records.js";
import {
  INSERT_INPUTS_SQL,
  INSERT_RECEIPTS_SQL,
  LOCK_RECEIPTS_SQL,
  RECEIPT_BY_ID_SQL,
  RECEIPT_INPUTS_SQL,
  RECEIPT_PROJECTS_SQL,
  RECEIPTS_BY_IDEMPOTENCY_KEYS_SQL,
  RECEIPTS_BY_IDS_SQL,
  RECEIPTS_BY_INPUTS_HASH_AFTER_SQL,
  RECEIPTS_BY_INPUTS_HASH_SQL,
  SEGMENT_HISTORY_SQL,
  SET_COMPLETIONS_SQL,
  receiptsByInputsHashInProjectsSql,
} from "./statements.js";

/**
 * GetSegmentProvenance's statement, also exported here for builds of the bench that import it from this module's
 * dist file; new code imports it from `@provenance/receipts/statements`.
 */
export { SEGMENT_HISTORY_SQL };

/** Receipts (with their inputs) for the rows of a receipt-columns statement, in the statement's order. */
async function withInputs(m: EntityManager, rows: Row[]): Promise<ReceiptRecord[]> {
  if (rows.length === 0) return [];
  const inputRows: Row[] = await m.query(RECEIPT_INPUTS_SQL, [rows.map((r) => r.receipt_id)]);
  const byReceipt = new Map<string, InputRow[]>();
  for (const ir of inputRows) {
    const list = byReceipt.get(ir.receipt_id as string) ?? [];
    list.push(inputOf(ir));
    byReceipt.set(ir.receipt_id as string, list);
  }
  return rows.map((r) => receiptOf(r, byReceipt.get(r.receipt_id as string) ?? []));
}

/**
 * Inserts receipts recorded by `recordedBy` (one subject for all, or one per draft) in one statement, in order, each
 * under a new time-ordered id (UUIDv7, so receipts and their inputs append to the primary keys' right edge). A draft
 * whose idempotency key is already taken is skipped. Returns, per draft, what storage assigned, or undefined where it
 * was skipped.
 */
export async function insertReceipts(
  m: EntityManager,
  drafts: readonly ReceiptDraft[],
  recordedBy: string | readonly string[],
): Promise<(StoredReceiptKey | undefined)[]> {
  const receiptIds = drafts.map(() => uuidv7());
  const inserted = rowsOf(
    await m.query(INSERT_RECEIPTS_SQL, [
      receiptIds, drafts.map((d) => d.segment.segmentId), drafts.map((d) => d.workflowVersion), drafts.map((d) => d.promptText),
      drafts.map((d) => d.negativePrompt), drafts.map((d) => d.cfgScale), drafts.map((d) => d.seed.toString()),
      drafts.map((d) => d.steps), drafts.map((d) => d.sampler), drafts.map((d) => d.resolutionWidth),
      drafts.map((d) => d.resolutionHeight), drafts.map((d) => JSON.stringify(d.additionalParams)),
      drafts.map((d) => d.inputsHash), drafts.map((d) => d.generationStartedAt), drafts.map((d) => d.regenerationJobId),
      drafts.map((d) => d.supersedesSegmentId), drafts.map((d) => d.idempotencyKey), drafts.map((d) => d.requestFingerprint),
      typeof recordedBy === "string" ? drafts.map(() => recordedBy) : recordedBy, drafts.map((d) => d.reproductionOfReceiptId),
    ]),
  );
  const stored = new Map(inserted.map((r) => [r.receipt_id as string, r]));
  return receiptIds.map((receiptId) => {
    const row = stored.get(receiptId);
    return row ? { receiptId, seq: BigInt(row.seq as string), createdAt: row.created_at as Date } : undefined;
  });
}

/** One input of a receipt just inserted. */
export interface NewInputRow extends InputRow {
  receiptId: string;
  receiptSeq: bigint;
}

/** Inserts the inputs of new receipts in one statement. */
export async function insertInputs(m: EntityManager, inputs: readonly NewInputRow[]): Promise<void> {
  if (inputs.length === 0) return;
  await m.query(INSERT_INPUTS_SQL, [
    inputs.map((i) => i.receiptId), inputs.map((i) => i.receiptSeq.toString()), inputs.map((i) => i.role), inputs.map((i) => i.position),
    inputs.map((i) => i.assetId), inputs.map((i) => i.contentHash), inputs.map((i) => i.version), inputs.map((i) => i.weight),
  ]);
}

/** The stored receipts holding these idempotency keys. */
export async function receiptsByIdempotencyKeys(m: EntityManager, keys: readonly string[]): Promise<ReceiptRecord[]> {
  if (keys.length === 0) return [];
  return withInputs(m, await m.query(RECEIPTS_BY_IDEMPOTENCY_KEYS_SQL, [keys]));
}

/** The stored receipts with these ids (UUIDs), in no particular order, without locking them. */
export async function receiptsByIds(m: EntityManager, receiptIds: readonly string[]): Promise<ReceiptRecord[]> {
  if (receiptIds.length === 0) return [];
  return withInputs(m, await m.query(RECEIPTS_BY_IDS_SQL, [receiptIds]));
}

/** The stored receipts with these ids, locked for update (in id order) until the transaction ends. */
export async function lockReceipts(m: EntityManager, receiptIds: readonly string[]): Promise<ReceiptRecord[]> {
  if (receiptIds.length === 0) return [];
  return withInputs(m, await m.query(LOCK_RECEIPTS_SQL, [receiptIds]));
}

/** Writes the completion fields of receipts, in one statement. */
export async function setCompletions(m: EntityManager, completed: readonly ReceiptRecord[]): Promise<void> {
  if (completed.length === 0) return;
  await m.query(SET_COMPLETIONS_SQL, [
    completed.map((r) => r.receiptId), completed.map((r) => r.status), completed.map((r) => r.generationCompletedAt),
    completed.map((r) => r.generationDurationMs), completed.map((r) => r.outputHash), completed.map((r) => r.completedBy),
  ]);
}

/** The project of each of these receipts (UUIDs) that is stored, by receipt id. */
export async function receiptProjects(m: EntityManager, receiptIds: readonly string[]): Promise<Map<string, string>> {
  if (receiptIds.length === 0) return new Map();
  const rows: Row[] = await m.query(RECEIPT_PROJECTS_SQL, [receiptIds]);
  return new Map(rows.map((r) => [r.receipt_id as string, r.project_id as string]));
}

/** One stored receipt by id (a UUID); undefined when there is none. */
export async function receiptById(m: EntityManager, receiptId: string): Promise<ReceiptRecord | undefined> {
  const [r] = await withInputs(m, await m.query(RECEIPT_BY_ID_SQL, [receiptId]));
  return r;
}

/**
 * Up to `limit` receipts with one inputs hash, newest first, before the receipt with seq `beforeSeq` when given; only
 * of segments in `projects` when given.
 */
export async function receiptsByInputsHash(
  m: EntityManager,
  inputsHash: string,
  limit: number,
  beforeSeq?: bigint,
  projects?: readonly string[],
): Promise<ReceiptRecord[]> {
  let rows: Row[];
  if (projects !== undefined) {
    const params: unknown[] = [inputsHash, limit, projects];
    if (beforeSeq !== undefined) params.push(beforeSeq.toString());
    rows = await m.query(receiptsByInputsHashInProjectsSql(beforeSeq !== undefined), params);
  } else {
    rows =
      beforeSeq === undefined
        ? await m.query(RECEIPTS_BY_INPUTS_HASH_SQL, [inputsHash, limit])
        : await m.query(RECEIPTS_BY_INPUTS_HASH_AFTER_SQL, [inputsHash, limit, beforeSeq.toString()]);
  }
  return withInputs(m, rows);
}

/** A segment and all its receipts (with inputs), newest first, in one statement; undefined when the segment is unknown. */
export async function segmentHistory(
  m: EntityManager,
  segmentId: string,
): Promise<{ segment: SegmentRecord; receipts: ReceiptRecord[] } | undefined> {
  const rows: Row[] = await m.query(SEGMENT_HISTORY_SQL, [segmentId]);
  if (rows.length === 0) return undefined;
  const receipts = rows.filter((r) => r.receipt_id !== null).map((r) => receiptOf(r, ((r.inputs as Row[] | null) ?? []).map(inputOf)));
  return { segment: segmentOf(rows[0]!), receipts };
}
