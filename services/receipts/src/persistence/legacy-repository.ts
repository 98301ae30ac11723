/**
 * Rows of LEGACY receipts (ImportLegacySegments) in receipts.generation_receipts: written in the transaction the
 * caller passes (`m`), deciding nothing — the rules are in domain/legacy-segment.ts, the transaction in app/.
 * Their segments and inputs are written as every receipt's are (segment-repository.ts, receipt-repository.ts).
 */
import { v7 as uuidv7 } from "uuid";
import type { EntityManager } from "typeorm";
import { rowsOf, type Row } from "@provenance/shared";
import type { LegacyDraft } from "../domain/legacy-segment.js";
import type { StoredReceiptKey } from "../domain/receipt-record.js";
import type { NewInputRow } from "./receipt-repository.js";
import { INSERT_INPUTS_SQL, INSERT_LEGACY_RECEIPTS_SQL, RECORDED_SEGMENTS_SQL } from "./statements.js";

/**
 * Inserts LEGACY receipts imported by `recordedBy` in one statement, in order, each under a new UUIDv7; a draft whose
 * idempotency key is already taken is skipped. Returns, per draft, what storage assigned, or undefined where skipped.
 */
export async function insertLegacyReceipts(m: EntityManager, drafts: readonly LegacyDraft[], recordedBy: string): Promise<(StoredReceiptKey | undefined)[]> {
  const receiptIds = drafts.map(() => uuidv7());
  const inserted = rowsOf(
    await m.query(INSERT_LEGACY_RECEIPTS_SQL, [
      receiptIds, drafts.map((d) => d.segment.segmentId), drafts.map((d) => d.workflowVersion), drafts.map((d) => d.promptText),
      drafts.map((d) => d.negativePrompt), drafts.map((d) => d.cfgScale), drafts.map((d) => d.seed.toString()),
      drafts.map((d) => d.steps), drafts.map((d) => d.sampler), drafts.map((d) => d.resolutionWidth),
      drafts.map((d) => d.resolutionHeight), drafts.map((d) => JSON.stringify(d.additionalParams)),
      drafts.map((d) => d.inputsHash), drafts.map((d) => d.generatedAt), drafts.map((d) => d.idempotencyKey),
      drafts.map((d) => d.requestFingerprint), drafts.map((d) => d.outputHash), drafts.map((d) => JSON.stringify(d.missingFields)),
      recordedBy,
    ]),
  );
  const stored = new Map(inserted.map((r) => [r.receipt_id as string, r]));
  return receiptIds.map((receiptId) => {
    const row = stored.get(receiptId);
    return row ? { receiptId, seq: BigInt(row.seq as string), createdAt: row.created_at as Date } : undefined;
  });
}

/** Which of these segments have receipts other than LEGACY ones. */
export async function recordedSegments(m: EntityManager, segmentIds: readonly string[]): Promise<Set<string>> {
  if (segmentIds.length === 0) return new Set();
  const rows: Row[] = await m.query(RECORDED_SEGMENTS_SQL, [segmentIds]);
  return new Set(rows.map((r) => r.segment_id as string));
}

/** Inserts the inputs of new LEGACY receipts in one statement; an unknown content hash ("") is stored as NULL. */
export async function insertLegacyInputs(m: EntityManager, inputs: readonly NewInputRow[]): Promise<void> {
  if (inputs.length === 0) return;
  await m.query(INSERT_INPUTS_SQL, [
    inputs.map((i) => i.receiptId), inputs.map((i) => i.receiptSeq.toString()), inputs.map((i) => i.role), inputs.map((i) => i.position),
    inputs.map((i) => i.assetId), inputs.map((i) => (i.contentHash === "" ? null : i.contentHash)), inputs.map((i) => i.version),
    inputs.map((i) => i.weight),
  ]);
}
